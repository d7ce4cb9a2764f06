"""A really trained run through a file of work: its Keras model passes the check without being loaded,
opens on the other side in Keras' safe mode and predicts exactly as before; so does a trained-on copy."""

import numpy as np

from core.data.datasets import load_dataset
from core.data.user_datasets import UserDatasetStore
from core.insight.inspection import load_run_model
from core.runs.manager import RunManager
from core.runs.record import Status
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS
from core.work import open_work, save_work


def test_a_trained_model_travels_in_a_file_of_work_and_predicts_the_same(tmp_path):
    store = RunStore(tmp_path / "school")
    hp = Hyperparameters(epochs=1, batch_size=32, limit_train=300, limit_test=50)
    run = RunManager(store).start(PRESETS["model1"].spec((28, 28, 1), 5), "shapes", hp, owner="alice")
    assert run.wait(180) and run.status == Status.FINISHED, run.message
    saved = save_work(store, UserDatasetStore(store.home), "alice")

    home = RunStore(tmp_path / "home")
    opened = open_work(saved.data, store=home, datasets=UserDatasetStore(home.home), owner="dave")
    (new_id,) = opened.runs
    images = load_dataset("shapes").as_float("x_test")[:20]
    before = load_run_model(store, run.id).predict(images, verbose=0)
    after = load_run_model(home, new_id).predict(images, verbose=0)  # safe_mode=True, as every load in the app
    np.testing.assert_array_equal(after, before)
    for key, values in store.read_predictions(run.id).items():
        np.testing.assert_array_equal(home.read_predictions(new_id)[key], values)

    more = RunManager(home).continue_run(new_id, 1, "dave")  # its optimizer state came along too
    assert more.wait(180) and more.status == Status.FINISHED, more.message
    assert more.epoch == 2
