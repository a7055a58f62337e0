"""The live seat map page: plain self-contained HTML that draws the seat map JSON and follows it in place."""

import re

from tests.browser.seating import hold, layout_seats, put_layout, seat_map, ticket_ids
from tests.servers import running_gunicorn

LAYOUT = {
    "currency": "EUR",
    "maxTicketsPerCustomer": 6,
    "categories": {"A": {"name": "Stalls front", "price": "120.00"}, "B": {"price": "80.00"}},
    "sections": [
        {"name": "Stalls", "rows": [
            {"name": "A", "seats": 4, "category": "A"},
            {"name": "B", "seats": 5, "category": "B"},
        ]},
        {"name": "Balcony", "rows": [{"name": "C", "seats": ["L1", "L2", "L3"], "category": "B"}]},
    ],
}
CATEGORY_LABELS = {"A": "A (Stalls front)", "B": "B"}
PRICES = {"A": "120.00", "B": "80.00"}
SEATS = """[...document.querySelectorAll('#map .seat')].map(seat => ({
    ticketId: seat.dataset.ticketId, status: seat.dataset.status, className: seat.getAttribute('class'),
    section: seat.dataset.section, row: seat.dataset.row, seat: seat.dataset.seat, category: seat.dataset.category,
    title: seat.querySelector('title').textContent, fill: getComputedStyle(seat).fill}))"""
TEXTS = "selector => [...document.querySelectorAll(selector)].map(element => element.textContent)"
LEGEND_FILL = "getComputedStyle(document.querySelector('#legend .status-{}')).fill"


def texts(browser, selector):
    return browser.evaluate(f"({TEXTS})({selector!r})")


def seat_selector(ticket_id):
    return f"document.querySelector('#map [data-ticket-id=\"{ticket_id}\"]')"


def open_page(browser, base_url, event_id, seats):
    browser.navigate(f"{base_url}/events/{event_id}/seatmap")
    browser.wait_for(f"document.querySelectorAll('#map .seat').length === {seats}")
    return browser.evaluate(SEATS)


def test_the_page_draws_every_seat_of_the_layout(browser, live_server, event_id):
    put_layout(live_server, event_id, LAYOUT)
    expected = layout_seats(LAYOUT)

    seats = open_page(browser, live_server, event_id, len(expected))

    assert [(seat["section"], seat["row"], seat["seat"], seat["category"]) for seat in seats] == expected
    assert [seat["ticketId"] for seat in seats] == ticket_ids(seat_map(live_server, event_id))
    assert {(seat["status"], seat["className"]) for seat in seats} == {("Available", "seat status-Available")}
    assert [seat["title"] for seat in seats] == [
        f"{section} {row} {label} · {CATEGORY_LABELS[category]} · {PRICES[category]} EUR · Available"
        for section, row, label, category in expected
    ]
    assert texts(browser, "#map .section-title") == ["Stalls", "Balcony"]
    assert texts(browser, "#map .row-label") == ["A", "B", "C"]
    assert texts(browser, "#legend li") == ["Available", "Held", "Reserved", "Sold", "Cancelled"]
    assert browser.evaluate("document.getElementById('counts').textContent") == (
        f"available {len(expected)} · held 0 · reserved 0 · sold 0")
    assert re.fullmatch(r"updated \d\d:\d\d:\d\d", browser.evaluate("document.getElementById('updated').textContent"))


def test_a_hold_shows_on_the_open_page_within_seconds(browser, live_server, event_id):
    put_layout(live_server, event_id, LAYOUT)
    seats = open_page(browser, live_server, event_id, len(layout_seats(LAYOUT)))
    target = seats[5]["ticketId"]
    browser.evaluate("window.openedOnce = true")

    hold(live_server, event_id, [target])

    browser.wait_for(f"{seat_selector(target)}.dataset.status === 'Held'", timeout=10)
    after = {seat["ticketId"]: seat for seat in browser.evaluate(SEATS)}
    assert browser.evaluate("window.openedOnce") is True, "the page reloaded"
    assert after[target]["className"] == "seat status-Held"
    assert after[target]["title"].endswith(" · Held")
    assert after[target]["fill"] == browser.evaluate(LEGEND_FILL.format("Held"))
    assert after[target]["fill"] != seats[5]["fill"] == browser.evaluate(LEGEND_FILL.format("Available"))
    assert {seat["status"] for ticket_id, seat in after.items() if ticket_id != target} == {"Available"}
    browser.wait_for("document.getElementById('counts').textContent.includes('held 1')")


def test_an_event_without_a_layout_says_so(browser, live_server, event_id):
    browser.navigate(f"{live_server}/events/{event_id}/seatmap")

    message = browser.wait_for("!document.getElementById('message').hidden"
                               " && document.getElementById('message').textContent")

    assert message == f"No seat map for event {event_id}"
    assert browser.evaluate("document.querySelectorAll('#map .seat').length") == 0


def test_a_failed_refresh_keeps_the_map_and_warns_that_it_is_stale(browser, app, database_url, event_id):
    # `app` makes and migrates the database; this test stops its own server half-way.
    with running_gunicorn(database_url, workers=1) as (base_url, process):
        put_layout(base_url, event_id, LAYOUT)
        open_page(browser, base_url, event_id, len(layout_seats(LAYOUT)))
        process.terminate()
        process.wait(timeout=30)

        warning = browser.wait_for("!document.getElementById('stale').hidden"
                                   " && document.getElementById('stale').textContent", timeout=10)

    assert warning.startswith("Stale: could not refresh")
    assert browser.evaluate("document.querySelectorAll('#map .seat').length") == len(layout_seats(LAYOUT))


def test_the_page_is_self_contained_html(client, event_id):
    response = client.get(f"/events/{event_id}/seatmap")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"/api/Ticket/event/{event_id}/seatmap" in page
    assert not re.search(r"https?://", page), "the page loads nothing from elsewhere"
    assert not re.search(r"<(?:link|img|iframe)\b|<script[^>]*\bsrc=", page)


def test_the_page_is_not_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]

    assert not [path for path in paths if path.startswith("/events")]
