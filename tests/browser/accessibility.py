"""axe-core (npm, pinned in tests/browser/package.json) injected into the app's pages by Playwright."""

from __future__ import annotations

from kit import ROOT

AXE_JS = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")  # what a page may not have

_RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
        targets: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '').slice(0, 160)),
    }));
}"""


def axe_violations(page) -> list[dict]:
    """Every axe-core violation of the page as it is now: id, impact, help, count and a few targets.

    The script is injected once per page load (Streamlit switches pages without loading a new document)."""
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `npm ci --prefix tests/browser` (scripts/run_tests.sh does)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_RUN_AXE)


def blocking(violations: list[dict]) -> list[dict]:
    return [v for v in violations if v["impact"] in BLOCKING]


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"  {v['impact']:8} {v['id']} ×{v['count']}: {v['help']}\n    " + "\n    ".join(v["targets"])
        for v in violations
    )
