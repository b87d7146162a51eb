# Two commands do all the set-up: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
WEB_WORKERS ?= 2
export FLASK_APP := wsgi

.PHONY: install migrate demo run web test test-postgres lint format clean

# The project itself is installed editable, for the `ipt` command (.venv/bin/ipt, pyproject.toml);
# setuptools' warning that the package folder sits in the working directory is expected, and silenced.
$(BIN)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	PYTHONWARNINGS=ignore::UserWarning $(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: $(BIN)/.installed

migrate: install
	$(BIN)/flask db upgrade

demo: migrate
	@$(BIN)/flask ipt load-demo --if-empty --token-file instance/demo-token.txt
	@test ! -f instance/demo-token.txt || echo "Demo coordinator token: $$(cat instance/demo-token.txt)"

# The Procfile's web process (gunicorn on PORT) and scheduler (console SMS backend by default, which
# prints each message) under honcho (ops/run.py): Ctrl-C, SIGTERM or SIGHUP stops both, and so does
# either one exiting. `exec`: the manager replaces the recipe's shell, so make's signals reach it.
run: demo
	@echo "Serving on http://127.0.0.1:$(PORT) (API docs at /api/docs); Ctrl-C stops web and scheduler"
	@WEB_WORKERS=$(WEB_WORKERS) exec $(BIN)/python ops/run.py --port $(PORT)

# The whole suite on SQLite; the Twilio contract tests run against Prism when npm can install it
# (bench/prism.sh), and the browser suite in Debian's Chromium when it is there or apt-get can install
# it (bench/browser.sh); each is skipped otherwise. Every skip is listed with its reason at the end
# (pytest's -rs, in pyproject.toml's addopts). TEST_DATABASE_URL picks PostgreSQL.
test: install
	bench/browser.sh
	PRISM_BIN="$$(bench/prism.sh 2>/dev/null || true)" $(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance/*.sqlite3* instance/demo-token.txt
