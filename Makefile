# make run   — install, create and migrate the database, serve the API on $(PORT)
# make test  — run the whole test suite against the local PostgreSQL, Redis and RabbitMQ

VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8082
export FLASK_APP := wsgi
export PORT

.PHONY: run test lint lock migrate clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt -r requirements-dev.txt
	touch $@

migrate: $(BIN)/.installed
	$(BIN)/flask create-db
	$(BIN)/flask db upgrade

run: migrate
	exec $(BIN)/gunicorn --config deploy/gunicorn.conf.py wsgi:app

test: $(BIN)/.installed
	$(BIN)/pytest

lint: $(BIN)/.installed
	$(BIN)/ruff check .

lock: $(BIN)/.installed
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links requirements.in -o requirements.txt
	$(BIN)/pip-compile -q --strip-extras --no-emit-index-url --no-emit-find-links requirements-dev.in -o requirements-dev.txt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
