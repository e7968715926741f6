# crossreg: two commands on a fresh machine.
#   make demo   create .venv, install, run the chain on a small example, write a report
#   make test   install if needed, run the test suite
#   make bench  performance benchmarks (ratios against references measured in the same run)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_out

.PHONY: demo test bench install clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip setuptools wheel

# Reinstall when the build inputs change (pyproject, setup.py, the C kernels).
$(STAMP): $(VENV)/bin/python pyproject.toml setup.py $(wildcard csrc/*.pyx csrc/*.pxd csrc/*.h csrc/*.c)
	$(PY) -m pip install --quiet "Cython>=3.0" "numpy>=1.26" "setuptools>=69" wheel
	$(PY) -m pip install --quiet --no-build-isolation -e ".[test,tf,jax]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	PYTHON=$(PY) bash scripts/nf_language_server.sh >/dev/null
	$(PY) -m pytest -q -p no:cacheprovider tests

demo: $(STAMP)
	bash scripts/demo.sh $(DEMO_OUT)

bench: $(STAMP)
	$(PY) benchmarks/bench_data.py

clean:
	rm -rf build $(DEMO_OUT) pycore/crossreg/*.so csrc/_native.c
