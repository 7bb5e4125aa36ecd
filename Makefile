# The two commands: `make demo` and `make test`. Both create .venv and install what they need first:
# demo the application alone (no Spark, no test tools), test the application with its extras dev and spark.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.installed-test-stamp
UV := $(BIN)/uv
UV_VERSION := 0.13.9
# Test processes (pytest-xdist), each with a PostgreSQL database and SQLite template of its own. One per
# core: on this 2-core machine 4 workers took 764 s against 658 s for 2 (2026-12-07; 310 s against 502 s
# on 2026-12-05, before the tests kept their apps and the suite's time became CPU rather than waiting).
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

.PHONY: demo test test-fast docs install install-test lint typecheck imports bench-checkout bench-routes clean

# Two stamps, one per install: `make test` after `make demo` adds the extras; `make demo` after `make test`
# finds the application installed and installs nothing.
# uv installs the pinned set in parallel from its cache: seconds where pip took a minute and a half.
# Compiled to bytecode as it installs, and our own sources after it: where PYTHONDONTWRITEBYTECODE is set
# (as on these machines) nothing else writes a .pyc, and every process (each CLI command, server and test
# worker) compiled its 500-700 modules again: 2.5-4 s each; the README's tour ran 52 s against 24 s.
COMPILE_SOURCES := $(BIN)/python -m compileall -q src
$(UV):
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(STAMP): pyproject.toml constraints.txt | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e .
	$(COMPILE_SOURCES)
	@touch $(STAMP)

$(TEST_STAMP): pyproject.toml constraints.txt | $(UV)
	$(UV) pip install --quiet --compile-bytecode --python $(BIN)/python -c constraints.txt -e '.[dev,spark]'
	$(COMPILE_SOURCES)
	@touch $(STAMP) $(TEST_STAMP)

install: $(STAMP)

install-test: $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/entrepot demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# The walls between contexts (.importlinter): layers, campaigns' sub-packages, no context reads another's tables.
imports: $(TEST_STAMP)
	$(BIN)/lint-imports

# Every test, the slowest 15 named at the end.
test: $(TEST_STAMP) lint typecheck imports docs
	$(PYTEST) --durations=15

# The tests marked slow (servers, races, Spark, the demo) left out: for the edit-and-run loop.
test-fast: $(TEST_STAMP)
	$(PYTEST) -m "not slow"

# The documentation site from docs/ into site/, offline; strict: a broken link or anchor fails the build.
docs: $(TEST_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

bench-checkout: $(STAMP)
	$(BIN)/entrepot bench checkout

bench-routes: $(STAMP)
	$(BIN)/entrepot bench routes --queries 20

.PHONY: bench-emissions
bench-emissions: $(STAMP)
	$(BIN)/entrepot bench emissions

clean:
	rm -rf $(VENV) site var/*.db var/*.json
