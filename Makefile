# crossreg: two commands on a fresh machine.
#   make demo   create .venv, install, simulate a two-species world, run the whole chain on it
#               (crossreg run: data steps, joint training, evaluation), write an HTML report
#   make demo-real  the same chain on the real human and mouse loci of tests/data
#   make test   install if needed, run the test suite
#   make bench  performance benchmarks (ratios against references measured in the same run)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo_out
DEMO_REAL_OUT ?= demo_real_out

.PHONY: demo demo-real test bench install clean container

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
	$(VENV)/bin/crossreg run -params-file conf/demo.yaml --outdir $(DEMO_OUT)

demo-real: $(STAMP)
	$(VENV)/bin/crossreg run -params-file conf/demo_real.yaml --outdir $(DEMO_REAL_OUT)

bench: $(STAMP)
	$(PY) benchmarks/bench_data.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_variants.py --outdir $(DEMO_OUT)
	$(PY) benchmarks/bench_sldp.py
	$(PY) benchmarks/bench_denovo.py

clean:
	rm -rf build $(DEMO_OUT) $(DEMO_REAL_OUT) pycore/crossreg/*.so csrc/_native.c

# optional (root, podman): build the CPU image on a local Debian base, run crossreg in it
container:
	bash scripts/build_container.sh
