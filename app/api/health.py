"""Health endpoints: `/health`, `/health/live`, `/health/ready`."""

from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.schemas import HealthSchema
from app.health import health_report, readiness_report

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness and readiness.")


@blp.route("")
class Health(MethodView):
    """Every dependency with its latency, each consumed queue, the outbox."""

    @blp.response(200, HealthSchema, description="healthy, or degraded: `problems` says why")
    @blp.alt_response(503, schema=HealthSchema, description="PostgreSQL is down")
    def get(self):
        """Report PostgreSQL, Redis, RabbitMQ, the consumed queues and the outbox; 503 only when PostgreSQL is down.

        `degraded` when Redis or RabbitMQ is down, a consumed queue has no consumer, or the
        outbox's oldest unpublished event is older than `OUTBOX_LAG_SECONDS`. The report is
        checked at most once per `HEALTH_CACHE_SECONDS` per process.
        """
        report = health_report()
        return report, 503 if report["status"] == "unhealthy" else 200


@blp.route("/live")
class Live(MethodView):
    """Liveness."""

    @blp.response(200, HealthSchema)
    def get(self):
        """Answer as long as the process serves requests."""
        return {"status": "alive", "checks": {}}


@blp.route("/ready")
class Ready(MethodView):
    """Readiness."""

    @blp.response(200, HealthSchema)
    @blp.alt_response(503, schema=HealthSchema, description="PostgreSQL is down")
    def get(self):
        """Answer 200 when PostgreSQL answers, 503 otherwise."""
        report = readiness_report()
        return report, 200 if report["status"] == "ready" else 503
