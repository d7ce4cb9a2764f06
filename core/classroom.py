"""Classroom challenges: a teacher's task with limits, the learners' runs, and the class leaderboard.

A challenge fixes the data set, caps parameters and epochs, and locks or hides training controls. Its
rules (core.runs.challenges) are checked by the RunManager when a learner's run starts, not only by the
pages; this module is the teacher's side: making and editing challenges, the password, the hidden test
set's split, the leaderboard and race, a class's results exported and imported.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from core.data.datasets import CLASSIFICATION, DATASETS, USER_PREFIX, Dataset, load_dataset
from core.data.user_datasets import UserDatasetStore
from core.disk import DISK_FAILING, disk_problem
from core.insight import compare
from core.model.spec import analyze
from core.numbers import strict_json
from core.runs.challenges import (  # noqa: F401  (the challenge's rules, named here for the classroom's callers)
    CONTROLS,
    HIDDEN_SCORE,
    HYPERPARAMETER_CONTROLS,
    Challenge,
    ChallengeStore,
    hidden_test_path,
    load_hidden_test,
    save_hidden_test,
)
from core.runs.record import Run, Status
from core.runs.store import RunStore, StoreError
from core.text import CHALLENGE_TITLE_CHARS, DATASET_TITLE_CHARS, ascii_whole_number, clean_name
from core.training.hyperparams import MAX_EPOCHS, Hyperparameters
from core.training.presets import PRESETS
from core.training.validation import InvalidInput, check_hyperparameters
from core.work import (
    WorkArchive,
    WorkFileError,
    WorkLimits,
    add_dataset,
    add_run,
    free_title,
    read_arrays,
    read_dataset,
    save_dataset,
)


def new_code() -> str:
    return secrets.token_hex(4)


def check_teacher_password(given: str, configured: str) -> bool:
    """Constant-time comparison; with no password configured, nobody is a teacher."""
    return bool(configured) and hmac.compare_digest(
        given.encode(errors="surrogatepass"), configured.encode(errors="surrogatepass")
    )


# --- teacher login: slowed down after failures, remembered by a signed token (never the password) ---

_SIGNATURE = re.compile(r"[0-9a-f]{64}", re.ASCII)  # a SHA-256 HMAC in hex; compare_digest refuses non-ASCII text
TOKEN_SECONDS = 12 * 3600  # a teacher's login lasts a school day
SERVER_KEY = "*"  # the throttle's key for all sessions of the server together


class LoginThrottle:
    """Wrong passwords make the next try wait: after ``free`` failures for a key (a browser session,
    or the whole server with its own larger allowance), each further failure doubles the wait, up to
    ``longest`` seconds. A right password clears its session's count, not the server's.
    """

    def __init__(self, free: int = 3, server_free: int = 20, first_wait: float = 2.0, longest: float = 300.0):
        self.free, self.server_free = free, server_free
        self.first_wait, self.longest = first_wait, longest
        self._failures: dict[str, tuple[int, float]] = {}  # key -> (failures, time of the last)
        self._lock = threading.Lock()

    def _wait(self, key: str, free: int, now: float) -> float:
        count, last = self._failures.get(key, (0, 0.0))
        if count < free:
            return 0.0
        wait = min(self.first_wait * 2 ** (count - free), self.longest)
        return max(0.0, last + wait - now)

    def seconds_to_wait(self, session: str, now: float | None = None) -> float:
        """How long this session must wait before its next try (0: it may try now)."""
        now = time.time() if now is None else now
        with self._lock:
            return max(self._wait(session, self.free, now), self._wait(SERVER_KEY, self.server_free, now))

    def failed(self, session: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._lock:
            for key in (session, SERVER_KEY):
                count, _ = self._failures.get(key, (0, 0.0))
                self._failures[key] = (count + 1, now)

    def succeeded(self, session: str) -> None:
        with self._lock:
            self._failures.pop(session, None)


_PROCESS_SECRET = secrets.token_bytes(32)


def server_secret(home: Path) -> bytes:
    """This server's signing key: CNN_PLAYGROUND_SECRET, else a random key kept in the store's home
    (readable by the server's user only), made on first use."""
    configured = os.environ.get("CNN_PLAYGROUND_SECRET", "")
    if configured:
        return configured.encode()
    path = Path(home) / "secret.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError):
        pass
    key = secrets.token_bytes(32)
    tmp = path.with_suffix(f".{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key.hex())
    except OSError:  # a read-only or full disk: a key for this process only (logins last until a restart)
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        return _PROCESS_SECRET
    try:
        os.link(tmp, path)  # the first server to write it wins; everyone then reads the same key
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return bytes.fromhex(path.read_text().strip())


def _token_signature(secret: bytes, password: str, expires: int) -> str:
    # The password is part of the key: changing it logs every teacher out.
    key = hmac.new(secret, password.encode(), hashlib.sha256).digest()
    return hmac.new(key, f"teacher:{expires}".encode(), hashlib.sha256).hexdigest()


def make_teacher_token(secret: bytes, password: str, now: float | None = None, seconds: int = TOKEN_SECONDS) -> str:
    """A token that proves a teacher logged in, until it expires: ``expiry.signature``."""
    expires = int((time.time() if now is None else now) + seconds)
    return f"{expires}.{_token_signature(secret, password, expires)}"


def check_teacher_token(token: str, secret: bytes, password: str, now: float | None = None) -> bool:
    """True for an unexpired token made with this server's secret and the current password."""
    if not password or not isinstance(token, str) or token.count(".") != 1:
        return False
    text, signature = token.split(".")
    expires = ascii_whole_number(text)  # a cookie is anyone's text: "¹⁷⁹⁹" passes isdigit() but not int()
    if expires is None or expires < (time.time() if now is None else now):
        return False
    if not _SIGNATURE.fullmatch(signature):
        return False
    return hmac.compare_digest(signature, _token_signature(secret, password, expires))


# --- a hidden test set: kept back from learners, scored only for the leaderboard -------------------


def split_hidden_test(x_test: np.ndarray, y_test: np.ndarray, count: int, seed: int = 0):
    """``count`` test examples, drawn at random, kept back; returns (visible x, visible y, hidden x, hidden y)."""
    if not 1 <= count < len(x_test):
        raise ValueError(f"Keep back between 1 and {len(x_test) - 1} test examples (got {count}).")
    order = np.random.default_rng(seed).permutation(len(x_test))
    hidden, visible = np.sort(order[:count]), np.sort(order[count:])
    return x_test[visible], y_test[visible], x_test[hidden], y_test[hidden]


def keep_back_hidden_test(home: Path, code: str, dataset: Dataset, count: int, owner: str) -> str:
    """Keep ``count`` of the data set's test examples back for challenge ``code``'s leaderboard.

    The learners' data set becomes a copy without them (an imported data set of ``owner``, the
    teacher); the kept-back examples go to a file no page reads. Returns the copy's name.
    """
    if dataset.task != CLASSIFICATION:
        raise ValueError("A hidden test set is scored by accuracy: it needs a data set of classes.")
    x_test, y_test, x_hidden, y_hidden = split_hidden_test(dataset.x_test, dataset.y_test, count)
    save_hidden_test(home, code, x_hidden, y_hidden)
    suffix = f" (challenge {code})"
    return UserDatasetStore(home).save(
        owner=owner,
        title=clean_name(dataset.title, DATASET_TITLE_CHARS - len(suffix)) + suffix,
        arrays={"x_train": dataset.x_train, "y_train": dataset.y_train, "x_test": x_test, "y_test": y_test},
        class_names=dataset.class_names,
        details={"hidden_test": int(count), "challenge": code, "from": dataset.name},
    )


def leaderboard_score(run: Run, challenge: Challenge) -> float | None:
    """The accuracy the leaderboard ranks by: on the hidden test set when the challenge keeps one."""
    if challenge.hidden_test:
        return (run.results or {}).get(HIDDEN_SCORE)
    return run.test_accuracy


def leaderboard(runs: list[Run], challenge: Challenge) -> list[dict]:
    """The class leaderboard: the challenge's finished runs since its last reset, on the one leaderboard
    (core.insight.compare.leaderboard): best score first (the test accuracy, or the accuracy on the
    hidden test set when the challenge keeps one); equal scores, the smaller model first."""
    counted = [
        run
        for run in runs
        if run.challenge == challenge.code
        and run.status == Status.FINISHED
        and leaderboard_score(run, challenge) is not None
        and (run.ended or 0) >= challenge.reset_at
    ]
    return compare.leaderboard(counted, score=lambda run: leaderboard_score(run, challenge))


def race(runs: list[Run], challenge: Challenge, batch_history: Callable[[Run], list[dict]] | None = None) -> list[dict]:
    """Every learner's current run of the challenge (their newest since the last reset), for the live race.

    Each entry: learner, run_id, status, active, ``batches`` and ``epochs`` (the run's history),
    ``batches_per_epoch``, and ``score`` (the latest validation accuracy, else the latest training
    accuracy), with ``leader`` True for the best score. Learners are told apart by their browser, so two
    learners who typed the same name still race separately.

    Args:
        batch_history: a run's per-batch history; by default what the run object holds (a run listed
            from the store holds none once it has ended, so the projector hands in a loader).
    """
    batch_history = batch_history or (lambda run: run.batch_history())
    newest: dict[str, Run] = {}
    for run in runs:
        if run.challenge != challenge.code or (run.created or 0) < challenge.reset_at:
            continue
        if run.status not in Status.ACTIVE and run.status != Status.FINISHED and run.status != Status.STOPPED:
            continue  # failed or interrupted: the learner's previous one stays on the board
        key = run.owner or run.id
        if key not in newest or run.created > newest[key].created:
            newest[key] = run
    entries = []
    for run in sorted(newest.values(), key=lambda r: r.created):
        epochs = run.epoch_history()
        batches = batch_history(run)
        validation = [e["val_accuracy"] for e in epochs if e.get("val_accuracy") is not None]
        training = [b["accuracy"] for b in batches if b.get("accuracy") is not None]
        score = validation[-1] if validation else (training[-1] if training else None)
        entries.append(
            {
                "learner": run.learner or "anonymous",
                "run_id": run.id,
                "status": run.status,
                "active": run.active,
                "batches": batches,
                "epochs": epochs,
                "batches_per_epoch": run.batches_per_epoch or 1,
                "score": score,
                "leader": False,
            }
        )
    scored = [e for e in entries if e["score"] is not None]
    if scored:
        max(scored, key=lambda e: e["score"])["leader"] = True
    return entries


# --- a teacher's new challenge --------------------------------------------------------------------


def setup_problems(title: str, max_epochs: int, hyperparameters: Hyperparameters) -> list[str]:
    """Why a teacher's new challenge cannot be created as filled in (empty when it can)."""
    found = []
    if not clean_name(title, CHALLENGE_TITLE_CHARS):
        found.append("Give the challenge a title.")
    if hyperparameters.epochs > max_epochs:
        found.append("The starting number of epochs is above the most epochs allowed.")
    return found


def starting_model_warning(challenge: Challenge) -> str | None:
    """A word for the teacher when the challenge's starting model breaks its own parameter limit."""
    data = load_dataset(challenge.dataset)
    start = analyze(PRESETS[challenge.preset].spec(data.input_shape, data.num_classes)).total_params
    if start <= challenge.max_params:
        return None
    return (
        f"The starting model has {start:,} parameters, more than the {challenge.max_params:,} allowed: "
        "learners must shrink it before they can train."
    )


class ChallengeRejected(Exception):
    """A teacher's challenge cannot be saved as filled in; ``problems`` say what to change."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


def create_challenge(
    challenges: ChallengeStore,
    *,
    teacher: str,
    title: str,
    dataset: str,
    preset: str,
    max_params: int,
    max_epochs: int,
    hyperparameters: Hyperparameters,
    locked=(),
    hidden=(),
    hidden_test: int = 0,
) -> Challenge:
    """Check and save a new challenge; with ``hidden_test`` its learners get a copy of the data set
    without that many test examples, which only score the leaderboard (see keep_back_hidden_test).

    ``teacher`` is the teacher's user id: a data set they imported may be the challenge's.
    Raises ChallengeRejected with plain sentences when it cannot be made.
    """
    problems = setup_problems(title, max_epochs, hyperparameters) + hyperparameters.problems()
    data = load_dataset(dataset)
    if data.owner and data.owner != teacher:
        problems.append("That data set was imported by someone else: choose one of yours.")
    if hidden_test:
        if data.task != CLASSIFICATION:
            problems.append("A hidden test set is scored by accuracy: it needs a data set of classes.")
        elif not 1 <= hidden_test <= len(data.x_test) // 2:
            problems.append(
                f"Keep back between 1 and {len(data.x_test) // 2:,} test images (half of the "
                f"{len(data.x_test):,} this data set has), or 0 for none."
            )
    if problems:
        raise ChallengeRejected(problems)
    code = new_code()
    try:
        if hidden_test:
            dataset = keep_back_hidden_test(challenges.store.home, code, data, hidden_test, owner=teacher)
        return challenges.save(
            Challenge(
                code=code,
                title=title,  # cleaned by Challenge itself
                dataset=dataset,
                preset=preset,
                max_params=int(max_params),
                max_epochs=int(max_epochs),
                hyperparameters=hyperparameters,
                locked=tuple(c for c in locked if c not in hidden),
                hidden=tuple(hidden),
                hidden_test=int(hidden_test),
            )
        )
    except StoreError as error:  # a read-only, full or damaged store, in its plain words
        raise ChallengeRejected([error.public]) from None
    except OSError as error:  # writing the hidden test set
        raise ChallengeRejected([disk_problem(error) or DISK_FAILING]) from None


def edit_problems(challenge: Challenge, title: str, max_epochs: int, hyperparameters: Hyperparameters) -> list[str]:
    """Why an edit of a challenge cannot be saved (empty when it can)."""
    return setup_problems(title, max_epochs, hyperparameters) + hyperparameters.problems()


# --- a class's results, exported; a challenge taken to another server -------------------------------

CLASS_FORMAT = "cnn-playground-class"
CLASS_CSV_COLUMNS = (
    "rank",
    "learner",
    "learners_best",
    "run_id",
    "name",
    "architecture",
    "params",
    "epochs",
    "score",
    "test_loss",
    "train_seconds",
    "seconds_to_target",
)
_CLASS_MEMBER = re.compile(
    r"manifest\.json|challenge\.json|leaderboard\.csv|hidden_test\.npz"
    r"|runs/[0-9a-f]{12}/[a-z.]+|datasets/own-[0-9a-f]{12}/[a-z.]+"
)
_CHALLENGE_FIELDS = ("title", "dataset", "preset", "max_params", "max_epochs", "hyperparameters", "locked", "hidden")


def learners_best_runs(runs: list[Run], challenge: Challenge) -> list[Run]:
    """Each learner's best run on the challenge's leaderboard (learners told apart by their browser)."""
    by_id = {run.id: run for run in runs}
    best: dict[str, Run] = {}
    for row in leaderboard(runs, challenge):  # best first
        run = by_id[row["run_id"]]
        best.setdefault(run.owner or run.id, run)
    return list(best.values())


def class_results_csv(runs: list[Run], challenge: Challenge) -> str:
    """The leaderboard as CSV, one row per counted run, with each learner's best marked (no owner ids)."""
    best = {run.id for run in learners_best_runs(runs, challenge)}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CLASS_CSV_COLUMNS)
    for row in leaderboard(runs, challenge):
        reached = row.get("target_reached") or {}
        values = {
            **row,
            "learners_best": "yes" if row["run_id"] in best else "",
            "seconds_to_target": reached.get("seconds"),
        }
        writer.writerow(["" if values.get(c) is None else values[c] for c in CLASS_CSV_COLUMNS])
    return out.getvalue()


def class_results_zip(store: RunStore, challenge: Challenge, runs: list[Run]) -> bytes:
    """The challenge (to import on another server), its leaderboard as CSV, every learner's best run
    (record, histories, model; never the learner's id), and the challenge's own data set and hidden test
    set when it has them."""
    datasets = UserDatasetStore(store.home)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps({"format": CLASS_FORMAT, "version": 1, "created": time.time()}))
        record = {k: v for k, v in challenge.to_dict().items() if k in _CHALLENGE_FIELDS + ("hidden_test",)}
        archive.writestr("challenge.json", json.dumps(strict_json(record)))
        archive.writestr("leaderboard.csv", class_results_csv(runs, challenge))
        for run in learners_best_runs(runs, challenge):
            add_run(archive, store, run)
        meta = datasets.meta(challenge.dataset)
        if meta is not None:
            add_dataset(archive, datasets, meta)
        if challenge.hidden_test and hidden_test_path(store.home, challenge.code).is_file():
            archive.write(hidden_test_path(store.home, challenge.code), "hidden_test.npz")
    return buffer.getvalue()


