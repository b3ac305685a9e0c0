# The README's two commands. Both create/refresh .venv themselves and are idempotent.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q

.PHONY: demo test lint format bench screenshots keys clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-install only when pyproject.toml changes.
$(VENV)/.installed-demo: pyproject.toml | $(PY)
	$(PIP) install -e ".[demo]"
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PIP) install -e ".[dev]"
	$(PIP) install --no-deps FastTrackML==0.6.0
	touch $@

demo: $(VENV)/.installed-demo
	$(VENV)/bin/pail demo

# Two pytest-xdist workers (this machine has 2 cores; the tests wait on servers half the
# time): each worker starts its own servers; a test file stays on one worker, so its
# module fixtures are built once. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=30 $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff format --no-cache --check app tests benchmarks screenshots
	$(VENV)/bin/ruff check --no-cache app tests benchmarks screenshots
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format app tests benchmarks screenshots
	$(VENV)/bin/ruff check --fix app tests benchmarks screenshots

bench: $(VENV)/.installed-test
	$(PIP) install -e ".[dev,bench]"
	$(PY) benchmarks/list_bench.py
	$(PY) benchmarks/delete_bench.py
	$(PY) benchmarks/du_bench.py
	$(PY) benchmarks/download_bench.py
	$(PY) benchmarks/level_bench.py
	$(PY) benchmarks/level_screen_bench.py --server demo
	$(PY) benchmarks/level_screen_bench.py
	$(PY) benchmarks/search_bench.py
	$(PY) benchmarks/runs_bench.py
	$(PY) benchmarks/inventory_bench.py
	$(PY) benchmarks/write_bench.py
	$(PY) benchmarks/speed_bench.py

# Rewrite the README's key tables from the app's bindings (tests/ui/test_keymap.py checks).
keys: $(VENV)/.installed-test
	$(PY) -m pail.ui.keymap README.md

# Recapture the README's screenshots from the real app on the demo store.
screenshots: $(VENV)/.installed-test
	$(PY) screenshots/capture.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
