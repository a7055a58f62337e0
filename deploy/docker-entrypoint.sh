#!/bin/sh
# Entry point of the container image.
#   migrate        create the database if missing and upgrade its schema, retrying until
#                  PostgreSQL answers (MIGRATE_ATTEMPTS tries, MIGRATE_RETRY_SECONDS apart)
#   gunicorn ...   the API; PROMETHEUS_MULTIPROC_DIR is set for it alone (default /tmp/prometheus),
#                  so that /metrics adds up every worker
#   anything else  run as given: python -m consumers QUEUE|relay, flask --app wsgi tickets sweep-holds
set -eu

migrate() {
    attempts=${MIGRATE_ATTEMPTS:-30}
    delay=${MIGRATE_RETRY_SECONDS:-2}
    attempt=1
    trap 'exit 143' TERM INT
    until flask --app wsgi create-db && flask --app wsgi db upgrade; do
        if [ "$attempt" -ge "$attempts" ]; then
            echo "migrate: failed $attempt times, giving up" >&2
            return 1
        fi
        echo "migrate: attempt $attempt of $attempts failed, retrying in ${delay}s" >&2
        attempt=$((attempt + 1))
        sleep "$delay"
    done
    echo "migrate: database up to date"
}

case "${1:-}" in
    migrate)
        migrate
        exit
        ;;
    gunicorn)
        PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-/tmp/prometheus}
        export PROMETHEUS_MULTIPROC_DIR
        ;;
esac
exec "$@"
