"""The `/api/Ticket` blueprint: parse, call one service function, answer."""

from flask import Response, current_app, stream_with_context, url_for
from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationMetadataSchema

from app.api import schemas
from app.api.auth import require_token
from app.api.headers import expected_version, idempotency_key
from app.errors import NotFound
from app.extensions import limiter
from app.tickets import creation, holds, layouts, queries, reservation, status

PREFIX = "/api/Ticket"
MAX_PAGE_SIZE = 1_000


class TicketBlueprint(Blueprint):
    """A flask-smorest blueprint that documents `X-Pagination` as the JSON text it is."""

    def _document_pagination_metadata(self, spec, resp_doc):
        """Document the header's value as JSON (`content`), not as an object in `simple` style."""
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata, as a JSON object.",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }


blp = TicketBlueprint(
    "tickets",
    __name__,
    url_prefix=PREFIX,
    description="Tickets of events: creation, lifecycle, reservation (also at /api/ticket).",
)
blp.before_request(require_token)

PATH_NAMES = {"ticketId": "ticket_id", "eventId": "event_id"}


@blp.url_value_preprocessor
def snake_case_path_values(_endpoint, values):
    """Hand the path's camelCase values (`ticketId`, `eventId`, as the docs name them) to the views in snake case."""
    for name, python_name in PATH_NAMES.items():
        if values and name in values:
            values[python_name] = values.pop(name)
ERRORS = {
    400: "The body is not valid JSON.",
    401: "API_TOKENS is set and the request has no valid bearer token.",
    429: "Too many creation requests from this client; retry after Retry-After seconds.",
    404: "No such ticket.",
    409: "The ticket's state does not allow it, or it is busy (retry).",
    412: "If-Match names another version.",
    413: "The body is larger than MAX_CONTENT_LENGTH.",
    415: "The body is not sent as application/json.",
    422: "The request is invalid; `errors` says where.",
}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Printable ASCII: a retry with the same key and body answers as the first request did.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "description": 'The version the ticket must still have (its ETag): "3", W/"3", or * for any.',
    "schema": {"type": "string"},
}


def _document_errors(*codes):
    def decorate(view):
        for code in codes:
            view = blp.alt_response(code, description=ERRORS[code])(view)
        if 401 in codes:  # a token is needed only when API_TOKENS is set
            view = blp.doc(security=[{}, {"bearerAuth": []}])(view)
        return view

    return decorate


@blp.route("/")
class Tickets(MethodView):
    """The collection of all tickets."""

    @blp.arguments(schemas.TicketFilterSchema(), location="query", as_kwargs=True)
    @blp.response(200, schemas.TicketSchema(many=True))
    @blp.paginate(page_size=100, max_page_size=MAX_PAGE_SIZE)
    @_document_errors(422)
    def get(self, pagination_parameters, event_id=None, status=None):
        """List tickets, ordered by event and id, a page at a time."""
        tickets, total = queries.list_tickets(
            event_id=event_id,
            status=status,
            offset=pagination_parameters.first_item,
            limit=pagination_parameters.page_size,
        )
        pagination_parameters.item_count = total
        return tickets

    @limiter.limit(lambda: current_app.config["CREATE_RATE_LIMIT"])
    @blp.arguments(schemas.CreateTicketSchema())
    @blp.response(201, schemas.TicketSchema)
    @blp.alt_response(201, schema=schemas.ONE_OR_MANY_TICKETS, success=True,
                      description="quantity 1: the ticket; quantity > 1: an array of them")
    @_document_errors(400, 401, 413, 415, 409, 422, 429)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body):
        """Create tickets: quantity 1 answers the ticket, more answers an array (at most 1,000)."""
        tickets = creation.create_tickets(
            event_id=body["event_id"], quantity=body["quantity"], idempotency_key=idempotency_key()
        )
        if body["quantity"] == 1:
            location = url_for("tickets.TicketById", ticketId=tickets[0].id)
            return tickets[0], 201, {"Location": location}
        answer = current_app.json.response(schemas.TicketSchema(many=True).dump(tickets))
        answer.status_code = 201
        return answer


@blp.route("/bulk")
class BulkTickets(MethodView):
    """Bulk creation."""

    @limiter.limit(lambda: current_app.config["BULK_RATE_LIMIT"])
    @blp.arguments(schemas.CreateTicketSchema())
    @blp.response(201, schemas.BulkCreationSchema)
    @_document_errors(400, 401, 413, 415, 422, 429)
    @blp.doc(parameters=[IDEMPOTENCY_KEY])
    def post(self, body):
        """Create up to 1,000,000 tickets for an event in one transaction."""
        created = creation.create_tickets_in_bulk(
            event_id=body["event_id"], quantity=body["quantity"], idempotency_key=idempotency_key()
        )
        return {
            "event_id": body["event_id"],
            "tickets_created": created,
            "message": f"Successfully created {created} tickets for event {body['event_id']}",
        }


@blp.route("/<ticket_id:ticketId>")
class TicketById(MethodView):
    """One ticket."""

    @blp.response(200, schemas.TicketSchema)
    @_document_errors(404, 422)
    def get(self, ticket_id):
        """Get a ticket; its ETag is its version."""
        ticket = queries.get_ticket(ticket_id)
        return ticket, 200, {"ETag": f'"{ticket.version}"'}

    @blp.response(204)
    @_document_errors(401, 404, 409, 412, 422)
    @blp.doc(parameters=[IF_MATCH])
    def delete(self, ticket_id):
        """Delete an Available or Cancelled ticket (honours If-Match)."""
        status.delete_ticket(ticket_id=ticket_id, expected_version=expected_version())


