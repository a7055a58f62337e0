"""OpenTelemetry traces: providers per process, instrumentation per app, context in messages.

The exporter follows the standard variables: OTLP over HTTP when
`OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) is set, the console when
`OTEL_TRACES_EXPORTER=console`. With neither, no SDK is installed at all: recording
spans nobody receives costs a hold about as much CPU as the rest of the request, while
the trace context of callers (`traceparent`) is still carried into logs and messages.
`OTEL_SDK_DISABLED=true` turns tracing off. The provider is made after gunicorn forks
(its `post_fork` hook), by the consumers and relay at start, or by a test.
"""

import os

from flask import g, request
from opentelemetry import context, propagate, trace
from opentelemetry.instrumentation.flask import FlaskInstrumentor
from opentelemetry.instrumentation.redis import RedisInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

tracer = trace.get_tracer("ticket-service")


def _exporter_named():
    """Tell whether the environment names an exporter (OTLP or the console)."""
    return bool(os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
                or os.environ.get("OTEL_TRACES_EXPORTER") == "console")


def _exporter():
    if not _exporter_named():
        return None
    if os.environ.get("OTEL_TRACES_EXPORTER") == "console":
        return ConsoleSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: PLC0415

    return OTLPSpanExporter()


def configure_tracing(process_name, exporter=None):
    """Install this process's tracer provider, exporting to `exporter` or as the environment says.

    Returns the provider, or None when the SDK is disabled, no exporter is configured,
    or a provider was installed before.
    """
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return None
    exporter = exporter or _exporter()
    if exporter is None or isinstance(trace.get_tracer_provider(), TracerProvider):
        return None
    service = os.environ.get("OTEL_SERVICE_NAME", "ticket-service")
    provider = TracerProvider(resource=Resource.create({"service.name": service, "process.role": process_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def spans_recorded():
    """Tell whether this process records spans: an SDK provider is installed, or the environment names an exporter."""
    if os.environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return isinstance(trace.get_tracer_provider(), TracerProvider) or _exporter_named()


def instrument_libraries():
    """Trace every SQLAlchemy engine made from now on, and every Redis call (once per process).

    Only when spans are recorded: otherwise the hooks cost every statement and command
    (about 8 % of a consumer's CPU) for spans nobody receives. The trace context of
    requests and messages is carried all the same.
    """
    if not spans_recorded():
        return
    for instrumentor in (SQLAlchemyInstrumentor(), RedisInstrumentor()):
        if not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument()


def instrument_app(app):
    """Trace the app's requests (not its health checks, metrics or docs) when spans are recorded.

    When they are not, a request only takes on its caller's trace context (`traceparent`),
    so its logs and the messages it causes still carry the caller's trace, without the
    instrumentation's work per request (about 6 % of a hold's CPU).
    """
    if spans_recorded():
        FlaskInstrumentor().instrument_app(app, excluded_urls="health,metrics,swagger,openapi")
        return
    app.before_request(_take_on_caller_context)
    app.teardown_request(_drop_caller_context)


def _take_on_caller_context():
    if "traceparent" in request.headers:
        g.trace_token = context.attach(propagate.extract(request.headers))


def _drop_caller_context(_error=None):
    token = g.pop("trace_token", None)
    if token is not None:
        context.detach(token)


ACTIVITY_ID = "MT-Activity-Id"


def inject_context(headers):
    """Write the current trace context into message headers; return them.

    It goes in as `traceparent` and as MassTransit's `MT-Activity-Id` (the same W3C
    value), so a .NET peer's activity continues the trace.
    """
    propagate.inject(headers)
    if "traceparent" in headers:
        headers[ACTIVITY_ID] = headers["traceparent"]
    return headers


def extract_context(headers):
    """Return the trace context carried by message headers: `traceparent`, else `MT-Activity-Id`."""
    carrier = dict(headers or {})
    if "traceparent" not in carrier and isinstance(carrier.get(ACTIVITY_ID), str):
        carrier["traceparent"] = carrier[ACTIVITY_ID]
    return propagate.extract(carrier)
