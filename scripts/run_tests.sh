#!/usr/bin/env bash
# Install what the tests need (once: Debian's chromium and npm's axe-core for the browser tests, the real
# Fashion-MNIST), lint with ruff, then run the whole test suite in TEST_WORKERS (default 2) pytest-xdist
# workers: the browser tests, the Ray tests and each other module each run in one worker, one test after
# another (tests/conftest.py). Extra arguments go to pytest (`-n 0`: every test in this one process).
set -euo pipefail
cd "$(dirname "$0")/.."
node_tools=(); command -v npm >/dev/null 2>&1 || node_tools+=(npm)  # any npm will do
bash scripts/setup.sh chromium dataset-fashion-mnist "${node_tools[@]}"
# axe-core for the browser tests' accessibility check (pinned in tests/browser/package-lock.json).
if ! cmp -s tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json; then
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
  cp tests/browser/package-lock.json tests/browser/node_modules/.installed-lock.json
fi
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -n "${TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder "$@"
