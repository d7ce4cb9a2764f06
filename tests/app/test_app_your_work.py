"""Results → Your work: save a file of work, open it in another browser, and the recovery code."""

from helpers import APP, TIMEOUT, finished_run, open_page, rerun
from streamlit.testing.v1 import AppTest

import core.runs.manager

ALICE = "a11ce0000000000000000000000000a1"
BOB = "b0b0000000000000000000000000b0b0"


def browser(owner: str | None = None) -> AppTest:
    """A new browser session; with ``owner``, as if it sent that learner's cookie (AppTest has none)."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if owner:
        at.session_state["_user_id"] = owner
    rerun(at)
    return open_page(at, "results")


def alice_with_a_run() -> AppTest:
    run = finished_run(owner=ALICE, name="alice's first")
    run.results["class_names"] = ["square", "circle"]
    core.runs.manager.default_manager().store.save(run)
    return browser(ALICE)


def texts(elements) -> str:
    return " ".join(e.value for e in elements)


def test_save_my_work_then_open_it_in_another_browser():
    alice = alice_with_a_run()
    assert "work_download" not in [b.key for b in alice.download_button]  # the file is made only when asked for
    alice.button(key="work_prepare").click()
    rerun(alice)
    assert alice.download_button(key="work_download").label == "Save my work (.zip)"
    assert "holds 1 run" in texts(alice.caption)
    data = alice.session_state["_prepared_work"][0].data

    bob = browser(BOB)
    assert "No runs yet" in texts(bob.info)
    bob.file_uploader(key="work_file").upload("cnn-playground-work.zip", data, "application/zip")
    rerun(bob)
    bob.button(key="work_open").click()
    rerun(bob)
    assert "Opened 1 run." in texts(bob.success)
    rerun(bob)
    (label,) = bob.selectbox(key="results_run").options
    assert "alice's first" in label
    assert len(core.runs.manager.default_manager().list(ALICE)) == 1  # Alice's own run is untouched

    bob.file_uploader(key="work_file").upload("notes.zip", b"not a zip at all", "application/zip")
    rerun(bob)
    bob.button(key="work_open").click()
    rerun(bob)
    assert "not a file of work" in texts(bob.error)


def test_the_recovery_code_is_shown_on_request_and_makes_a_fresh_browser_the_same_learner():
    alice = alice_with_a_run()
    assert ALICE not in texts(alice.code).replace("-", "")  # not shown until asked for
    alice.button(key="recovery_show").click()
    rerun(alice)
    code = alice.code[-1].value
    assert code.replace("-", "") == ALICE
    assert "Anyone with this code can see" in texts(alice.warning)
    assert not any(code in str(v) or ALICE in str(v) for v in alice.query_params.values())

    fresh = browser()
    for typed, problem in [
        ("not a code", "only the digits 0-9"),
        ("ffff-" * 7 + "ffff", "No runs or data sets belong to that code"),
    ]:
        fresh.text_input(key="recovery_code_typed").input(typed)
        fresh.button(key="recovery_use").click()
        rerun(fresh)
        assert problem in texts(fresh.error)
    fresh.text_input(key="recovery_code_typed").input(code)
    fresh.button(key="recovery_use").click()
    rerun(fresh)
    assert "this browser now shows your runs" in texts(fresh.success)
    assert fresh.session_state["_user_id"] == ALICE
    assert fresh.text_input(key="recovery_code_typed").value == ""  # the typed secret is not kept
    rerun(fresh)
    assert "alice's first" in fresh.selectbox(key="results_run").options[0]
    cookie_scripts = [h.proto.body for h in fresh.get("html") if "cnn_playground_user=" in h.proto.body]
    assert any(ALICE in s for s in cookie_scripts)  # the browser's cookie is set to Alice's id
