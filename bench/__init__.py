"""Benchmarks: scripts that print figures (none is a test), each run from the repo root as
`.venv/bin/python -m bench.NAME` (see bench/README.md). Shared parts: `_common` (set-up, the machine's load),
`stats` (medians and spreads), `_app` (the app served with `dashboard.launch.AppServer`, its memory, and
Playwright sessions)."""
