"""The run manager owns ownership: another user's run, or a malformed id, is simply not found."""

import pytest
from helpers import finished_run

from core.runs.manager import RunRejected
from core.runs.record import Run
from core.runs.store import is_run_id
from core.training.hyperparams import Hyperparameters


def test_a_user_sees_and_controls_only_their_own_runs(manager):
    alice, bob = finished_run(owner="alice"), finished_run(owner="bob")
    for run in (alice, bob):
        manager.store.save(run)
    assert manager.get(alice.id, "alice").id == alice.id
    assert manager.get(alice.id, "bob") is None
    assert [r.id for r in manager.list("alice")] == [alice.id]
    assert manager.stop(alice.id, "bob") is False
    assert manager.pause(alice.id, "bob") is False
    assert manager.resume(alice.id, "bob") is False
    with pytest.raises(RunRejected, match="no longer exists"):
        manager.continue_run(alice.id, 1, "bob")
    assert manager.delete(alice.id, "bob") is False
    assert manager.store.load(alice.id) is not None  # bob's attempt left it alone
    assert manager.delete(alice.id, "alice") is True
    assert manager.get(alice.id, "alice") is None


def test_malformed_run_ids_are_not_found_and_touch_no_file(manager, tmp_path):
    outside = tmp_path / "x.keras"
    outside.write_bytes(b"not the store's")
    sneaky = "../../x"
    assert not is_run_id(sneaky) and not is_run_id("ABCDEF012345") and not is_run_id(None)
    assert is_run_id(Run({}, "shapes", Hyperparameters()).id)
    assert manager.get(sneaky, "") is None
    assert manager.stop(sneaky, "") is False
    assert manager.delete(sneaky, "") is False
    assert manager.store.delete(sneaky) is False
    assert manager.store.load(sneaky) is None
    with pytest.raises(RunRejected, match="no longer exists"):
        manager.continue_run(sneaky, 1, "")
    with pytest.raises(ValueError):
        manager.store.model_path(sneaky)
    assert outside.read_bytes() == b"not the store's"


def test_the_classroom_reads_challenge_runs_of_every_learner_and_nothing_else(manager):
    learner = finished_run(owner="ann")
    learner.challenge = "c0ffee00"
    other_class = finished_run(owner="ben")
    other_class.challenge = "beefbeef"
    private = finished_run(owner="cat")
    for run in (learner, other_class, private):
        manager.store.save(run)
    assert {r.id for r in manager.classroom_runs()} == {learner.id, other_class.id}
    assert [r.id for r in manager.classroom_runs("c0ffee00")] == [learner.id]
    assert manager.classroom_run(learner.id).id == learner.id
    assert manager.classroom_run(private.id) is None
