"""Idempotency keys: the first answer to a creation request, kept for its retries."""

import hashlib
import json

from sqlalchemy import text

from app.errors import IdempotencyKeyReused
from app.extensions import db

CLAIM_SQL = text(
    """
    INSERT INTO idempotency_keys (key, scope, fingerprint)
    VALUES (:key, :scope, :fingerprint)
    ON CONFLICT DO NOTHING
    RETURNING key
    """
)
STORED_SQL = text("SELECT fingerprint, result FROM idempotency_keys WHERE key = :key AND scope = :scope")
REMEMBER_SQL = text(
    "UPDATE idempotency_keys SET result = CAST(:result AS jsonb) WHERE key = :key AND scope = :scope"
)


def fingerprint(request):
    """Return a stable digest of a request's meaningful fields."""
    return hashlib.sha256(json.dumps(request, sort_keys=True, default=str).encode()).hexdigest()


def claim(*, key, scope, request):
    """Claim `key` in the current transaction; return the stored result if it was used before.

    A concurrent request with the same key waits on the key's row until the first one
    commits (and then gets its result) or rolls back (and then claims the key itself).

    :raises IdempotencyKeyReused: the key was used for a different request.
    """
    digest = fingerprint(request)
    params = {"key": key, "scope": scope}
    if db.session.execute(CLAIM_SQL, params | {"fingerprint": digest}).first():
        return None
    stored = db.session.execute(STORED_SQL, params).one()
    if stored.fingerprint != digest:
        raise IdempotencyKeyReused("This Idempotency-Key was already used with a different request body.")
    return stored.result


def remember(*, key, scope, result):
    """Store the result of the request that claimed `key`."""
    db.session.execute(REMEMBER_SQL, {"key": key, "scope": scope, "result": json.dumps(result)})
