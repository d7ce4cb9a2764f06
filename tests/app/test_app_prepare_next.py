"""The Train page hints the run manager with the model and settings Train would start (an idle worker then
builds and traces it ahead: tests/training/test_prepare_next.py), and only when Train could start it."""

from helpers import open_page, rerun

from core.runs.manager import RunManager


def test_the_train_page_hints_what_train_would_start_and_nothing_when_it_could_not(app, monkeypatch):
    hints = []
    monkeypatch.setattr(RunManager, "prepare_next", lambda self, spec, dataset, hp: hints.append((spec, dataset, hp)))
    at = app
    open_page(at, "train")
    pg = at.session_state["playground"]
    assert hints and hints[-1] == (pg.spec, pg.dataset, pg.hyperparameters)  # what Train would start

    at.number_input(key="hp_epochs").set_value(3)
    rerun(at)
    assert hints[-1][2].epochs == 3  # a changed setting: the new settings hinted

    count = len(hints)
    broken = {**pg.spec, "layers": pg.spec["layers"][:-1]}  # no Dense output layer: Train is disabled
    at.session_state["playground"].spec = broken
    rerun(at)
    assert at.button(key="train").disabled and len(hints) == count
