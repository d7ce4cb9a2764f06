"""The projector's live race: each learner's current run, the leader marked, colour-blind-safe lines."""

from core.classroom.race import race
from core.runs.challenges import Challenge
from core.runs.record import Run, Status
from core.training.hyperparams import Hyperparameters
from dashboard.charts.race import OKABE_ITO, race_chart

CHALLENGE = Challenge("abcd1234", "Race", "shapes", "blank", 20_000, 2, Hyperparameters(epochs=2), reset_at=100.0)


def _run(owner: str, learner: str, created: float, val: float | None, status=Status.RUNNING, challenge="abcd1234"):
    run = Run({"layers": []}, "shapes", Hyperparameters(epochs=2), owner=owner, learner=learner, created=created)
    run.challenge = challenge
    run.begin(batches_per_epoch=4)
    for batch in range(4):
        run.record_batch(0, batch, 1.0, 0.3 + 0.1 * batch)
    if val is not None:
        run.record_epoch({"epoch": 1, "loss": 1.0, "val_accuracy": val, "seconds": 1.0})
    run.status = status
    return run


def test_each_learner_races_with_their_newest_run_and_the_best_leads():
    runs = [
        _run("a", "Ada", 150.0, 0.60, Status.FINISHED),
        _run("a", "Ada", 160.0, 0.80),  # Ada's newest run is the one on the board
        _run("b", "Bob", 155.0, 0.70),
        _run("c", "Cy", 157.0, 0.99, Status.FAILED),  # a failed run does not race
        _run("d", "Old", 50.0, 0.95),  # before the reset
        _run("e", "Eve", 150.0, 0.99, challenge="other"),
    ]
    entries = race(runs, CHALLENGE)
    assert [(e["learner"], e["score"], e["leader"]) for e in entries] == [("Bob", 0.70, False), ("Ada", 0.80, True)]


def test_the_race_chart_names_learners_stars_the_leader_and_uses_okabe_ito():
    entries = race([_run("a", "Ada", 150.0, 0.80), _run("b", "Bob", 151.0, 0.70)], CHALLENGE)
    figure = race_chart(entries)
    lines = [t for t in figure.data if t.mode == "lines"]
    assert [t.name for t in lines] == ["★ Ada 80.0 %", "Bob 70.0 %"]
    assert {t.line.color for t in lines} <= set(OKABE_ITO)
    assert lines[0].line.width > lines[1].line.width  # the leader's line is thicker
    assert figure.layout.font.size >= 20  # readable from the back of a room


def test_an_ended_run_keeps_its_curve_from_the_history_the_projector_loads():
    listed = _run("a", "Ada", 150.0, 0.80, Status.FINISHED)
    stored_batches = listed.batch_history()
    listed._batches = []  # as the store lists an ended run: its per-batch history left out
    entries = race([listed], CHALLENGE, batch_history=lambda run: stored_batches if run is listed else [])
    assert entries[0]["batches"] == stored_batches
    line = next(t for t in race_chart(entries).data if t.mode == "lines")
    assert len(line.x) == 4 and line.x[-1] == 1.0  # the whole first epoch, not an empty line


def test_the_race_chart_shows_accuracy_from_0_to_100_percent_even_for_one_point():
    figure = race_chart(race([_run("a", "Ada", 150.0, 0.31, Status.FINISHED)], CHALLENGE))
    assert tuple(figure.layout.yaxis.range) == (0, 1.05)
