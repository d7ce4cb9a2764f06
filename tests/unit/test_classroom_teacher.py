"""The classroom's teacher-only service (core.classroom.teacher.Classroom): every change of a challenge and
every export of a class's results is refused in the engine, with nothing changed, unless it comes with a
valid teacher token; the Teacher page's own check is only what it shows."""

import ast
import io
import time
import zipfile
from pathlib import Path

import pytest
from helpers import finished_run, model1_challenge

from core.classroom.challenges import ChallengeRejected
from core.classroom.class_results import class_results_zip
from core.classroom.login import TOKEN_SECONDS, LoginThrottle, make_teacher_token
from core.classroom.teacher import Classroom, NotTeacher
from core.disk import READ_ONLY
from core.identity import new_user_id, recovery_code
from core.runs.challenges import ChallengeStore
from core.runs.store import StoreReadOnly
from core.training.hyperparams import Hyperparameters

PASSWORD = "s3cret"
TEACHER = "t" * 32  # the teacher's user id
FORM = dict(
    title="Tiny models",
    dataset="shapes",
    preset="model1",
    max_params=120_000,
    max_epochs=3,
    hyperparameters=Hyperparameters(epochs=2, batch_size=32, limit_train=300, limit_test=60),
    locked=("optimizer",),
)
EDIT = dict(title="Take two", max_params=100_000, max_epochs=4, hyperparameters=Hyperparameters(epochs=2))


@pytest.fixture
def room(manager):
    return Classroom(manager, PASSWORD)


@pytest.fixture
def challenge(manager):
    """A challenge with one learner's finished run on its board."""
    made = ChallengeStore(manager.store).save(model1_challenge(reset_at=0.0))
    run = finished_run(owner="a" * 32, name="Ada's")
    run.challenge, run.learner = made.code, "Ada"
    manager.store.save(run)
    return made


def class_file(room, challenge) -> bytes:
    return class_results_zip(room.manager.store, challenge, room.manager.classroom_runs(challenge.code))


def learners_tokens(room) -> dict[str, object]:
    """What a learner (or nobody) could hand the service instead of a teacher's token."""
    learner = new_user_id()
    return {
        "no token": None,
        "an empty token": "",
        "a learner's id": learner,
        "a learner's recovery code": recovery_code(learner),
        "an expired token": make_teacher_token(room.secret, PASSWORD, now=time.time() - TOKEN_SECONDS - 1),
        "a token of another password": make_teacher_token(room.secret, "guessed"),
        "a token of another server": make_teacher_token(b"another server's secret", PASSWORD),
        "a forged expiry": f"{int(time.time()) + 3600}." + "0" * 64,
    }


# Every teacher-only operation, as (name, call with a token).
OPERATIONS = {
    "create": lambda room, c, token: room.create(token, teacher=TEACHER, **FORM),
    "edit": lambda room, c, token: room.edit(token, c.code, **EDIT),
    "close": lambda room, c, token: room.set_closed(token, c.code, True),
    "reset the leaderboard": lambda room, c, token: room.reset_leaderboard(token, c.code),
    "delete": lambda room, c, token: room.delete(token, c.code),
    "import": lambda room, c, token: room.import_challenge(token, class_file(room, c), teacher=TEACHER),
    "export the CSV": lambda room, c, token: room.class_results_csv(token, c.code),
    "export the zip": lambda room, c, token: room.class_results_zip(token, c.code),
    "list every challenge": lambda room, c, token: room.list(token),
}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_without_a_teachers_token_nothing_is_changed_or_exported(room, challenge, operation):
    before = room.challenges.list()
    for what, token in learners_tokens(room).items():
        with pytest.raises(NotTeacher) as refused:
            OPERATIONS[operation](room, challenge, token)
        assert "logged-in teacher" in str(refused.value), what
        assert room.challenges.list() == before, what  # nothing made, changed or deleted


