# make run  — set everything up and run the service (API, admin, Celery worker and beat).
# make test — install what the tests need and run the whole suite.
# make bench — seed 1,000,000 customers and measure the API under real HTTP load.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
SDK_DIR := tests/sdk
# Every test that writes, reads or downloads a stored file (jobs, uploads, exports, links): run twice by
# `make test`, on the filesystem and on an S3-compatible store (docs/storage.md).
S3_TESTS := tests/core/test_files.py tests/core/test_jobs.py tests/core/test_job_inputs.py \
	tests/core/test_jobs_admin.py tests/core/test_commands.py tests/users/test_import.py tests/users/test_export.py \
	tests/users/test_admin.py tests/groups tests/attributes/test_bulk.py tests/attributes/test_bulk_sets.py \
	tests/attributes/test_bulk_admin.py

.PHONY: run test bench install install-test chromium clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

$(SDK_DIR)/node_modules/.package-lock.json: $(SDK_DIR)/package.json $(SDK_DIR)/package-lock.json
	cd $(SDK_DIR) && npm ci --no-audit --no-fund --loglevel=error

install: $(STAMP)

install-test: $(TEST_STAMP) $(SDK_DIR)/node_modules/.package-lock.json

run: $(STAMP)
	$(PY) manage.py serve

test: install-test
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || $(MAKE) --no-print-directory chromium
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest
	@echo "The raw-SQL packages again with client-side parameters (DB_PREPARED_STATEMENTS=0, an external database's default):"
	DB_PREPARED_STATEMENTS=0 $(PY) -m pytest -q tests/users tests/accounts tests/groups tests/attributes
	@echo "The file and job tests again on an S3-compatible store (TEST_FILE_STORAGE=s3: a moto server, tests/s3_server.py):"
	TEST_FILE_STORAGE=s3 $(PY) -m pytest -q $(S3_TESTS)

chromium:
	@if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "The admin browser test needs Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi

bench: install-test
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  echo "make bench: no wrk (apt-get install wrk); falling back to the Python load generator" >&2
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(SDK_DIR)/node_modules