def _imported_challenge_fields(record) -> dict:
    """A challenge's settings from a file, checked as a teacher's form would be (ChallengeRejected if not)."""
    if not isinstance(record, dict):
        raise ChallengeRejected(["The challenge in this file is not in the expected form."])
    problems = []
    title = record.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 80:
        problems.append("Its title is not a text of 1 to 80 characters.")
    if record.get("preset") not in PRESETS:
        problems.append("Its starting model is not one of this app's presets.")
    numbers = {"max_params": 10**10, "max_epochs": MAX_EPOCHS, "hidden_test": 10**7}
    for key, high in numbers.items():
        value = record.get(key, 0)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= high:
            problems.append(f"Its {key.replace('_', ' ')} is not a whole number from 0 to {high:,}.")
    for key in ("locked", "hidden"):
        value = record.get(key, [])
        if not isinstance(value, list) or not all(c in CONTROLS for c in value):
            problems.append(f"Its {key} controls are not controls of this app.")
    try:
        hyperparameters = check_hyperparameters(record.get("hyperparameters"), "challenge's training settings")
    except InvalidInput as error:
        problems.append(str(error))
        hyperparameters = None
    if problems:
        raise ChallengeRejected(problems)
    return {
        "title": title.strip(),
        "preset": record["preset"],
        "max_params": record["max_params"],
        "max_epochs": record["max_epochs"],
        "hidden_test": record.get("hidden_test", 0),
        "hyperparameters": hyperparameters,
        "locked": tuple(record.get("locked", [])),
        "hidden": tuple(record.get("hidden", [])),
    }


