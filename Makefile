# Academy: two commands on a fresh machine. `make run` serves the demo; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test install verifier check lint format migrate seed worker beat clean lock audit

# Every Python package comes from the hashed lock (pip refuses anything whose hash differs). The
# locks are made from the direct pins in requirements.txt and requirements-dev.txt by `make lock`
# (docs/operations.md, "Keeping dependencies current"); production installs requirements.lock.
$(STAMP): requirements.lock requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Academy needs Python 3.11 or newer.")'
	@$(PYTHON) scripts/check_system.py
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --require-hashes --no-deps -r requirements-dev.lock
	@touch $(STAMP)

install: $(STAMP)

LOCK_FLAGS := --quiet --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url --no-emit-find-links
lock: install
	$(VENV)/bin/pip-compile $(LOCK_FLAGS) --output-file=requirements.lock requirements.txt
	$(VENV)/bin/pip-compile $(LOCK_FLAGS) --output-file=requirements-dev.lock requirements-dev.txt

# pip-audit against the lock; a finding fails (accepted ones: pip-audit-accepted.txt).
AUDIT_ARGS ?=
audit: install
	$(PY) scripts/audit.py $(AUDIT_ARGS)

# The independent credential verifier (Node.js 20): its pinned packages, from verifier/package-lock.json.
NODE_STAMP := verifier/node_modules/.installed
$(NODE_STAMP): verifier/package-lock.json
	@command -v npm >/dev/null || { echo "The tests' independent credential verifier needs Node.js 20 and npm."; exit 1; }
	cd verifier && npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

verifier: $(NODE_STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py create_signing_key --if-missing
	$(PY) manage.py seed_demo

# The address `make run` serves (`make run RUN_ADDRESS=0.0.0.0:8080`); SITE_URL, which certificates'
# links and QR codes follow, is set to it, also for the seed that issues the demo's certificates.
RUN_ADDRESS ?= 127.0.0.1:8000
run: export SITE_URL := http://$(RUN_ADDRESS)
run: seed
	$(PY) manage.py runserver $(RUN_ADDRESS)

test: install verifier
	$(PY) scripts/run_tests.py $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

worker: install
	$(VENV)/bin/celery -A academy worker --loglevel=INFO --concurrency=2

beat: install
	$(VENV)/bin/celery -A academy beat --loglevel=INFO

clean:
	rm -rf $(VENV) staticfiles db.sqlite3
