"""How runs are named in text: one label for every run picker, numbers, durations."""

import time

from core.runs.record import Run, Status
from core.timing import format_duration as format_seconds
from core.training.hyperparams import Hyperparameters
from dashboard.components.labels import number, run_label


def ended_run(results=None, status=Status.FINISHED, **fields) -> Run:
    run = Run({}, "shapes", Hyperparameters(), run_id="abc123def456", created=time.time(), **fields)
    run.finish(status, "", results)
    return run


def test_one_label_names_a_run_in_every_picker():
    run = ended_run({"test_accuracy": 0.9123}, name="model1 · adam", learner="Ada")
    when = time.strftime("%H:%M", time.localtime(run.created))
    assert run_label(run) == f"{when} · abc123def456 · Ada · model1 · adam · finished · test accuracy 91.2 %"
    assert run_label(run, "Shapes (synthetic)").endswith("adam · Shapes (synthetic) · finished · test accuracy 91.2 %")
    assert run_label(ended_run(status=Status.STOPPED)) == f"{when} · abc123def456 · stopped"  # no name, no result


def test_a_regressions_label_gives_its_test_mae():
    run = ended_run({"test_mae": 12345.6}, name="tabular", task="regression")
    assert run_label(run).endswith(" · tabular · finished · test MAE 12,346")


def test_numbers_and_durations_in_plain_text():
    assert number(None) == "—" and number(3.14159) == "3.142" and number(123456.7) == "123,457"
    assert format_seconds(None) == "—" and format_seconds(42.4) == "42 s" and format_seconds(125) == "2 min 05 s"
