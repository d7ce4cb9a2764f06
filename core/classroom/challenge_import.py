"""A challenge imported from another server's class results file (``core.classroom.class_results``):
checked as a teacher's form would be, with its own data set and hidden test set, never its learners' runs."""

from __future__ import annotations

from core.classroom.challenges import ChallengeRejected, new_code
from core.classroom.class_results import CLASS_FORMAT, CLASS_MEMBER
from core.data.datasets import DATASETS, USER_PREFIX
from core.data.user_datasets import UserDatasetStore
from core.runs.challenges import CONTROLS, Challenge, ChallengeStore, save_hidden_test
from core.training.hyperparams import MAX_EPOCHS
from core.training.presets import PRESETS
from core.training.validation import InvalidInput, check_hyperparameters
from core.work import WorkArchive, WorkFileError, WorkLimits, free_title, read_arrays, read_dataset, save_dataset


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
        archive = WorkArchive(source, limits, what="class results file", pattern=CLASS_MEMBER)
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
