"""The HTTP door into the ticket domain: thin flask-smorest views and their schemas."""
