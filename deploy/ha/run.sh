#!/usr/bin/env bash
# make run-ha: the whole highly available topology on this machine, then the service on it.
#
# PostgreSQL with a synchronous standby and automatic failover (deploy/ha/postgres.sh), a
# three-node RabbitMQ cluster with quorum queues (deploy/ha/rabbitmq.sh) and Redis behind
# Sentinel (deploy/ha/redis.sh) are started on ports of their own; each prints the service's
# settings for it, which are exported before `make run` starts every process of the service
# under supervisord on them. Ctrl-C stops the service, then the three engines. Try it: kill
# the PostgreSQL primary, a RabbitMQ node or the Redis master (`deploy/ha/*.sh status` tells
# which is which) and watch `make status` and /health.
set -euo pipefail
cd "$(dirname "$0")/../.."

ENGINES=(postgres rabbitmq redis)

stop_engines() {
    local engine
    for engine in redis rabbitmq postgres; do
        "deploy/ha/$engine.sh" stop || echo "could not stop $engine" >&2
    done
}

# Export each KEY=VALUE line an engine's start prints (values may hold '&' and '?': no eval).
export_settings() {
    local line
    while IFS= read -r line; do
        if [[ $line =~ ^[A-Z][A-Z0-9_]*= ]]; then
            export "${line?}"
            echo "  ${line%%=*} set"
        fi
    done
}

trap stop_engines EXIT
trap 'exit 130' INT TERM
for engine in "${ENGINES[@]}"; do
    echo "starting $engine"
    settings=$("deploy/ha/$engine.sh" start)
    export_settings <<< "$settings"
done
export RABBITMQ_QUEUE_TYPE=quorum
make run
