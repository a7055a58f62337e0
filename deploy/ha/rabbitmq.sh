#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, for quorum queues (docs/messaging.md, "A cluster").
#   start   start the nodes, join the others to the first, wait until all three run in one cluster,
#           then print the service's settings: RABBITMQ_URL naming every node, RABBITMQ_QUEUE_TYPE=quorum
#           as NAME=value lines (set -a; eval "$(deploy/ha/rabbitmq.sh start)"; set +a exports them)
#   stop    stop the nodes; no process of theirs is left (their data stays, for the next start)
#   status  each node's state; exits non-zero unless all of them run in one cluster
#   ctl N ARGS...  rabbitmqctl ARGS on node N (1, 2, 3), with the cluster's cookie
#                  (e.g. `ctl 2 list_queues name type leader`; the plain rabbitmqctl talks to the
#                  machine's own node)
#
# The machine's own RabbitMQ (rabbit@localhost on 5672, its cookie in /var/lib/rabbitmq) is left alone:
# these nodes have names, ports, an Erlang cookie (their own HOME), a configuration and directories of
# their own. Settings (defaults in brackets):
#   RABBITMQ_HA_DIR            their data, logs and cookie [.run/ha/rabbitmq in the checkout]
#   RABBITMQ_HA_NODES          node names [rabbit-ha-1@localhost rabbit-ha-2@localhost rabbit-ha-3@localhost]
#   RABBITMQ_HA_PORTS          AMQP ports, on 127.0.0.1 [5681 5682 5683]
#   RABBITMQ_HA_DIST_PORTS     Erlang distribution ports, on 127.0.0.1 [25681 25682 25683]
#   RABBITMQ_HA_USER, RABBITMQ_HA_PASSWORD   the credentials in the printed URLs [guest, guest]
#   RABBITMQ_HA_START_SECONDS  how long start waits for the cluster [90]
#   RABBITMQ_SBIN              RabbitMQ's own scripts [/usr/lib/rabbitmq/bin]; not the /usr/sbin wrappers,
#                              which switch to the rabbitmq user and so to its HOME and cookie
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HA_DIR=${RABBITMQ_HA_DIR:-$ROOT/.run/ha/rabbitmq}
read -r -a NODES <<<"${RABBITMQ_HA_NODES:-rabbit-ha-1@localhost rabbit-ha-2@localhost rabbit-ha-3@localhost}"
read -r -a PORTS <<<"${RABBITMQ_HA_PORTS:-5681 5682 5683}"
read -r -a DIST_PORTS <<<"${RABBITMQ_HA_DIST_PORTS:-25681 25682 25683}"
USER_NAME=${RABBITMQ_HA_USER:-guest}
PASSWORD=${RABBITMQ_HA_PASSWORD:-guest}
START_SECONDS=${RABBITMQ_HA_START_SECONDS:-90}
SBIN=${RABBITMQ_SBIN:-/usr/lib/rabbitmq/bin}

if [ "${#PORTS[@]}" -ne "${#NODES[@]}" ] || [ "${#DIST_PORTS[@]}" -ne "${#NODES[@]}" ]; then
    echo "RABBITMQ_HA_NODES, RABBITMQ_HA_PORTS and RABBITMQ_HA_DIST_PORTS must list as many entries" >&2
    exit 2