def import_challenge(source, challenges: ChallengeStore, *, teacher: str) -> Challenge:
    """A new challenge on this server from a class results zip (class_results_zip) of another.

    Its data set comes with it when it was one the teacher imported (it becomes this teacher's), and so
    does its hidden test set. The learners' runs in the file stay in the file: they belong to the other
    server's learners. Raises ChallengeRejected with plain sentences, writing nothing, when the file is
    not usable.
    """

    store = challenges.store
    datasets = UserDatasetStore(store.home)
    limits = WorkLimits()
    try:
        archive = WorkArchive(source, limits, what="class results file", pattern=_CLASS_MEMBER)
        with archive.zip:
            manifest = archive.json("manifest.json", max_bytes=10_000, max_depth=2)
            if not isinstance(manifest, dict) or manifest.get("format") != CLASS_FORMAT:
                raise WorkFileError("This is not a class results file (export one on the Teacher page).")
            record = archive.json("challenge.json", max_bytes=100_000, max_depth=4)
            fields = _imported_challenge_fields(record)
            dataset = record.get("dataset")
            own = None
            if isinstance(dataset, str) and dataset.startswith(USER_PREFIX):
                if not archive.has(f"datasets/{dataset}/meta.json"):
                    raise WorkFileError("This file's challenge uses an imported data set that is not in the file.")
                own = read_dataset(archive, dataset, 1)
            elif dataset not in DATASETS:
                raise WorkFileError("This file's challenge uses a data set this app does not know.")
            hidden = None
            if fields["hidden_test"]:
                arrays = read_arrays(archive.read("hidden_test.npz"), "The hidden test set", limits)
                if set(arrays) != {"x", "y"} or len(arrays["x"]) != len(arrays["y"]) or not len(arrays["y"]):
                    raise WorkFileError("The hidden test set in this file is not images with their labels.")
                hidden = arrays
    except WorkFileError as error:
        raise ChallengeRejected([str(error)]) from None
    code = new_code()
    if own is not None:
        dataset = save_dataset(
            datasets, teacher, own, free_title(own.meta["title"], [m["title"] for m in datasets.list(teacher)])
        )
    if hidden is not None:
        save_hidden_test(store.home, code, hidden["x"], hidden["y"])
    return challenges.save(Challenge(code=code, dataset=dataset, **fields))
