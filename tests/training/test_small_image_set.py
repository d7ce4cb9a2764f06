"""A small real image set (issue 25): scikit-learn's 8×8 handwritten digits, imported as a zip of class folders
through the app's own import, upscaled to 28×28. With so few batches per epoch the `fast` preset's
BatchNormalization used to test on averages that had not settled (validation rose, then fell to guessing);
the trainer now picks the momentum from the batches per epoch, and the preset holds beside model 1."""

import io
import zipfile

import keras
import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from core.data.image_import import import_image_folders
from core.data.user_datasets import UserDatasetStore
from core.model.keras_build import batch_norm_momentum
from core.runs.record import Run, Status
from core.runs.store import RunStore
from core.runs.trainer import train_run
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

IMAGES_PER_CLASS = 50  # 500 images: 400 to train on at batch 256, 2 batches an epoch


def digits_zip(per_class: int) -> bytes:
    digits = load_digits()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for label in range(10):
            for i in np.flatnonzero(digits.target == label)[:per_class]:
                image = io.BytesIO()
                Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8)).save(image, "PNG")
                archive.writestr(f"digits/{label}/{i}.png", image.getvalue())
    return buffer.getvalue()


@pytest.fixture
def digits():
    """The digits imported into this test's own home (the root conftest gives each test one)."""
    store = UserDatasetStore()
    name, report = import_image_folders(
        digits_zip(IMAGES_PER_CLASS), title="Digits", owner="a" * 32, store=store, size=28, grey=True
    )
    assert report.train_images == 400
    return name, RunStore(store.dir.parent)


def train(name: str, store: RunStore, preset: str, epochs: int) -> Run:
    hp = Hyperparameters(**{**PRESETS[preset].app_hyperparameters.to_dict(), "epochs": epochs})
    run = Run(PRESETS[preset].spec((28, 28, 1), 10), name, hp, owner="a" * 32)
    ending = train_run(run, store)
    run.finish(ending.status, ending.message, ending.results)
    assert run.status == Status.FINISHED, run.message
    return run


def test_the_fast_preset_holds_on_a_small_digit_set_beside_model_1(digits):
    name, store = digits
    fast = train(name, store, "fast", epochs=7)
    model1 = train(name, store, "model1", epochs=8)
    assert fast.batches_per_epoch == 2
    assert fast.results["batch_norm_momentum"] == batch_norm_momentum(2) < 0.99
    saved = keras.models.load_model(store.model_path(fast.id))
    norms = [layer for layer in saved.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(layer.momentum == pytest.approx(batch_norm_momentum(2)) for layer in norms)
    # Measured: with Keras' 0.99 this run tested at 69 % (validation 22 % after epoch 1, 70 % at the end) while
    # model 1 reached 94 %; with the chosen momentum the fast preset reached 96 %.
    assert fast.test_accuracy > 0.85, fast.epoch_history()
    assert fast.test_accuracy > model1.test_accuracy - 0.05, (fast.test_accuracy, model1.test_accuracy)
