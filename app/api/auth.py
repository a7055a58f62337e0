"""Bearer-token auth for mutating requests, when `API_TOKENS` is set."""

import hashlib
import hmac

from flask import current_app, request
from flask_smorest import abort

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _presented_token():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _is_valid(token):
    """Compare with every configured token in constant time (no early exit on a match)."""
    matches = [hmac.compare_digest(token.encode(), known.encode()) for known in current_app.config["API_TOKENS"]]
    return any(matches)


def require_token():
    """Refuse a mutating request without a valid bearer token (a `before_request` hook)."""
    if not current_app.config["API_TOKENS"] or request.method in SAFE_METHODS:
        return
    token = _presented_token()
    if not token or not _is_valid(token):
        abort(401, message="A valid bearer token is required: Authorization: Bearer <token>.",
              headers={"WWW-Authenticate": 'Bearer realm="tickets"'})


def client_identity():
    """Return who is asking, for rate limits: a digest of a valid token, else the client address.

    A token counts only when it is one of `API_TOKENS`: made-up tokens must not buy a
    fresh allowance each.
    """
    token = _presented_token()
    if token and current_app.config["API_TOKENS"] and _is_valid(token):
        return "token:" + hashlib.sha256(token.encode()).hexdigest()[:16]
    return "addr:" + (request.remote_addr or "unknown")
