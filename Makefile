# The two commands of the README: `make run` and `make test`.
# Both create ./.venv on first use and install smsgw into it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

# The gateway on embedded defaults: SQLite in ./data, built-in carrier simulators.
run: $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	$(BIN)/smsgw run

# The whole test suite against a regular (non-editable) install, as users get it.
test: $(BIN)/python
	$(BIN)/python -m pip install --quiet --force-reinstall --no-deps . && $(BIN)/python -m pip install --quiet '.[test]'
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Editable install for development (new modules are picked up without reinstalling).
dev: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'

bench: $(BIN)/python
	$(BIN)/python -m pip install --quiet .
	$(BIN)/python bench/codec/run.py

clean:
	rm -rf build dist src/*.egg-info
