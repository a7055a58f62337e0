"""The OpenAPI document and Swagger UI, served without internet access."""

import re

import pytest

from tests.api.helpers import BASE

IGNORED_METHODS = {"HEAD", "OPTIONS"}
# What each operation can answer besides success, as the clients of the API must know it.
EXPECTED_ERRORS = {
    ("get", "/"): {"422"},
    ("post", "/"): {"422"},
    ("post", "/bulk"): {"422"},
    ("get", "/{ticketId}"): {"404", "422"},
    ("delete", "/{ticketId}"): {"404", "409", "412", "422"},
    ("patch", "/{ticketId}/status"): {"404", "409", "412", "422"},
    ("get", "/{ticketId}/history"): {"404", "422"},
    ("get", "/event/{eventId}"): {"422"},
    ("get", "/event/{eventId}/summary"): {"422"},
    ("post", "/reserve"): {"404", "422"},
    ("post", "/release"): {"404", "422"},
    ("post", "/hold"): {"409", "422"},
}


@pytest.fixture(scope="module")
def spec(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def blueprint_operations(app):
    """Every (method, OpenAPI path) the tickets blueprint serves."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("tickets."):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            operations |= {(method.lower(), path) for method in rule.methods - IGNORED_METHODS}
    return operations


def test_every_route_of_the_blueprint_is_documented(app, spec):
    documented = {
        (method, path) for path, item in spec["paths"].items() if path.startswith(BASE)
        for method in item if method != "parameters"
    }

    assert documented == blueprint_operations(app)


def test_the_expected_operations_exist(app):
    expected = {(method, BASE + path) for method, path in EXPECTED_ERRORS}

    assert expected <= blueprint_operations(app)


@pytest.mark.parametrize(("method", "path"), sorted(EXPECTED_ERRORS))
def test_operation_documents_its_error_responses(spec, method, path):
    responses = spec["paths"][BASE + path][method]["responses"]

    assert EXPECTED_ERRORS[(method, path)] <= set(responses)
    assert any(code.startswith("2") for code in responses)
    assert responses["default"] == {"$ref": "#/components/responses/DEFAULT_ERROR"}


def test_every_operation_documents_errors(app, spec):
    for method, path in blueprint_operations(app):
        responses = spec["paths"][path][method]["responses"]
        errors = {code for code in responses if code.startswith("4")}
        assert errors, (method, path)
        assert "default" in responses, (method, path)


def test_error_schema_is_flask_smorests_shape(spec):
    error = spec["components"]["schemas"]["Error"]

    assert {"code", "status", "message", "errors"} <= set(error["properties"])
    default = spec["components"]["responses"]["DEFAULT_ERROR"]
    assert default["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_path_parameters_are_typed(spec):
    ticket = spec["paths"][f"{BASE}/{{ticketId}}"]["parameters"][0]
    event = spec["paths"][f"{BASE}/event/{{eventId}}"]["parameters"][0]

    assert ticket["schema"] == {"type": "string", "format": "uuid"}
    assert event["schema"]["type"] == "integer"
    assert event["schema"]["minimum"] == 1
    assert event["schema"]["maximum"] == 2**63 - 1


def test_list_documents_its_filters_and_paging(spec):
    parameters = {parameter["name"] for parameter in spec["paths"][f"{BASE}/"]["get"]["parameters"]}

    assert {"eventId", "status", "page", "page_size"} <= parameters


def test_bodies_are_documented_in_camel_case(spec):
    schemas = spec["components"]["schemas"]

    assert set(schemas["CreateTicket"]["properties"]) == {"eventId", "quantity"}
    assert set(schemas["Ticket"]["properties"]) >= {"ticketId", "eventId", "status", "bookingId", "heldUntil"}
    assert set(schemas["TicketStatus"]["properties"]) >= {"ticketId", "status", "previousStatus", "updatedAt"}
    assert set(schemas["BulkCreation"]["properties"]) == {"eventId", "ticketsCreated", "message"}


def test_swagger_ui_is_served_from_local_assets(client):
    page = client.get("/swagger")

    assert page.status_code == 200
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(urls) >= 3
    for url in urls:
        assert url.startswith("/swagger-ui-assets/"), url
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            assert len(asset.get_data()) > 1000
    assert 'url: "/openapi.json"' in html
    assert "http://" not in html and "https://" not in html and "//cdn" not in html


def test_missing_swagger_asset_is_a_json_404(client):
    response = client.get("/swagger-ui-assets/nothing-here.js")

    assert response.status_code == 404
    assert response.get_json()["code"] == 404
