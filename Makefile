# Two commands for a newcomer: `make demo` and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
PYTEST_ARGS ?= -n 2

.PHONY: demo test install install-test static clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PIP) install --quiet -e .
	touch $@

$(TEST_STAMP): $(PY) setup.cfg pyproject.toml
	$(PIP) install --quiet -e ".[test]"
	touch $@

install: $(STAMP)

install-test: $(TEST_STAMP)

# Build output never committed: front-end libraries (pinned in package.json / package-lock.json,
# copied into runtime/static/vendor) and the compiled translation catalogues (*.mo).
static: $(PY)
	npm ci --silent --no-audit --no-fund
	$(PY) -m runtime.vendor
	$(PY) -m runtime.i18n

demo: install static
	$(VENV)/bin/takt demo

test: install-test static
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) node_modules runtime/static/vendor instance .pytest_cache
