"""Results offers the run as a notebook: an .ipynb for a built-in data set, a zip with the data file for an
imported one, and a disabled button with the plain reason when the data set is gone."""

import numpy as np
from helpers import finished_run, open_page

import core.runs.manager
from core.data.datasets import SHAPE_CLASSES
from core.data.user_datasets import UserDatasetStore
from core.runs.record import Run, Status
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS


def notebook_button(app):
    return next(d.proto for d in app.get("download_button") if d.proto.label.startswith("Download as a notebook"))


def test_results_offers_the_notebook_of_the_run(app):
    uid = app.session_state["_user_id"]
    store = core.runs.manager.default_manager().store
    run = finished_run(owner=uid, name="<b>mine</b>")
    run.results["class_names"] = list(SHAPE_CLASSES)  # as a trained run's results have them
    store.save(run)
    open_page(app, "results")
    assert not app.exception
    button = notebook_button(app)
    assert button.label == "Download as a notebook (.ipynb)" and not button.disabled
    assert "same settings and seed" in button.help


def test_an_imported_set_gives_a_zip_and_a_deleted_one_a_plain_reason(app):
    uid = app.session_state["_user_id"]
    arrays = {
        "x_train": np.zeros((10, 8, 8, 1), np.uint8),
        "y_train": np.arange(10) % 2,
        "x_test": np.zeros((4, 8, 8, 1), np.uint8),
        "y_test": np.arange(4) % 2,
    }
    name = UserDatasetStore().save(owner=uid, title="tiny", arrays=arrays, class_names=["a", "b"])
    run = Run(PRESETS["model1"].spec((8, 8, 1), 2), name, Hyperparameters(), owner=uid, name="mine")
    run.begin(1)
    run.finish(Status.FAILED, "no results", None)
    core.runs.manager.default_manager().store.save(run)
    open_page(app, "results")
    button = notebook_button(app)
    assert button.label == "Download as a notebook (.zip)" and not button.disabled
    assert "Your data set is in the zip beside the notebook." in button.help
    UserDatasetStore().delete(name, uid)
    open_page(app, "results")
    button = notebook_button(app)
    assert button.disabled and "This imported data set no longer exists" in button.help