fi
case $HA_DIR in
    /*) ;;
    *) HA_DIR=$PWD/$HA_DIR ;;
esac
HOME_DIR=$HA_DIR/home

say() {
    echo "rabbitmq-ha: $*" >&2
}

node_dir() {
    echo "$HA_DIR/${NODES[$1]%@*}"
}

# with_node INDEX COMMAND...: run COMMAND in the environment of node INDEX.
with_node() {
    local index=$1 dir
    shift
    dir=$(node_dir "$index")
    env HOME="$HOME_DIR" \
        RABBITMQ_NODENAME="${NODES[$index]}" \
        RABBITMQ_DIST_PORT="${DIST_PORTS[$index]}" \
        RABBITMQ_CONF_ENV_FILE="$dir/rabbitmq-env.conf" \
        RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf" \
        RABBITMQ_ADVANCED_CONFIG_FILE="$dir/advanced.config" \
        RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" \
        RABBITMQ_MNESIA_BASE="$dir/mnesia" \
        RABBITMQ_LOG_BASE="$dir/log" \
        RABBITMQ_PID_FILE="$dir/rabbitmq.pid" \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        ERL_CRASH_DUMP="$dir/log/erl_crash.dump" \
        "$@"
}

# ctl INDEX ARGS...: rabbitmqctl on node INDEX, with the cluster's cookie.
ctl() {
    local index=$1
    shift
    with_node "$index" "$SBIN/rabbitmqctl" -q -n "${NODES[$index]}" "$@"
}

# pid INDEX: print the pid of node INDEX's Erlang VM when it is alive.
pid() {
    local file
    file=$(node_dir "$1")/rabbitmq.pid
    [ -s "$file" ] || return 1
    local value
    value=$(cat "$file")
    ours "$value" && echo "$value"
}

# ours PID: whether PID is an Erlang VM of these nodes (it runs with their HOME).
ours() {
    local cmdline
    cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
    case $cmdline in
        *beam*" -home $HOME_DIR "*) return 0 ;;
        *) return 1 ;;
    esac
}

running_nodes() {
    local index
    for index in "${!NODES[@]}"; do
        if pid "$index" >/dev/null; then
            ctl "$index" cluster_status --formatter json 2>/dev/null \
                | grep -o '"running_nodes":\[[^]]*\]' && return 0
        fi
    done
    return 1
}

clustered() {
    local running node
    running=$(running_nodes) || return 1
    for node in "${NODES[@]}"; do
        case $running in
            *"\"$node\""*) ;;
            *) return 1 ;;
        esac
    done
}

settings() {
    local urls="" port
    for port in "${PORTS[@]}"; do
        urls="${urls:+$urls,}amqp://$USER_NAME:$PASSWORD@127.0.0.1:$port/%2F"
    done
    echo "RABBITMQ_URL=$urls"
    echo "RABBITMQ_QUEUE_TYPE=quorum"
}

prepare() {
    local index dir
    mkdir -p "$HOME_DIR"
    if [ ! -s "$HOME_DIR/.erlang.cookie" ]; then
        (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$HOME_DIR/.erlang.cookie")
    fi
    chmod 400 "$HOME_DIR/.erlang.cookie"
    for index in "${!NODES[@]}"; do
        dir=$(node_dir "$index")
        mkdir -p "$dir/mnesia" "$dir/log"
        echo "# Nothing: these nodes ignore /etc/rabbitmq/rabbitmq-env.conf (deploy/ha/rabbitmq.sh)" \
            >"$dir/rabbitmq-env.conf"
        echo "[]." >"$dir/enabled_plugins"
        cat >"$dir/rabbitmq.conf" <<EOF
listeners.tcp.1 = 127.0.0.1:${PORTS[$index]}
cluster_name = ticket-service-ha
log.console = false
log.file.level = info
EOF
    done
}

# join INDEX: make node INDEX a member of the first node's cluster, unless it is one (join_cluster resets it first).
join() {
    local index=$1 log
    if ctl "$index" cluster_status --formatter json | grep -q "\"${NODES[0]}\""; then
        return 0
    fi
    say "joining ${NODES[$index]} to ${NODES[0]}"
    log=$(node_dir "$index")/log/start.log
    {
        ctl "$index" stop_app
        ctl "$index" join_cluster "${NODES[0]}"
        ctl "$index" start_app
    } >>"$log" 2>&1
}

start() {
    local index dir deadline
    if clustered; then
        say "already running"
        settings
        return 0
    fi
    prepare
    for index in "${!NODES[@]}"; do
        if ! pid "$index" >/dev/null; then
            dir=$(node_dir "$index")
            say "starting ${NODES[$index]} on 127.0.0.1:${PORTS[$index]}"
            rm -f "$dir/rabbitmq.pid"
            (cd "$dir" && with_node "$index" "$SBIN/rabbitmq-server" -detached >"$dir/log/start.log" 2>&1)
        fi
    done
    for index in "${!NODES[@]}"; do
        if ! ctl "$index" wait --timeout "$START_SECONDS" "$(node_dir "$index")/rabbitmq.pid" >/dev/null; then
            say "${NODES[$index]} did not start; see $(node_dir "$index")/log"
            return 1
        fi
    done
    for index in "${!NODES[@]}"; do
        [ "$index" -eq 0 ] || join "$index"
    done
    deadline=$((SECONDS + START_SECONDS))
    until clustered; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "the nodes did not form one cluster in ${START_SECONDS}s"
            return 1
        fi
        sleep 0.5
    done
    say "running: ${NODES[*]}"
    settings
}

stop() {
    local index value deadline leftovers waited=()
    [ -d "$HA_DIR" ] || return 0
    for index in "${!NODES[@]}"; do
        if pid "$index" >/dev/null; then
            say "stopping ${NODES[$index]}"
            ctl "$index" stop "$(node_dir "$index")/rabbitmq.pid" >/dev/null 2>&1 &
            waited+=("$!")
        fi
    done
    for value in "${waited[@]}"; do
        wait "$value" || true
    done
    # What did not stop (a node that hangs, or was not known by its pid file) is killed.
    deadline=$((SECONDS + 10))
    while leftovers=$(leftover_pids) && [ -n "$leftovers" ]; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            say "killing $leftovers"
            # shellcheck disable=SC2086  # one pid per word
            kill -KILL $leftovers 2>/dev/null || true
            sleep 0.5
            break
        fi
        # shellcheck disable=SC2086
        kill -TERM $leftovers 2>/dev/null || true
        sleep 1
    done
    if [ -n "$(leftover_pids)" ]; then
        say "still running: $(leftover_pids)"
        return 1
    fi
    say "stopped"
}

leftover_pids() {
    local entry found=""
    for entry in /proc/[0-9]*; do
        if ours "${entry#/proc/}"; then
            found="$found ${entry#/proc/}"
        fi
    done
    echo "${found# }"
}

status() {
    local index state healthy=0
    for index in "${!NODES[@]}"; do
        if pid "$index" >/dev/null; then
            state="running (pid $(pid "$index"))"
        else
            state="stopped"
            healthy=1
        fi
        echo "${NODES[$index]}  127.0.0.1:${PORTS[$index]}  $state"
    done
    if clustered; then
        echo "cluster: all ${#NODES[@]} nodes running in one cluster"
        settings
    else
        echo "cluster: not all nodes running in one cluster (running: $( (running_nodes || echo none) \
            | sed 's/.*\[//; s/\]//; s/"//g'))"
        healthy=1
    fi
    return "$healthy"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    ctl)
        index=$((${2:-0} - 1))
        if [ "$index" -lt 0 ] || [ "$index" -ge "${#NODES[@]}" ]; then
            echo "usage: $0 ctl NODE(1-${#NODES[@]}) ARGS..." >&2
            exit 2
        fi
        shift 2
        ctl "$index" "$@"
        ;;
    *)
        echo "usage: $0 start|stop|status|ctl NODE ARGS..." >&2
        exit 2
        ;;
esac
