# The two commands: `make demo` and `make test`. Both create .venv and install everything first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test install lint typecheck imports bench-checkout bench-routes clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/entrepot demo

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# The walls between contexts (.importlinter): layers, campaigns' sub-packages, no context reads another's tables.
imports: $(STAMP)
	$(BIN)/lint-imports

test: $(STAMP) lint typecheck imports
	$(BIN)/pytest -q

bench-checkout: $(STAMP)
	$(BIN)/entrepot bench checkout

bench-routes: $(STAMP)
	$(BIN)/entrepot bench routes --queries 20

.PHONY: bench-emissions
bench-emissions: $(STAMP)
	$(BIN)/entrepot bench emissions

clean:
	rm -rf $(VENV) var/*.db var/*.json
