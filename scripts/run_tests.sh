#!/usr/bin/env bash
# Install what the tests need (once: Debian's chromium for the browser tests, the real Fashion-MNIST),
# lint with ruff, then run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh chromium dataset-fashion-mnist
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
