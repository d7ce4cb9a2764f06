"""The house rule that keeps a browser session in one place: only dashboard/session touches
``st.session_state`` and the URL (``st.query_params``); pages use its accessors."""

from pathlib import Path

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"


def test_only_the_session_package_touches_session_state_and_the_url():
    offenders = [
        f"{path.relative_to(DASHBOARD.parent)}:{number}"
        for path in DASHBOARD.rglob("*.py")
        if "session" not in path.relative_to(DASHBOARD).parts[:1]
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "session_state" in line.split("#")[0] or "query_params" in line.split("#")[0]
    ]
    assert offenders == [], "use dashboard.session's accessors instead"
