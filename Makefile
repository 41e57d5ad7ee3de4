# Sales Ops Workbench. `make` (or `make help`) lists the targets.
# Every target depends on `setup`, so `make run` and `make test` work as the first command on a
# fresh clone.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SALESOPS := $(BIN)/salesops
SCALE  ?= default
WORKERS ?= 2
# pytest loads only the plugins the suite names (pyproject.toml addopts; nbval is started
# explicitly by tests/test_notebooks.py): auto-loading every installed plugin costs seconds.
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: without it every pytest process
# rewrites the asserts of every test module and recompiles the package (about 3 s each).
PYTEST := PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 PYTHONDONTWRITEBYTECODE= $(BIN)/pytest

.DEFAULT_GOAL := help
.PHONY: help setup demo validate run test test-fast lint format lab bench clean

help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "; printf "Usage: make <target> [SCALE=...] [WORKERS=...]\n\nTargets:\n"} \
	     /^[a-zA-Z_-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

setup: $(STAMP) ## Create .venv, install the package (editable, dev extras), register the `salesops` kernel

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name salesops --display-name "Python (salesops)"
	@touch $(STAMP)

demo: setup ## Generate the demo snapshots if none exist (SCALE=tiny|small|default|large|huge)
	$(SALESOPS) demo --if-missing --scale $(SCALE)

validate: demo ## Check the latest snapshot against its manifest and every contract
	$(SALESOPS) validate --failing-only

run: validate ## Demo data -> contracts -> every report notebook for every region -> reports/<as_of>/
	SALESOPS_KERNEL=salesops $(SALESOPS) forecast-backfill --workers $(WORKERS)
	SALESOPS_KERNEL=salesops $(SALESOPS) run --all --workers $(WORKERS)

test: setup ## Lint, then run the whole test suite (unit, contract, notebook, end to end) on 2 processes
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash scripts/install-browser.sh
	SALESOPS_KERNEL=salesops $(PYTEST) -p xdist -n $(WORKERS) --dist loadfile

test-fast: setup ## Unit and contract tests on tiny data, 2 processes: no kernels, no default-scale demo
	$(PYTEST) -p xdist -n 2 --dist worksteal -m "not e2e and not slow"

lint: setup ## Lint and format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lab: setup ## Open JupyterLab on notebooks/ with the project kernel (root too, e.g. in a container)
	$(BIN)/jupyter lab --notebook-dir=notebooks --MultiKernelManager.default_kernel_name=salesops $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS)

bench: setup ## Run every benchmark; results tables in reports/bench/ (takes 40-50 minutes)
	mkdir -p reports/bench
	$(BIN)/python -m tests.bench.run_benchmarks --out reports/bench/foundation.md
	SALESOPS_KERNEL=salesops $(BIN)/python -m tests.bench.bench_runner --out reports/bench/runner.md
	$(BIN)/python -m tests.bench.bench_performance | tee reports/bench/performance.md
	$(BIN)/python -m tests.bench.bench_segmentation | tee reports/bench/segmentation.md
	$(BIN)/python -m tests.bench.bench_import | tee reports/bench/import.md
	SALESOPS_KERNEL=salesops $(BIN)/python -m tests.bench.bench_forecast_report | tee reports/bench/forecast_report.md
	$(BIN)/python -m tests.bench.bench_forecast --out reports/bench/forecast.md
	SALESOPS_KERNEL=salesops $(BIN)/python -m tests.bench.bench_batch --out reports/bench/batch.md
	$(BIN)/python -m tests.bench.bench_build --out reports/bench/build.md
	$(BIN)/python -m tests.bench.bench_comp --out reports/bench/comp.md
	$(BIN)/python -m tests.bench.bench_planning --out reports/bench/planning.md

clean: ## Remove generated data, reports and the virtual environment
	rm -rf $(VENV) data/snapshots reports/* build *.egg-info
