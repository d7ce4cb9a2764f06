"""The trainer's model files under disk faults: Keras' own errors come out in plain words, the saved model
survives a save that a full disk cut short, and a real .keras file passes the store's model check."""

import errno

import faults
import keras
import pytest

from core.disk import DISK_FULL
from core.runs.store import RunStore
from core.runs.trainer import plain_error

RUN_ID = "0123456789ab"


def tiny_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_a_real_keras_file_passes_the_model_check(tmp_path):
    store = RunStore(tmp_path)
    tiny_model().save(store.model_path(RUN_ID))
    assert store.model_problem(RUN_ID) is None


def test_keras_failing_on_a_damaged_file_says_so_without_the_path(tmp_path):
    path = tmp_path / "models" / f"{RUN_ID}.keras"
    path.parent.mkdir()
    path.write_bytes(b"not a model at all")
    with pytest.raises(Exception) as raised:
        keras.models.load_model(path, safe_mode=True)
    message = plain_error(raised.value)
    assert str(tmp_path) not in message and message.startswith("Training failed")


def test_plain_error_turns_disk_faults_into_words():
    assert plain_error(OSError(errno.ENOSPC, "No space left on device", "/srv/x/models/a.keras")) == DISK_FULL


@pytest.mark.skipif(not faults.can_mount(), reason="this machine does not allow mounting a tmpfs")
def test_a_full_disk_during_the_model_save_keeps_the_saved_model(tmp_path):
    with faults.small_disk(tmp_path / "disk", size="2m") as home:
        store = RunStore(home)
        path = store.model_path(RUN_ID)
        tiny_model().save(path)
        before = path.read_bytes()
        big = keras.Sequential([keras.Input((256,)), keras.layers.Dense(2048)])  # 2 MB of weights
        faults.fill(home)
        with pytest.raises(Exception) as raised:
            with store.replacing(path) as partial:
                big.save(partial)
        assert plain_error(raised.value) == DISK_FULL
        assert path.read_bytes() == before and store.model_problem(RUN_ID) is None
        assert sorted(p.name for p in store.models_dir.iterdir()) == [path.name]
        store.close()
