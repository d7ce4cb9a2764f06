"""The live race: every learner's current run of a challenge, batch by batch, for the Projector."""

from __future__ import annotations

from collections.abc import Callable

from core.runs.challenges import Challenge
from core.runs.record import Run, Status


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
