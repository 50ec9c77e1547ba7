# glassgrad: everything a fresh machine needs, from Python 3.11+ alone.
#   make demo    the main job: a worked chain-rule table and a network learning XOR
#   make test    the whole test suite (slow training tests and PyTorch parity included; it installs
#                PyTorch into .venv on first use: `make test TORCH=0` skips that, and the parity tests)
#   make lint    ruff check + ruff format --check
#   make bench   glassgrad against PyTorch on every workload (docs/benchmarks.md)
#   make torch   install PyTorch (CPU) into .venv, for parity tests and benchmarks
# Each target creates .venv on first use and re-installs only when pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.glassgrad-dev-installed
TORCH_VERSION := 2.13.0
# TORCH=0: `make test` does not install PyTorch (about 1 GB); the tests that need it then skip alone.
TORCH ?= 1
TORCH_STAMP := $(VENV)/.glassgrad-torch-$(TORCH_VERSION)-installed
# Two pytest workers when pytest-xdist is a dev dependency (CI has 2 cores); plain pytest otherwise.
PYTEST_WORKERS := $(if $(shell grep -s pytest-xdist pyproject.toml),-n 2,)

.PHONY: demo test lint bench torch install clean

demo: $(STAMP)
	$(PY) examples/demo.py

# One BLAS thread per test worker: two workers on two cores must not each start two BLAS threads.
test: $(STAMP) $(if $(filter 0,$(TORCH)),,$(TORCH_STAMP))
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q $(PYTEST_WORKERS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP)
	$(PY) -m benchmarks

torch: $(TORCH_STAMP)

# Installed once per version; `make clean` (which removes .venv) forgets it.
$(TORCH_STAMP): | $(STAMP)
	$(PIP) install torch==$(TORCH_VERSION)
	@touch $@

install: $(STAMP)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "glassgrad needs Python 3.11+; got $$($(PYTHON) --version 2>&1). Try: make PYTHON=python3.12 ..."; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than pyproject.toml once the editable install with the dev extra has succeeded.
$(STAMP): pyproject.toml | $(PY)
	$(PIP) install -e '.[dev]'
	@touch $@

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
