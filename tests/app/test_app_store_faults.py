"""The app on a faulty run store: it starts and says so plainly on every page (damaged), still lists the
runs saved before (read-only), and a Train press on a full disk is refused plainly with no phantom run."""

import os
from pathlib import Path

import faults
import pytest
from helpers import APP, TIMEOUT, finished_run, open_page, rerun, restart_app_server, table_with
from streamlit.testing.v1 import AppTest

from core.disk import READ_ONLY
from core.runs.store import RunStore, StoreDamaged
from dashboard import session

USER = "ab" * 16  # the session's user id (AppTest has no cookies): the owner of the runs stored below
DAMAGED = StoreDamaged("").public
needs_mount = pytest.mark.skipif(not faults.can_mount(), reason="this machine does not allow mounting a tmpfs")


def app_of(user: str = USER) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["_user_id"] = user
    return rerun(at)


def texts(at: AppTest) -> list[str]:
    return [e.value for kind in (at.error, at.warning, at.markdown, at.caption, at.info) for e in kind]


def save_runs(home: Path, count: int = 2) -> list:
    store = RunStore(home)
    runs = [finished_run(owner=USER, name=f"run {i}") for i in range(count)]
    for run in runs:
        run.results["class_names"] = ["square", "circle"]  # as its two-class confusion matrix has
        store.save(run)
    store.close()
    return runs


@pytest.fixture
def on_disk(tmp_path, monkeypatch):
    """The app's home on a real 4 MB disk (tmpfs), unmounted after the test."""
    if not faults.can_mount():
        pytest.skip("this machine does not allow mounting a tmpfs")
    with faults.small_disk(tmp_path / "disk") as home:
        monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(home))
        restart_app_server()
        yield home
        restart_app_server()  # let go of the store on the disk before it is unmounted


def test_the_app_starts_on_a_damaged_store_and_says_so_plainly_on_every_page():
    home = Path(os.environ["CNN_PLAYGROUND_HOME"])
    save_runs(home)
    faults.overwrite_with_garbage(home / "runs.sqlite3")
    before = (home / "runs.sqlite3").read_bytes()
    at = app_of()
    assert [e.value for e in at.error] == [DAMAGED]
    for page in ("train", "results", "teacher", "projector"):
        at = open_page(at, page)
        assert [e.value for e in at.error] == [DAMAGED]
        assert not any(str(home) in text or "runs.sqlite3" in text for text in texts(at))
        assert not at.button  # no page is drawn under the message
    assert (home / "runs.sqlite3").read_bytes() == before  # nothing deleted
    # The operator moves it aside: the next page opens a new, empty store (no restart needed).
    (home / "runs.sqlite3").rename(home / "runs.sqlite3.damaged")
    at = open_page(at, "results")
    assert not at.error and session.manager().store.list() == []


def test_with_a_read_only_store_the_pages_list_old_runs_and_train_is_refused_plainly(on_disk):
    runs = save_runs(on_disk)
    faults.remount(on_disk, "ro")
    at = open_page(app_of(), "results")
    assert any("read-only" in w.value for w in at.warning)
    assert set(table_with(at, "Run")["Run"]) == {run.id for run in runs}
    assert sorted(r.id for r in session.manager().list(USER)) == sorted(r.id for r in runs)
    at = open_page(at, "train")
    at.button(key="train").click()
    rerun(at)
    assert READ_ONLY in [e.value for e in at.error]
    assert len(session.manager().list(USER)) == 2
    faults.remount(on_disk, "rw")


def test_train_on_a_full_disk_is_refused_plainly_and_leaves_no_waiting_run(on_disk):
    earlier = save_runs(on_disk)
    at = open_page(app_of(), "train")
    filler = faults.fill(on_disk)
    for _ in range(3):  # more than the runs one may have waiting
        at.button(key="train").click()
        rerun(at)
        errors = [e.value for e in at.error]
        assert len(errors) == 1 and errors[0].startswith("The server's disk is full")
        assert not any("waiting" in text for text in texts(at))
        assert not any(str(on_disk) in text for text in texts(at))
    assert {r.id for r in session.manager().list(USER)} == {r.id for r in earlier}  # no phantom, none lost
    filler.unlink()


def test_a_store_damaged_while_the_app_runs_is_reported_plainly_on_the_next_page():
    home = Path(os.environ["CNN_PLAYGROUND_HOME"])
    save_runs(home)
    at = open_page(app_of(), "results")
    assert not at.error
    session.manager().store.close()
    faults.overwrite_with_garbage(home / "runs.sqlite3")
    at = open_page(at, "results")
    assert DAMAGED in [e.value for e in at.error]
