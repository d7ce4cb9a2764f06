"""AppTest: the Train and Build fields show the value that trains; an out-of-range entry blocks Train with
the reason beside it; the optimizer's learning-rate rule; a second tab finds the learner's run; the
Experiment page's counts and its results in the words of other pages."""

import time

from helpers import app_opened_with, app_trains_nothing, open_page, rerun, table_with, use_shapes

import core.runs.manager
from core.experiments.engine import ExperimentStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS


def train_reason(at) -> str:
    return " ".join(w.value for w in at.warning)


def test_an_out_of_range_entry_stays_in_its_field_and_blocks_train_with_the_reason_beside_it(app):
    open_page(app, "train")
    app.number_input(key="hp_epochs").set_value(99999)
    rerun(app)
    assert app.number_input(key="hp_epochs").value == 99999  # shown as typed, not quietly replaced
    assert app.button(key="train").disabled
    assert "Epochs must be a whole number from 1 to 200 (got 99999)." in train_reason(app)
    app.number_input(key="hp_learning_rate").set_value(1000.0)
    rerun(app)
    assert app.number_input(key="hp_learning_rate").value == 1000.0
    assert "The learning rate must be a number at least 0.00001 and at most 10 (got 1000)." in train_reason(app)
    app.number_input(key="hp_epochs").set_value(3)
    app.number_input(key="hp_learning_rate").set_value(0.003)
    rerun(app)
    assert not app.button(key="train").disabled and not train_reason(app)
    hp = app.session_state["playground"].hyperparameters
    assert (hp.epochs, hp.learning_rate) == (3, 0.003) and isinstance(hp.epochs, int)


def test_filters_typed_as_1e6_are_a_million_and_refused_in_words(app):
    v = app.session_state["playground"].builder_version
    app.number_input(key=f"b{v}_0_filters").set_value(1e6)
    rerun(app)
    assert app.session_state["playground"].spec["layers"][0]["filters"] == 1_000_000
    assert any("filters must be at most 1,024 (got 1000000)" in e.value for e in app.error)


def test_changing_the_optimizer_gives_its_own_rate_unless_the_learner_chose_one(app):
    app.selectbox(key="preset_choice").select("fast")
    app.button(key="load_preset").click()
    rerun(app)
    open_page(app, "train")
    assert app.number_input(key="hp_learning_rate").value == 0.002  # the fast preset's, tuned for Adam
    app.selectbox(key="hp_optimizer").select("sgd")
    rerun(app)
    assert app.number_input(key="hp_learning_rate").value == 0.01  # SGD's own
    app.number_input(key="hp_learning_rate").set_value(0.005)  # the learner's own
    rerun(app)
    app.selectbox(key="hp_optimizer").select("adam")
    rerun(app)
    assert app.number_input(key="hp_learning_rate").value == 0.005
    assert app.session_state["playground"].hyperparameters.effective_learning_rate == 0.005


def test_a_second_tab_without_the_run_in_its_address_finds_the_learners_running_run(monkeypatch):
    app_trains_nothing(monkeypatch, open=False)  # the run holds before its first batch until stopped
    first = app_opened_with()
    uid = first.session_state["_user_id"]
    manager = core.runs.manager.default_manager()
    hp = Hyperparameters(epochs=200, batch_size=16, limit_train=2000)
    run = manager.start(PRESETS["model1"].spec((28, 28, 1), 5), "shapes", hp, owner=uid, name="long one")
    try:
        second = app_opened_with()
        second.session_state["_user_id"] = uid  # the same browser's cookie (AppTest has none)
        open_page(second, "train")
        assert any(s.value.startswith(f"Run {run.id}: ") for s in second.header)
        assert second.button(key="train").disabled
        assert "A run is already training" in train_reason(second)
        assert all("Press **Train** to start" not in i.value for i in second.info)
    finally:
        manager.stop(run.id, uid)
        run.wait(60)


def test_the_experiment_page_counts_what_trains_and_speaks_the_words_of_other_pages(app, monkeypatch):
    app_trains_nothing(monkeypatch)  # the page counts and words what its runs did, not what they learnt
    use_shapes(app)
    open_page(app, "experiment")
    # Epochs are there without being a factor, at Train's value.
    assert app.number_input(key="xp_epochs").value == app.session_state["playground"].hyperparameters.epochs
    app.number_input(key="xp_epochs").set_value(1)
    app.number_input(key="xp_limit_train").set_value(300)
    app.selectbox(key="xp_factor_0").select("layer6.units")
    rerun(app)
    app.multiselect(key="xp_values_0_layer6.units").set_value(["8", "100000"])
    app.selectbox(key="xp_factor_1").select("")
    rerun(app)
    rate = app.session_state["playground"].hyperparameters.effective_learning_rate
    assert any(f"Each run trains 1 epoch at learning rate {rate:g}." in c.value for c in app.caption)
    app.button(key="xp_start").click()
    rerun(app)
    assert any(" · 1 run · " in c.value for c in app.caption), [c.value for c in app.caption]
    assert any(w.value.startswith("1 of 2 variants broke a limit") for w in app.warning)
    assert "more than the limit" in table_with(app, "Why")["Why"].iloc[0]
    manager = core.runs.manager.default_manager()
    uid = app.session_state["_user_id"]
    (experiment,) = ExperimentStore(manager.store).list(uid)
    deadline = time.time() + 120
    while not experiment.run_ids or manager.get(experiment.run_ids[0], uid).active:
        assert time.time() < deadline, "the experiment did not end"
        time.sleep(0.02)
        experiment = ExperimentStore(manager.store).get(experiment.id)
    rerun(app)
    table = table_with(app, "Test accuracy (%)")
    assert {"Layer 6 (Dense): units", "Params", "Training time (s)", "Run", "Status"} <= set(table.columns)
    assert not {"layer6.units", "test_accuracy", "run_id"} & set(table.columns)
    finished = table[table["Status"] == "Finished"]
    assert len(finished) == 1 and 0 <= finished["Test accuracy (%)"].iloc[0] <= 100
    assert set(table["Status"]) == {"Finished", "Broke a limit"}
