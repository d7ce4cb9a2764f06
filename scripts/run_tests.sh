#!/usr/bin/env bash
# Install what the tests need (once: Debian's chromium for the browser tests, the real Fashion-MNIST),
# lint with ruff, then run the whole test suite in TEST_WORKERS (default 2) pytest-xdist workers: the
# browser tests, the Ray tests and each other module each run in one worker, one test after another
# (tests/conftest.py). Extra arguments go to pytest (`-n 0`: every test in this one process).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh chromium dataset-fashion-mnist
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder "$@"
