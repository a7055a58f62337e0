"""What the API tests share: paths, the lifecycle table, error checks, direct reads of the test database."""

from sqlalchemy import text

from app.extensions import db

BASE = "/api/Ticket"
STATUSES = ("Available", "Held", "Reserved", "Sold", "Cancelled")
ALLOWED = {
    "Available": {"Held", "Reserved", "Cancelled"},
    "Held": {"Reserved", "Available", "Cancelled"},
    "Reserved": {"Sold", "Available", "Cancelled"},
    "Sold": set(),
    "Cancelled": set(),
}
# The shortest walk from Available to each status, one PATCH per step.
WALK_FROM_AVAILABLE = {
    "Available": [],
    "Held": ["Held"],
    "Reserved": ["Reserved"],
    "Sold": ["Reserved", "Sold"],
    "Cancelled": ["Cancelled"],
}
TICKET_KEYS = {"ticketId", "eventId", "status", "bookingId", "heldUntil", "createdAt", "updatedAt", "version"}
STATUS_CHANGE_KEYS = {"ticketId", "status", "previousStatus", "updatedAt"}
HISTORY_KEYS = {"fromStatus", "toStatus", "bookingId", "source", "correlationId", "changedAt"}
ERROR_KEYS = {"code", "status", "message", "errors"}
MISSING_ID = "00000000-0000-4000-8000-000000000000"


def assert_error_body(status_code, content_type, body, *fragments):
    """Check one error answer: JSON in flask-smorest's shape, its message holding every fragment."""
    assert content_type.split(";")[0] == "application/json", body
    assert isinstance(body, dict), body
    assert {"code", "status", "message"} <= set(body) <= ERROR_KEYS, body
    assert body["code"] == status_code
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in body["message"]
    for fragment in fragments:
        assert fragment in body["message"], body
    return body


def assert_error(response, code, *fragments):
    """Check that a test-client `response` is the JSON error `code`; return its body."""
    assert response.status_code == code, response.get_data(as_text=True)
    return assert_error_body(code, response.content_type, response.get_json(silent=True), *fragments)


def assert_http_error(response, code, *fragments):
    """Check that a `requests` response is the JSON error `code`; return its body."""
    assert response.status_code == code, response.text
    return assert_error_body(code, response.headers.get("Content-Type", ""), response.json(), *fragments)


class Database:
    """Direct reads and writes on the test database, each in its own app context."""

    def __init__(self, app):
        self.app = app

    def sql(self, statement, **params):
        """Run one SQL statement, commit, and return its rows (None when it returns none)."""
        with self.app.app_context():
            result = db.session.execute(text(statement), params)
            rows = result.all() if result.returns_rows else None
            db.session.commit()
            return rows

    def ticket(self, ticket_id):
        """Return a ticket's row (status, version, booking_id, held_until, updated_at), or None."""
        rows = self.sql(
            "SELECT status, version, booking_id, held_until, updated_at FROM tickets WHERE id = :id",
            id=str(ticket_id),
        )
        return rows[0] if rows else None

    def count(self, table, **where):
        """Count the rows of `table` matching the equality filters in `where`."""
        condition = " AND ".join(f"{column} = :{column}" for column in where) or "TRUE"
        return self.sql(f"SELECT count(*) FROM {table} WHERE {condition}", **where)[0][0]

    def state(self):
        """Return every row of every table, in a stable order, to compare before and after."""
        return {
            "tickets": self.sql("SELECT * FROM tickets ORDER BY id"),
            "ticket_status_changes": self.sql("SELECT * FROM ticket_status_changes ORDER BY id"),
            "idempotency_keys": self.sql("SELECT * FROM idempotency_keys ORDER BY key, scope"),
        }

    def expire_hold(self, ticket_id):
        """Move a Held ticket's deadline into the past, as if its hold had run out."""
        self.sql(
            "UPDATE tickets SET held_until = now() - interval '1 minute' WHERE id = :id AND status = 'Held'",
            id=str(ticket_id),
        )


def patch_status(client, ticket_id, status, headers=None, **extra):
    """PATCH a ticket's status through the API and return the response."""
    return client.patch(f"{BASE}/{ticket_id}/status", json={"status": status} | extra, headers=headers)


def walk_to(client, ticket_id, status, booking_id=None):
    """Move an Available ticket to `status` through the API, one allowed step at a time."""
    for step in WALK_FROM_AVAILABLE[status]:
        extra = {"bookingId": booking_id} if booking_id and step == "Held" else {}
        response = patch_status(client, ticket_id, step, **extra)
        assert response.status_code == 200, response.get_json()


def history(client, ticket_id):
    """Return a ticket's history as the API lists it."""
    response = client.get(f"{BASE}/{ticket_id}/history")
    assert response.status_code == 200, response.get_json()
    return response.get_json()
