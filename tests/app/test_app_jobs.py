"""AppTest of the jobs: the Train page's learning-rate finder and the Teacher's speed measurement are queued
and trained like runs, and the pages show their progress by polling them (tests/training/test_jobs_training.py
trains them in worker processes)."""

from helpers import app_opened_with, open_page, rerun, restart_app_server, teacher_logged_in, use_shapes, wait_for

import core.runs.manager
from core.runs.record import Kind, Status


def _job(job_id: str):
    """The live job, as the server's operator sees it."""
    manager = core.runs.manager.default_manager()
    return manager.job(job_id, manager.store.load(job_id).owner)


def _paused_after_a_batch(job):
    """Pause the job once it has trained a batch, so the page is seen mid-way (it waits between batches)."""
    wait_for(lambda: job.batch_history() or not job.active, timeout=120)
    assert job.request_pause()
    wait_for(lambda: job.status == Status.PAUSED, timeout=60)


def test_the_learning_rate_finder_is_a_job_whose_progress_the_train_page_shows(app):
    use_shapes(app)
    open_page(app, "train")
    # The range test trains its 200 batches at the page's batch size: 16 images each, not the preset's 128.
    app.selectbox(key="hp_batch_size").set_value(16)
    rerun(app)
    app.button(key="lr_find").click()
    rerun(app)
    job = _job(app.session_state["_lr_job"][1])
    assert job.kind == Kind.LR_FIND
    assert app.button(key="lr_find").disabled  # one range test at a time
    _paused_after_a_batch(job)
    rerun(app)
    (bar,) = app.get("progress")
    assert bar.text.startswith("Trying learning rates: batch ") and bar.text.endswith(" of 200, paused")
    assert 0 < bar.value < 100
    assert len(app.get("plotly_chart")) == 1  # the loss against the learning rate, so far
    job.resume()
    wait_for(job, timeout=300)
    rerun(app)
    reason = next(m.value for m in app.markdown if m.value.startswith("The loss"))
    use = app.button(key="lr_use")
    suggestion = float(use.label.removeprefix("Use it: "))
    assert f"learning rate of {suggestion:g}" in reason
    assert job.results["suggestion"] == suggestion
    assert session_runs(app) == []  # the finder is not one of the learner's runs
    use.click()
    rerun(app)
    assert app.session_state["playground"].hyperparameters.learning_rate == suggestion
    assert app.number_input(key="hp_learning_rate").value == suggestion


def session_runs(app) -> list:
    manager = core.runs.manager.default_manager()
    return manager.list(app.session_state["_user_id"])


def test_the_finder_waits_for_a_slot_behind_a_training_run(monkeypatch):
    monkeypatch.setenv("CNN_PLAYGROUND_MAX_TRAININGS", "1")
    restart_app_server()
    app = app_opened_with()
    use_shapes(app)
    open_page(app, "train")
    app.button(key="train").click()
    rerun(app)
    run = core.runs.manager.default_manager().get(app.session_state["playground"].run_id, app.session_state["_user_id"])
    run.request_pause()  # it keeps its slot
    app.button(key="lr_find").click()  # no longer refused while a run trains: it waits its turn
    rerun(app)
    job = _job(app.session_state["_lr_job"][1])
    assert job.status == Status.QUEUED
    assert any(p.text.startswith("Waiting for a free training slot: number 1") for p in app.get("progress"))
    app.button(key="lr_stop").click()  # cancelled while it waits
    rerun(app)
    wait_for(job, timeout=60)
    assert job.status == Status.STOPPED
    run.request_stop()
    run.resume()
    wait_for(run, timeout=120)


def _speed_jobs():
    return core.runs.manager.default_manager().store.list(kind=Kind.SPEED_PROBE)


def test_the_teachers_expected_time_comes_from_a_speed_measurement_job_with_progress(monkeypatch):
    at = teacher_logged_in(monkeypatch)
    at.selectbox(key="nc_dataset").set_value("shapes")
    rerun(at)
    at.number_input(key="nc_train_images").set_value(400)
    rerun(at)
    shapes = [j for j in _speed_jobs() if j.dataset == "shapes"]
    assert len(shapes) == 1  # one measurement for these settings, however often the page is drawn
    job = _job(shapes[0].id)
    _paused_after_a_batch(job)
    rerun(at)
    assert any("Measuring this server's speed" in c.value for c in at.caption)
    bar = next(p for p in at.get("progress") if p.text.startswith("Measuring: batch "))
    assert bar.text.endswith(", paused") and 0 < bar.value < 100
    job.resume()
    wait_for(job, timeout=300)
    rerun(at)
    assert any("Expected time per run" in i.value and "400 training images" in i.value for i in at.info)
    assert [j.id for j in _speed_jobs() if j.dataset == "shapes"] == [job.id]  # measured once, then reused
    # Other data sets' measurements no longer asked for were stopped, not left to take a slot.
    assert all(j.status in Status.ENDED for j in _speed_jobs() if j.dataset != "shapes")

    # A second teacher (another browser) asking about the same settings is answered at once: the speed is
    # the server's, measured minutes ago, not this teacher's to measure again.
    other = teacher_logged_in(monkeypatch)
    assert other.session_state["_user_id"] != at.session_state["_user_id"]
    other.selectbox(key="nc_dataset").set_value("shapes")
    rerun(other)
    other.number_input(key="nc_train_images").set_value(400)
    rerun(other)
    assert any("Expected time per run" in i.value and "400 training images" in i.value for i in other.info)
    assert [j.id for j in _speed_jobs() if j.dataset == "shapes"] == [job.id]
