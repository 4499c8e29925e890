# The CPU build of torch is pinned and installed first: any package that asks
# for plain `torch` would otherwise pull a CUDA build of several GB.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_PIN := torch==2.13.0
STAMP := $(VENV)/.installed-test

.PHONY: venv test test-all lint demo gallery bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(TORCH_PIN)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet $(TORCH_PIN)
	$(BIN)/pip install --quiet -e ".[test]"
	# fastmri pins old numpy and torch releases, but its SliceDataset reads
	# HDF5 fine beside these: it is installed without its dependencies so the
	# tests can check that written sets load in it.
	$(BIN)/pip install --quiet --no-deps fastmri==0.3.0
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .

test: $(STAMP) lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -m "not slow" medaug tests

test-all: $(STAMP) lint
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q medaug tests

demo: $(STAMP)
	$(BIN)/python examples/demo.py --out demo-output

gallery: $(STAMP)
	$(BIN)/python examples/gallery.py --out docs/images

# Peers for side-by-side benchmarks need torchvision, which does not import
# beside the CPU torch 2.13.0, so they live in their own environment.
.venv-bench/bin/python:
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet torch==2.14.1 torchvision==0.29.1
	.venv-bench/bin/pip install --quiet -e ".[test,bench]"

bench: .venv-bench/bin/python
	OMP_NUM_THREADS=1 .venv-bench/bin/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) .venv-bench build dist *.egg-info .pytest_cache demo-output
