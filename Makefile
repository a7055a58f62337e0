# make run   — install, create and migrate the database, then run every process under
#              supervisord in the foreground: the API on $(PORT), the consumers, the relay, the sweeper,
#              each serving its metrics on a port from $(METRICS_PORT_BASE) (deploy/supervisord.conf)
# make status — every process of `make run` and its state; exits non-zero unless all are RUNNING
# make run-ha — `make run` on PostgreSQL failover, a RabbitMQ cluster and Redis Sentinel (docs/high-availability.md)
# make test  — run the whole test suite against the local PostgreSQL, Redis and RabbitMQ

VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8082
CONSUMERS_PER_QUEUE ?= 1
HOLD_CONSUMERS ?= 2
RELAYS ?= 1
METRICS_PORT_BASE ?= 9100
export FLASK_APP := wsgi
export PORT CONSUMERS_PER_QUEUE HOLD_CONSUMERS RELAYS METRICS_PORT_BASE
export VENV_BIN := $(abspath $(BIN))

.PHONY: run run-ha test lint lock migrate clean status

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

migrate: $(BIN)/.installed
	$(BIN)/flask create-db
	$(BIN)/flask db upgrade

# Each program has 100 metrics ports (METRICS_PORT_BASE + 100 * slot + process number).
run: migrate
	@for count in "$(CONSUMERS_PER_QUEUE)" "$(HOLD_CONSUMERS)" "$(RELAYS)"; do test "$$count" -ge 1 -a "$$count" -le 100 \
		|| { echo "CONSUMERS_PER_QUEUE, HOLD_CONSUMERS and RELAYS must be 1 to 100" >&2; exit 2; }; done
	mkdir -p .run
	exec $(BIN)/supervisord --configuration deploy/supervisord.conf

PROMTOOL := .run/tools/promtool

# promtool checks /metrics in the tests; taken from Debian's prometheus package, not installed.
$(PROMTOOL):
	mkdir -p .run/tools/deb
	cd .run/tools/deb && (apt-get download prometheus || (apt-get update -qq && apt-get download prometheus))
	dpkg -x .run/tools/deb/prometheus_*.deb .run/tools/deb/root
	cp .run/tools/deb/root/usr/bin/promtool $@
	rm -rf .run/tools/deb

CHROMIUM := /usr/bin/chromium
CHROMIUM_VERSION ?= 156.0.8078.108-1~deb12u1

# Chromium opens the seat map page in tests/browser; Debian's package, installed (make test runs as root).
$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium=$(CHROMIUM_VERSION) \
		|| (apt-get update -qq && apt-get install -y --no-install-recommends chromium=$(CHROMIUM_VERSION))

PG_AUTOCTL := /usr/bin/pg_autoctl
PG_AUTO_FAILOVER_VERSION ?= 2.0-2+b1
PG_AUTO_FAILOVER_PACKAGES := postgresql-15-auto-failover=$(PG_AUTO_FAILOVER_VERSION) \
	pg-auto-failover-cli=$(PG_AUTO_FAILOVER_VERSION)

# pg_auto_failover runs PostgreSQL with a synchronous standby and automatic failover (deploy/ha/postgres.sh,
# tests/ha); Debian's packages, installed (make test runs as root).
$(PG_AUTOCTL):
	apt-get install -y --no-install-recommends $(PG_AUTO_FAILOVER_PACKAGES) \
		|| (apt-get update -qq && apt-get install -y --no-install-recommends $(PG_AUTO_FAILOVER_PACKAGES))

# make run-ha — PostgreSQL failover, a RabbitMQ cluster and Redis Sentinel on this machine, then `make run`
#               on them (deploy/ha/run.sh, docs/high-availability.md); Ctrl-C stops it all.
run-ha: $(BIN)/.installed $(PG_AUTOCTL)
	deploy/ha/run.sh

test: $(BIN)/.installed $(PROMTOOL) $(CHROMIUM) $(PG_AUTOCTL)
	PROMTOOL=$(abspath $(PROMTOOL)) CHROMIUM=$(CHROMIUM) $(BIN)/pytest

# make bench — every benchmark scenario against its baseline, one line each (bench/README.md)
.PHONY: bench
TOOLS_BIN := .run/tools/bin
WRK := $(TOOLS_BIN)/wrk

# wrk drives the HTTP benchmarks; taken from Debian's wrk package and the LuaJIT it links, not installed.
$(WRK):
	mkdir -p .run/tools/deb $(TOOLS_BIN)
	cd .run/tools/deb && (apt-get download wrk libluajit-5.1-2 || (apt-get update -qq && apt-get download wrk libluajit-5.1-2))
	for deb in .run/tools/deb/*.deb; do dpkg -x $$deb .run/tools/wrk-root; done
	printf '#!/bin/sh\nLD_LIBRARY_PATH="%s" exec "%s" "$$@"\n' \
		"$$(dirname "$$(find $(abspath .run/tools/wrk-root) -name 'libluajit-5.1.so.2' | head -n 1)")" \
		"$(abspath .run/tools/wrk-root)/usr/bin/wrk" > $@
	chmod +x $@
	rm -rf .run/tools/deb
	$@ --version | head -n 1

bench: $(BIN)/.installed $(WRK)
	PATH="$(abspath $(TOOLS_BIN)):$$PATH" $(BIN)/python bench/run_all.py

lint: $(BIN)/.installed
	$(BIN)/ruff check .

lock: $(BIN)/.installed
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links requirements.in -o requirements.txt
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links requirements-dev.in -o requirements-dev.txt

# supervisorctl's own status fails for FATAL, EXITED and STOPPED only; this also fails while a
# process is STARTING or in BACKOFF (crashing at start: it turns FATAL after startretries).
status:
	@out=$$($(BIN)/supervisorctl --configuration deploy/supervisord.conf status); code=$$?; \
	echo "$$out"; \
	test $$code -eq 0 && echo "$$out" | awk '$$2 != "RUNNING" { bad = 1 } END { exit bad }'

clean:
	rm -rf $(VENV) .run .pytest_cache .ruff_cache
