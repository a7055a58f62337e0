"""HTML pages for people, outside the OpenAPI document: the live seat map of an event."""

from flask import Blueprint, render_template

blp = Blueprint("pages", __name__)


@blp.get("/events/<event_id:event_id>/seatmap")
def seatmap(event_id):
    """Render the seat map page; its script reads the event's seat map JSON and redraws it every 2 s."""
    return render_template(
        "seatmap.html",
        event_id=event_id,
        seatmap_url=f"/api/Ticket/event/{event_id}/seatmap",
    )
