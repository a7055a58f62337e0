"""Adjacent seats: find the best free block of seats side by side in one row, and hold it.

Two steps, neither of which waits for another buyer.

1. **Find blocks (gaps and islands).** Number the free seats of each row in seat order:
   `seat_position - row_number()` is the same for every seat of one run of consecutive
   free seats (an island) and changes at every gap, so grouping by it gives each island's
   first and last position. An island of at least `count` seats holds a block starting at
   every position from its first to `last - count + 1`. The blocks are ranked front rows
   first, then by how far the block's middle is from the row's middle (`|2·start + count
   - 1 - (row_seats + 1)|`, in half seats), and the best few are returned. This reads a
   snapshot: it does not see what other buyers are doing right now.

2. **Take one block, all or nothing, skipping locked seats.** In a savepoint, lock the
   block's seats that are still free `FOR UPDATE SKIP LOCKED`. If all `count` come back,
   hold them. If another buyer took or is taking a seat of the block (it is locked, so
   skipped, or no longer free once its commit is seen), fewer come back: rolling back to
   the savepoint lets go of the seats this attempt did lock at once, the seats that did
   not come back are noted as taken (later blocks over them are not tried), and the next
   block is tried. A buyer therefore never waits on another's block and never keeps
   seats it does not hold, so no two buyers wait on each other: no deadlock. Two buyers
   can never hold overlapping blocks: a seat is held by the one transaction that locked
   it, and the other skipped it.

When every block of the snapshot is gone, the blocks are found again from a new
snapshot (other buyers' holds are committed by then), a bounded number of times; when no
block is left, the hold is refused. Seats whose hold has run out count as free in a
second search, made only when the first (Available seats, through ix_tickets_free_seats)
finds no block.
"""

from sqlalchemy import text

from app.errors import HoldUnavailable
from app.extensions import db
from app.models import TicketStatus
from app.tickets.moves import move_tickets
from app.transaction import transaction

CANDIDATES = 64  # blocks tried from one snapshot
SEARCHES = 4  # snapshots taken before giving up on a busy event

AVAILABLE = "status = 'Available'"
FREE = "(status = 'Available' OR (status = 'Held' AND held_until <= now()))"

FIND_TEMPLATE = """
    WITH free AS (
        SELECT row_rank, seat_position, row_seats,
               seat_position - row_number() OVER (PARTITION BY row_rank ORDER BY seat_position) AS island
          FROM tickets
         WHERE event_id = :event_id AND row_rank IS NOT NULL AND {free}
           AND (CAST(:category AS text) IS NULL OR category = :category)
    ), islands AS (
        SELECT row_rank, min(seat_position) AS first, max(seat_position) AS last, min(row_seats) AS row_seats
          FROM free
         GROUP BY row_rank, island
        HAVING count(*) >= :count
    )
    SELECT row_rank, start
      FROM islands, generate_series(first, last - :count + 1) AS start
     ORDER BY row_rank, abs(2 * start + :count - 1 - (row_seats + 1)), start
     LIMIT :candidates
"""
FIND_AVAILABLE_SQL = text(FIND_TEMPLATE.format(free=AVAILABLE))
FIND_FREE_SQL = text(FIND_TEMPLATE.format(free=FREE))

LOCK_BLOCK_SQL = text(
    f"""
    SELECT id, seat_position FROM tickets
     WHERE event_id = :event_id AND row_rank = :row_rank
       AND seat_position BETWEEN :start AND :start + :count - 1
       AND {FREE}
       AND (CAST(:category AS text) IS NULL OR category = :category)
     ORDER BY seat_position
       FOR UPDATE SKIP LOCKED
    """
)


class _BlockTaken(Exception):
    """Another buyer has a seat of the block: undo this attempt's locks."""


def _blocks(event_id, count, category):
    """Yield the best blocks `(row_rank, start)` of each search, Available seats first, then expired holds too."""
    params = {"event_id": event_id, "count": count, "category": category, "candidates": CANDIDATES}
    for _ in range(SEARCHES):
        found = db.session.execute(FIND_AVAILABLE_SQL, params).all()
        if not found:
            found = db.session.execute(FIND_FREE_SQL, params).all()
        if not found:
            return
        yield from found


def _try(block, event_id, count, category, booking_id, hold_seconds, customer_id):
    """Hold one block, or nothing; return `(moved, positions of the block found taken)`."""
    params = {"event_id": event_id, "row_rank": block.row_rank, "start": block.start, "count": count,
              "category": category}
    try:
        with transaction():
            locked = db.session.execute(LOCK_BLOCK_SQL, params).all()
            if len(locked) < count:
                taken = set(range(block.start, block.start + count)) - {row.seat_position for row in locked}
                raise _BlockTaken(taken)
            return move_tickets([row.id for row in locked], to_status=TicketStatus.HELD, booking_id=booking_id,
                                keep_owner=False, hold_seconds=hold_seconds, customer_id=customer_id), set()
    except _BlockTaken as short:
        return {}, short.args[0]


def hold_adjacent(*, event_id, count, category, booking_id, hold_seconds, customer_id, available):
    """Hold the best free block of `count` adjacent seats (of the category); return them as `move_tickets` does.

    :param available: a function returning how many seats are free, for the refusal.
    :raises HoldUnavailable: no block of `count` seats side by side is free.
    """
    taken = set()
    for block in _blocks(event_id, count, category):
        if any((block.row_rank, position) in taken for position in range(block.start, block.start + count)):
            continue
        moved, lost = _try(block, event_id, count, category, booking_id, hold_seconds, customer_id)
        if moved:
            return moved
        taken |= {(block.row_rank, position) for position in lost}
    kind = f" of category {category}" if category else ""
    raise HoldUnavailable(f"No {count} adjacent seats{kind} are free in one row of event {event_id}.",
                          requested=count, available=available())
