"""AppTest of the Experiment page: set up factors, see runs, estimate and broken variants, run, read the results."""

import time

from helpers import app_opened_with, app_trains_nothing, make_challenge, open_page, rerun, table_with, use_shapes

import core.runs.manager
from core.experiments.engine import ExperimentStore, stop_experiment, wait_for_experiment


def metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def set_up_quick_training(at) -> None:
    """Shapes, 1 epoch of the first 300 images: a run takes a few seconds."""
    use_shapes(at)
    open_page(at, "train")
    at.number_input(key="hp_epochs").set_value(1)
    rerun(at)


def test_experiment_page_plans_runs_and_shows_what_mattered(app, monkeypatch):
    app_trains_nothing(monkeypatch)  # the page plans, starts and reads runs: what they learn is not its business
    set_up_quick_training(app)
    open_page(app, "experiment")
    assert app.selectbox(key="xp_factor_0").value == "layer3.filters"
    assert app.selectbox(key="xp_factor_1").value == "optimizer"
    assert app.multiselect(key="xp_values_0_layer3.filters").value == ["16", "32", "64"]
    app.multiselect(key="xp_values_0_layer3.filters").set_value(["8", "16"])
    app.number_input(key="xp_limit_train").set_value(300)
    rerun(app)
    assert metrics(app)["Runs"] == "4" and metrics(app)["Break a limit"] == "0"
    assert metrics(app)["Estimated time"] == "unknown"  # no run has finished on this server yet

    # A third factor with a variant over the parameter budget: listed with the reason, left out.
    app.selectbox(key="xp_factor_2").select("layer6.units")
    rerun(app)
    app.multiselect(key="xp_values_2_layer6.units").set_value(["64", "100000"])
    rerun(app)
    assert metrics(app)["Runs"] == "4" and metrics(app)["Break a limit"] == "4"
    broken = table_with(app, "Why")
    assert all("more than the limit of 5,000,000" in why for why in broken["Why"])
    assert "Layer 6 (Dense): units 100000" in broken["Values"].iloc[0]

    # A bad typed value gets a plain message, not a traceback.
    app.multiselect(key="xp_values_2_layer6.units").set_value(["64", "lots"])
    rerun(app)
    assert any("'lots' is not a whole number" in e.value for e in app.error)
    app.selectbox(key="xp_factor_2").select("")
    rerun(app)

    app.button(key="xp_start").click()
    rerun(app)
    uid = app.session_state["_user_id"]
    manager = core.runs.manager.default_manager()
    store = ExperimentStore(manager.store)
    (experiment,) = store.list(uid)
    deadline = time.time() + 240
    while len(experiment.run_ids) < 4 or any(manager.get(i, uid).active for i in experiment.run_ids):
        assert time.time() < deadline, "the experiment did not end"
        time.sleep(0.02)
        experiment = store.get(experiment.id)  # its variants are queued as training slots free up
    runs = [manager.get(i, uid) for i in experiment.run_ids]
    assert {r.experiment for r in runs} == {experiment.id} and {r.owner for r in runs} == {uid}
    assert {(r.hyperparameters.limit_train, r.hyperparameters.seed) for r in runs} == {(300, 42)}
    rerun(app)

    texts = [m.value for m in app.markdown]
    assert any(t.startswith("- Best: Layer 3 (Conv2D): filters ") for t in texts)
    table = table_with(app, "Test accuracy (%)")  # in the words of Compare's leaderboard
    assert len(table) == 4 and set(table["Status"]) == {"Finished"}
    assert {"Layer 3 (Conv2D): filters", "Optimizer", "Params", "Training time (s)", "Run"} <= set(table.columns)
    assert any(d.proto.label == "Download all variants (CSV)" for d in app.get("download_button"))
    assert len(app.get("plotly_chart")) >= 4  # two Pareto views, parallel coordinates, effects

    # The Projector shows the experiment's Pareto views.
    open_page(app, "projector")
    app.button_group(key="projector_mode").set_value("Experiment")
    rerun(app)
    assert app.selectbox(key="projector_experiment").value == experiment.id
    assert len(app.get("plotly_chart")) == 2
    open_page(app, "experiment")

    # Reopened from the list after setting up a new one.
    app.button(key="xp_new").click()
    rerun(app)
    assert app.selectbox(key="xp_saved").value == experiment.id
    app.button(key="xp_open_saved").click()
    rerun(app)
    assert app.header[0].value == experiment.name
    assert any(" · seed 42 · saved as " in c.value for c in app.caption)  # one seed: not 'seeds 42'

    # The best variant goes into the builder.
    best_button = app.button(key="xp_open_best")
    assert best_button.label.startswith("Open the best (#")
    best_button.click()
    rerun(app)
    pg = app.session_state["playground"]
    assert pg.parent_id in experiment.run_ids
    assert pg.spec == manager.get(pg.parent_id, uid).spec


def test_in_a_challenge_variants_that_break_its_rules_are_listed_and_the_rest_start(monkeypatch):
    challenge = make_challenge()  # blank preset, at most 20,000 parameters, optimizer locked to adam
    app = app_opened_with(challenge=challenge.code)
    open_page(app, "experiment")
    app.selectbox(key="xp_factor_0").select("add2")
    rerun(app)
    app.multiselect(key="xp_values_0_add2").set_value(["none", "Dense"])
    rerun(app)
    assert app.selectbox(key="xp_factor_1").value == "optimizer"
    assert metrics(app)["Runs"] == "1" and metrics(app)["Break a limit"] == "3"
    why = dict(zip(table_with(app, "Why")["Values"], table_with(app, "Why")["Why"]))
    assert "allows at most 20,000" in why["Add a layer at position 2 Dense · Optimizer adam"]
    assert "optimizer is set by your teacher" in why["Add a layer at position 2 none · Optimizer sgd"]
    app.button(key="xp_start").click()
    rerun(app)
    manager = core.runs.manager.default_manager()
    (experiment,) = ExperimentStore(manager.store).list(app.session_state["_user_id"])
    assert experiment.challenge == challenge.code
    run = manager.get(experiment.run_ids[0], experiment.owner)
    assert run.challenge == challenge.code and run.hyperparameters.optimizer == "adam"
    stop_experiment(manager, experiment)  # no training thread left running when the tests end
    wait_for_experiment(manager, experiment)
