"""What the database must show after a run of holds on one event, whoever served them.

- oversold seats: seats promised in 200 answers beyond the seats the database holds;
- tickets held twice: a ticket moved to Held more than once (two bookings got one seat);
- counts add up: the event still has its tickets, every held ticket has one audit row,
  every booking holds the size it asked for and has one TicketsHeld row in the outbox,
  and the bookings in the database match the 200 answers (give or take the requests
  in flight when wrk stopped).
"""

from report import check
from sqlalchemy import text

HELD_TWICE_SQL = """
    SELECT count(*) FROM (
        SELECT c.ticket_id FROM ticket_status_changes c JOIN tickets t ON t.id = c.ticket_id
         WHERE t.event_id = :e AND c.to_status = 'Held'
         GROUP BY c.ticket_id HAVING count(*) > 1) AS twice
"""
COUNTS_SQL = """
    SELECT count(*) AS total,
           count(*) FILTER (WHERE status = 'Held') AS held,
           count(DISTINCT booking_id) FILTER (WHERE status = 'Held') AS bookings,
           (SELECT count(*) FROM ticket_status_changes c JOIN tickets h ON h.id = c.ticket_id
             WHERE h.event_id = :e AND c.to_status = 'Held') AS audited,
           (SELECT count(*) FROM outbox_messages
             WHERE message_type = 'TicketsHeld' AND (body->>'event_id')::bigint = :e) AS announced,
           (SELECT count(*) FROM (SELECT booking_id FROM tickets WHERE event_id = :e AND status = 'Held'
                                   GROUP BY booking_id HAVING count(*) <> :size) AS w) AS wrong_size
      FROM tickets WHERE event_id = :e
"""


def event_counts(engine, event_id, size=2):
    """Return the event's ticket, hold, audit and outbox counts."""
    with engine.connect() as connection:
        counts = dict(connection.execute(text(COUNTS_SQL), {"e": event_id, "size": size}).one()._mapping)
        counts["held_twice"] = connection.execute(text(HELD_TWICE_SQL), {"e": event_id}).scalar_one()
    return counts


def hold_checks(engine, scenario, event_id, *, tickets, ok, in_flight, size=2):
    """Return the invariant rows of a hold run: `ok` 200 answers, at most `in_flight` unanswered."""
    counts = event_counts(engine, event_id, size)
    oversold = max(0, ok * size - counts["held"])
    mismatches = {
        "tickets": counts["total"] - tickets,
        "audit rows - held": counts["audited"] - counts["held"],
        "held - bookings x size": counts["held"] - counts["bookings"] * size,
        "TicketsHeld rows - bookings": counts["announced"] - counts["bookings"],
        "holds of the wrong size": counts["wrong_size"],
        "bookings beyond 200s + in flight": max(0, counts["bookings"] - ok - in_flight),
    }
    wrong = {name: value for name, value in mismatches.items() if value}
    summary = (f"{counts['held']:,} of {tickets:,} held by {counts['bookings']:,} bookings; "
               f"{ok:,} answered 200")
    return [
        check(scenario, "oversold seats", oversold),
        check(scenario, "tickets held twice", counts["held_twice"]),
        check(scenario, "counts add up", len(wrong), notes=[summary, *(f"{k}: {v}" for k, v in wrong.items())]),
    ]


def checks_after_turns(engine, scenario, event_id, *, tickets, result, connections, size=2):
    """Return the invariant rows of a contestant of `load.interleave`, its warm-up included."""
    whole = result["with_warmup"]
    rows = hold_checks(engine, scenario, event_id, tickets=tickets, ok=int(whole["ok"]), size=size,
                       in_flight=len(whole["turns"]) * connections + int(whole["failed"]))
    return [*rows, answers_check(scenario, whole)]


def answers_check(scenario, result):
    """Return a row that passes when wrk saw no answer but 200 or 409, and no socket error."""
    statuses = ", ".join(f"{count} x {code}" for code, count in sorted(result["statuses"].items())) or "none"
    notes = [f"other statuses: {statuses}; {result['socket_errors']:.0f} socket errors"]
    return check(scenario, "answers not 200/409", result["failed"], notes if result["failed"] else [])