def test_the_teacher_logs_in_and_then_creates_edits_closes_resets_exports_imports_and_deletes(room, challenge):
    token = room.log_in(PASSWORD, "a browser session")
    assert room.is_teacher(token)
    made = room.create(token, teacher=TEACHER, **FORM)
    assert (made.title, made.train_images, made.locked) == ("Tiny models", 300, ("optimizer",))
    assert [c.code for c in room.list(token)] == [made.code, challenge.code]  # newest first
    edited = room.edit(token, made.code, **EDIT)
    assert (edited.title, edited.max_params, edited.max_epochs) == ("Take two", 100_000, 4)
    assert room.set_closed(token, made.code, True).closed
    assert not room.set_closed(token, made.code, False).closed
    assert room.reset_leaderboard(token, challenge.code).reset_at > 0
    assert room.class_results_csv(token, challenge.code).splitlines()[0].startswith("rank,learner")
    room.challenges.update(challenge.code, reset_at=0.0)
    csv = room.class_results_csv(token, challenge.code)
    assert "Ada" in csv and "a" * 32 not in csv  # the learner's name, never their id
    names = zipfile.ZipFile(io.BytesIO(room.class_results_zip(token, challenge.code))).namelist()
    assert {"manifest.json", "challenge.json", "leaderboard.csv"} <= set(names)
    imported = room.import_challenge(token, class_file(room, challenge), teacher=TEACHER)
    assert imported.code != challenge.code and imported.title == challenge.title
    assert room.delete(token, made.code) and room.challenges.get(made.code) is None
    assert room.class_results_csv(token, made.code) is None  # deleted: nothing to export
    assert room.edit(token, made.code, **EDIT) is None


def test_a_login_made_before_the_password_changed_or_that_expired_no_longer_counts(manager, challenge):
    room = Classroom(manager, PASSWORD)
    token = room.log_in(PASSWORD, "session")
    changed = Classroom(manager, "a new password", secret=room.secret)
    with pytest.raises(NotTeacher):
        changed.delete(token, challenge.code)
    nearly = make_teacher_token(room.secret, PASSWORD, now=time.time() - TOKEN_SECONDS + 60)
    assert room.set_closed(nearly, challenge.code, True).closed  # a minute left: still the teacher's
    expired = make_teacher_token(room.secret, PASSWORD, now=time.time() - TOKEN_SECONDS - 1)
    with pytest.raises(NotTeacher):
        room.set_closed(expired, challenge.code, False)
    assert room.challenges.get(challenge.code).closed


def test_wrong_passwords_are_refused_and_slow_down_the_next_try(manager):
    room = Classroom(manager, PASSWORD, throttle=LoginThrottle(free=2, first_wait=60))
    for _ in range(2):
        with pytest.raises(NotTeacher, match="That password is not right"):
            room.log_in("wrong", "session")
    with pytest.raises(NotTeacher, match="Too many wrong passwords: wait 60 s"):
        room.log_in(PASSWORD, "session")  # even the right one waits now
    assert room.is_teacher(room.log_in(PASSWORD, "another session"))


def test_with_classroom_mode_off_nobody_is_a_teacher(manager, challenge):
    room = Classroom(manager, "")
    with pytest.raises(NotTeacher, match="Classroom mode is off"):
        room.log_in("", "session")
    with pytest.raises(NotTeacher, match="Classroom mode is off"):
        room.delete(make_teacher_token(room.secret, ""), challenge.code)
    assert room.challenges.get(challenge.code) is not None


def test_an_edit_to_put_right_or_a_store_that_cannot_take_it_is_said_plainly(room, challenge, monkeypatch):
    token = room.log_in(PASSWORD, "session")
    with pytest.raises(ChallengeRejected) as rejected:
        room.edit(token, challenge.code, **{**EDIT, "title": "  ", "max_epochs": 1})
    assert rejected.value.problems[:2] == [
        "Give the challenge a title.",
        "The starting number of epochs is above the most epochs allowed.",
    ]

    def read_only():
        raise StoreReadOnly()

    monkeypatch.setattr(room.challenges, "_connect", read_only)  # the store's disk turned read-only
    for change in (lambda: room.delete(token, challenge.code), lambda: room.set_closed(token, challenge.code, True)):
        with pytest.raises(ChallengeRejected) as rejected:
            change()
        assert rejected.value.problems == [READ_ONLY]


def test_the_app_changes_challenges_only_through_the_teacher_only_service():
    """No page or session module calls the unguarded building blocks or writes the challenge store."""
    unguarded = {"create_challenge", "import_challenge", "class_results_zip", "class_results_csv"}
    writes = {"save", "update", "delete", "reset"}
    found = []
    dashboard = Path(__file__).resolve().parents[2] / "dashboard"
    for path in sorted(dashboard.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("core.classroom"):
                found += [f"{path.name} imports {a.name}" for a in node.names if a.name in unguarded]
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in writes
                and isinstance(node.func.value, ast.Call)
                and getattr(node.func.value.func, "attr", getattr(node.func.value.func, "id", "")) == "challenges"
            ):
                found.append(f"{path.name} line {node.lineno} writes the challenge store")
    assert found == []
