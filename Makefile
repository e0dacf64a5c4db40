# Two commands on a fresh machine: `make run` (dashboard on sample data) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

$(VENV)/.runtime: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt requirements-spark.txt
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

.PHONY: run test test-fast lint bench sample
run: $(VENV)/.runtime
	$(PY) -m loaders.bootstrap
	$(PY) -m service --server.headless true --server.port $(PORT)

test: $(VENV)/.dev
	bash scripts/test_all.sh

# Without the SQL servers, the browser and the slow tests (crash safety, concurrency, 500 MB
# files: `@pytest.mark.slow`); `make test` runs them all.
test-fast: $(VENV)/.dev
	$(PY) -m pytest -q -m "not services and not browser and not slow"

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .

bench: $(VENV)/.dev
	$(PY) -m bench.run

sample: $(VENV)/.runtime
	$(PY) -m loaders.bootstrap --rebuild
