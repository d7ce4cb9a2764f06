#!/usr/bin/env bash
# Install what the app needs (once), then start it on http://localhost:8501
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh dataset-fashion-mnist
exec .venv/bin/streamlit run dashboard/app.py "$@"
