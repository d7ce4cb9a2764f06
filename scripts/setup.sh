#!/usr/bin/env bash
# Shared set-up for a fresh Debian/Ubuntu machine: Debian packages given as arguments, then a venv in .venv
# with requirements.txt. Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=("$@")
if ! python3 -m venv --help >/dev/null 2>&1; then apt_packages+=(python3-venv python3-pip); fi
missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
# The project itself is installed editable (its `cnn-playground` command, `core` and `dashboard` importable
# from anywhere); the pinned versions come from requirements.txt.
if ! cat requirements.txt pyproject.toml | cmp -s - .venv/.requirements.installed; then
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -r requirements.txt
  .venv/bin/pip install -q --no-deps --no-build-isolation -e .
  cat requirements.txt pyproject.toml > .venv/.requirements.installed
fi
