"""Layouts for the seated-event tests."""


def hall(rows=3, seats=10, categories=("A", "B"), **settings):
    """A one-section hall: `rows` rows of `seats` seats, the first row of the first category, the rest of the last."""
    return {
        "currency": "EUR",
        "categories": {code: {"name": f"Category {code}", "price": f"{100 - 20 * i}.00"}
                       for i, code in enumerate(categories)},
        "sections": [{"name": "Stalls", "rows": [
            {"name": chr(ord("A") + r), "seats": seats, "category": categories[0] if r == 0 else categories[-1]}
            for r in range(rows)
        ]}],
    } | settings


def put_layout(client, event_id, layout):
    """PUT the layout and return the response."""
    return client.put(f"/api/Ticket/event/{event_id}/layout", json=layout)


def seat_map(client, event_id):
    """Return the event's seat map as `{(section, row, seat): seat}`."""
    response = client.get(f"/api/Ticket/event/{event_id}/seatmap")
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    return {(section["name"], row["name"], seat["seat"]): seat
            for section in body["sections"] for row in section["rows"] for seat in row["seats"]}
