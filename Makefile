# Set-up is part of both targets: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_output

.PHONY: demo test install clean benchmarks benchmarks-speed

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/mrsquant demo -o $(DEMO_OUT)

test: $(STAMP)
	$(BIN)/python -m pytest -q tests
	$(BIN)/python -m pytest -q --doctest-modules mrsquant

benchmarks: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run_all.py

# the speed figures only (issue 21): a few minutes less than all benchmarks
benchmarks-speed: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/bench_speed.py --write

clean:
	rm -rf $(VENV) $(DEMO_OUT) build *.egg-info
