"""The ticket domain: every rule about tickets lives in these service functions.

The HTTP views and the message consumers call them and nothing else; each function
owns its transaction.
"""
