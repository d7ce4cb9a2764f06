"""The class leaderboard: a challenge's finished runs since its last reset, best first, and each learner's
best run (what a class's results export)."""

from __future__ import annotations

from core.insight import compare
from core.runs.challenges import HIDDEN_SCORE, Challenge
from core.runs.record import Run, Status


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


def learners_best_runs(runs: list[Run], challenge: Challenge) -> list[Run]:
    """Each learner's best run on the challenge's leaderboard (learners told apart by their browser)."""
    by_id = {run.id: run for run in runs}
    best: dict[str, Run] = {}
    for row in leaderboard(runs, challenge):  # best first
        run = by_id[row["run_id"]]
        best.setdefault(run.owner or run.id, run)
    return list(best.values())
