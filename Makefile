# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SHARED ?= ../shared/models

.PHONY: demo test bench venv toolchain clean

venv: $(STAMP)

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

# Cross toolchain and emulator for the board tests (Debian packages).
toolchain:
	@bash tools/install_toolchain.sh

demo: $(STAMP)
	$(VENV)/bin/mcugen inspect examples/kws01_dscnn_int8.tflite
	rm -rf out/demo
	$(VENV)/bin/mcugen generate examples/kws01_dscnn_int8.tflite -o out/demo --name kws --board NUCLEO-L4R5ZI
	$(VENV)/bin/mcugen verify examples/kws01_dscnn_int8.tflite --n 5

test: $(STAMP)
	@bash tools/install_toolchain.sh
	$(PY) -m pytest -q -n 2 tests

bench: $(STAMP)
	@bash tools/install_toolchain.sh
	$(PY) tools/bench.py --shared $(SHARED) --out BENCHMARKS.md --readme README.md

clean:
	rm -rf $(VENV) out build *.egg-info
