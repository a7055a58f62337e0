"""Take docs/images/seatmap.png: the seat map page of a ~200-seat event with seats in every status.

    CHROMIUM=/usr/bin/chromium .venv/bin/python -m tests.browser.screenshot [PATH]

It makes a scratch database on the local PostgreSQL (TestConfig's, suffixed `_screenshot`),
serves the API on it under gunicorn, gives one event a layout, holds, reserves, sells and
cancels some seats through the API, opens the page in headless Chromium, saves the picture,
and drops the database. PATH defaults to docs/images/seatmap.png.
"""

import os
import sys

from sqlalchemy.engine import make_url

from app.commands import drop_database
from app.extensions import db
from config import TestConfig
from tests.browser.chromium import Chromium, chromium_executable
from tests.browser.seating import hold, layout_seats, put_layout, reserve, seat_map, set_status, ticket_ids
from tests.databases import ROOT, fresh_app
from tests.servers import running_gunicorn

EVENT_ID = 2026
LAYOUT = {
    "currency": "EUR",
    "maxTicketsPerCustomer": 6,
    "categories": {
        "A": {"name": "Stalls front", "price": "120.00"},
        "B": {"name": "Stalls", "price": "80.00"},
        "C": {"name": "Balcony", "price": "45.00"},
    },
    "sections": [
        {"name": "Stalls", "rows": [
            *({"name": row, "seats": 16, "category": "A"} for row in "AB"),
            *({"name": row, "seats": 18, "category": "B"} for row in "CDEF"),
            *({"name": row, "seats": 20, "category": "B"} for row in "GH"),
        ]},
        {"name": "Balcony", "rows": [
            {"name": row, "seats": [f"{row}{number}" for number in range(1, 19)], "category": "C"} for row in "JKL"
        ]},
    ],
}
# Seat positions, in seat map order, put in each status.
HELD = [(8, 9), (40, 44), (150, 153)]
RESERVED = [(20, 24), (100, 106)]
SOLD = [(0, 4), (32, 38), (60, 66), (170, 176)]
CANCELLED = [(90, 92)]


def scratch_database():
    """Create and migrate the scratch database; return its URL."""
    base = make_url(TestConfig.SQLALCHEMY_DATABASE_URI)
    url = base.set(database=f"{base.database}_screenshot").render_as_string(hide_password=False)
    app = fresh_app(url)
    with app.app_context():
        db.engine.dispose()
    return url


def pick(ids, spans):
    return [ticket_id for start, stop in spans for ticket_id in ids[start:stop]]


def fill_the_house(base_url):
    """Give the event its layout and move some of its seats to each status."""
    put_layout(base_url, EVENT_ID, LAYOUT)
    ids = ticket_ids(seat_map(base_url, EVENT_ID))
    for start, stop in HELD:
        hold(base_url, EVENT_ID, ids[start:stop])
    reserve(base_url, EVENT_ID, pick(ids, RESERVED) + pick(ids, SOLD))
    for ticket_id in pick(ids, SOLD):
        set_status(base_url, ticket_id, "Sold")
    for ticket_id in pick(ids, CANCELLED):
        set_status(base_url, ticket_id, "Cancelled")


def take(path):
    """Serve the API on a scratch database, fill an event, and save its seat map page as a PNG at `path`."""
    url = scratch_database()
    try:
        with running_gunicorn(url, workers=1) as (base_url, _process), Chromium(chromium_executable()) as browser:
            fill_the_house(base_url)
            browser.navigate(f"{base_url}/events/{EVENT_ID}/seatmap")
            browser.wait_for(f"document.querySelectorAll('#map .seat').length === {len(layout_seats(LAYOUT))}")
            browser.screenshot(path)
    finally:
        drop_database(url)


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "images", "seatmap.png")
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    take(target)
    print(target)
