"""axe-core (npm, pinned in tests/browser/package.json) injected into the app's pages by Playwright."""

from __future__ import annotations

from kit import ROOT

AXE_JS = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
# Streamlit's own markup that the app cannot change, by axe rule and the element's data-testid. The file
# uploader's drop area is react-dropzone's role="presentation" section, which Streamlit gives an aria-label
# and tabindex="-1" (its Browse button is the one keyboard stop): axe's minor presentation-role-conflict.
STREAMLIT_OWN = {("presentation-role-conflict", "stFileUploaderDropzone")}

_RUN_AXE = """async () => {
    const result = await axe.run(document, {resultTypes: ['violations']});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => ({
            target: n.target.join(' '),
            testid: n.html.match(/data-testid="([^"]+)"/)?.[1] || '',
            summary: (n.failureSummary || '').slice(0, 160),
        })),
    }));
}"""


def axe_violations(page) -> list[dict]:
    """Every axe-core violation of the page as it is now: id, impact, help and its elements.

    The script is injected once per page load (Streamlit switches pages without loading a new document)."""
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run `npm ci --prefix tests/browser` (scripts/run_tests.sh does)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_RUN_AXE)


def of_the_app(violations: list[dict]) -> list[dict]:
    """The violations whose elements the app makes (not only Streamlit's own markup in STREAMLIT_OWN)."""
    kept = []
    for violation in violations:
        nodes = [n for n in violation["nodes"] if (violation["id"], n["testid"]) not in STREAMLIT_OWN]
        if nodes:
            kept.append({**violation, "nodes": nodes})
    return kept


def summary_line(violations: list[dict]) -> str:
    return ", ".join(f"{v['id']} ({v['impact']}) ×{len(v['nodes'])}" for v in violations) or "none"


def describe(violations: list[dict]) -> str:
    return "\n".join(
        f"  {v['impact']:8} {v['id']} ×{len(v['nodes'])}: {v['help']}\n    "
        + "\n    ".join(f"{n['target']} [{n['testid']}] :: {n['summary']}" for n in v["nodes"][:4])
        for v in violations
    )
