#!/usr/bin/env bash
# Install what the app needs (once), then start it on http://localhost:8501 (arguments go to streamlit run)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dataset-fashion-mnist
exec .venv/bin/cnn-playground "$@"
