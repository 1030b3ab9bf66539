# Everything a fresh machine needs is set up by these targets: they create .venv
# from the system python3 and install the project with its dev extras (idempotent:
# the install step reruns only when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/labelaudit demo --out demo-output --force

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# The kernels are compiled into numba's cache first, one dtype per core, so that the test
# workers load them instead of each compiling its own; the compiling processes also check
# the kernels as just compiled against cleanlab and NumPy (tests/warm_kernels.py).
unit: $(STAMP)
	$(PY) tests/warm_kernels.py float32 & a=$$!; $(PY) tests/warm_kernels.py float64 & b=$$!; \
		wait $$a && wait $$b
	$(PY) -m pytest -q -n 2

test: lint typecheck unit

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