@blp.route("/<ticket_id:ticketId>/status")
class TicketStatus(MethodView):
    """A ticket's status."""

    @blp.arguments(schemas.UpdateStatusSchema())
    @blp.response(200, schemas.TicketStatusSchema)
    @_document_errors(400, 401, 413, 415, 404, 409, 412, 422)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, body, ticket_id):
        """Move a ticket along its lifecycle; the same status again is a no-op."""
        return status.change_status(
            ticket_id=ticket_id,
            status=body["status"],
            booking_id=body["booking_id"],
            expected_version=expected_version(),
        )


@blp.route("/<ticket_id:ticketId>/history")
class TicketHistory(MethodView):
    """A ticket's audit trail."""

    @blp.response(200, schemas.StatusChangeSchema(many=True))
    @_document_errors(404, 422)
    def get(self, ticket_id):
        """List the ticket's status changes, oldest first."""
        return queries.ticket_history(ticket_id)


@blp.route("/event/<event_id:eventId>")
class EventTickets(MethodView):
    """Every ticket of an event."""

    @blp.arguments(schemas.EventTicketsQuerySchema(), location="query", as_kwargs=True)
    @blp.response(200, schemas.TicketSchema(many=True))
    @_document_errors(422)
    def get(self, event_id, status=None, page=None, page_size=None):
        """Stream the event's tickets in id order (optionally filtered, optionally one page)."""
        offset, limit = 0, None
        if page is not None or page_size is not None:
            limit = page_size or 100
            offset = ((page or 1) - 1) * limit
        chunks = queries.stream_event_tickets(event_id=event_id, status=status, offset=offset, limit=limit)
        return Response(stream_with_context(chunks), mimetype="application/json")


@blp.route("/event/<event_id:eventId>/summary")
class EventSummary(MethodView):
    """Counts of an event's tickets."""

    @blp.response(200, schemas.EventSummarySchema)
    @_document_errors(422)
    def get(self, event_id):
        """Count the event's tickets by status; expired holds count as available."""
        return queries.event_summary(event_id)


@blp.route("/event/<event_id:eventId>/layout")
class EventLayout(MethodView):
    """A seated event's layout: sections, rows, seats and price categories."""

    @blp.response(200, schemas.LayoutAnswerSchema)
    @_document_errors(404, 422)
    def get(self, event_id):
        """Get the event's layout as it was given, with its number of seats."""
        layout, seats = layouts.get_layout(event_id)
        return current_app.json.response(layout | {"eventId": event_id, "seats": seats})

    @blp.arguments(schemas.LayoutSchema())
    @blp.response(201, schemas.LayoutAnswerSchema)
    @blp.alt_response(200, schema=schemas.LayoutAnswerSchema, description="The same layout again: nothing changed.")
    @_document_errors(400, 401, 413, 415, 409, 422)
    def put(self, layout, event_id):
        """Create the event's seats from a layout, in one statement; the same layout again changes nothing."""
        done = layouts.set_layout(event_id=event_id, layout=layouts.checked_layout(layout))
        answer = current_app.json.response(done.layout | {"eventId": event_id, "seats": done.seats})
        answer.status_code = 201 if done.created else 200
        return answer


@blp.route("/event/<event_id:eventId>/seatmap")
class EventSeatMap(MethodView):
    """A seated event's seats and their status."""

    @blp.response(200, schemas.SeatMapSchema)
    @_document_errors(404, 422)
    def get(self, event_id):
        """Get every seat of the event by section and row, with its status and category (no booking ids)."""
        chunks = queries.seat_map(event_id)
        return Response(stream_with_context(chunks), mimetype="application/json")


@blp.route("/hold")
class Hold(MethodView):
    """Holds for bookings."""

    @blp.arguments(schemas.HoldRequestSchema())
    @blp.response(200, schemas.HoldSchema)
    @_document_errors(400, 401, 413, 415, 409, 422)
    def post(self, body):
        """Hold seats for a booking until a deadline, by quantity or by id; asking again returns the same hold."""
        return holds.hold_tickets(
            event_id=body["event_id"],
            booking_id=body["booking_id"],
            number_of_tickets=body.get("number_of_tickets"),
            ticket_ids=body.get("ticket_ids"),
            hold_seconds=body.get("hold_seconds"),
            category=body.get("category"),
            adjacent=body["adjacent"],
            customer_id=body.get("customer_id") or None,
        )


def _require_dev_endpoints():
    if not current_app.config["DEV_ENDPOINTS_ENABLED"]:
        raise NotFound("This development endpoint is switched off here.")


@blp.route("/reserve")
class Reserve(MethodView):
    """Development endpoint: reserve tickets directly."""

    @blp.arguments(schemas.TicketBatchSchema())
    @blp.response(200, {"type": "boolean"})
    @_document_errors(400, 401, 413, 415, 404, 409, 422)
    def post(self, body):
        """Reserve every ticket or none; answers true or false."""
        _require_dev_endpoints()
        outcome = reservation.reserve_tickets(
            event_id=body["event_id"], ticket_ids=body["ticket_ids"], booking_id=body["booking_id"]
        )
        return Response("true" if outcome.done else "false", mimetype="application/json")


@blp.route("/release")
class Release(MethodView):
    """Development endpoint: release tickets directly."""

    @blp.arguments(schemas.TicketBatchSchema())
    @blp.response(200, {"type": "boolean"})
    @_document_errors(400, 401, 413, 415, 404, 409, 422)
    def post(self, body):
        """Return every ticket to Available or none; answers true or false."""
        _require_dev_endpoints()
        outcome = reservation.release_tickets(
            event_id=body["event_id"], ticket_ids=body["ticket_ids"], booking_id=body["booking_id"]
        )
        return Response("true" if outcome.done else "false", mimetype="application/json")
