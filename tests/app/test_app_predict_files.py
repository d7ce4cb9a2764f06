"""Predict with files as devices make them: a 16-bit PNG keeps its grey levels, a phone photo is turned upright."""

import io

import numpy as np
import pytest
from helpers import APP, open_page, rerun, restart_app_server
from PIL import Image
from streamlit.testing.v1 import AppTest

from core.data.datasets import load_dataset
from core.runs.manager import RunManager
from core.runs.store import RunStore
from core.training.hyperparams import Hyperparameters
from core.training.presets import DEFAULT_PRESET, PRESETS

OWNER = "0123456789abcdef"
CLASSES = list(load_dataset("shapes").class_names)


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """A store with one finished run on shapes (light shapes on dark, like MNIST), owned by OWNER."""
    home = tmp_path_factory.mktemp("predict_files_home")
    spec = PRESETS[DEFAULT_PRESET].spec()
    spec["input_shape"], spec["layers"][-1]["units"] = [28, 28, 1], 5
    hp = Hyperparameters(epochs=1, batch_size=16, limit_train=200, limit_test=50)
    run = RunManager(RunStore(home)).start(spec, "shapes", hp, owner=OWNER, name="shapes run")
    assert run.wait(120) and run.status == "finished", run.message
    return home


@pytest.fixture
def predict(monkeypatch, home) -> AppTest:
    monkeypatch.setenv("CNN_PLAYGROUND_HOME", str(home))
    restart_app_server()
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["_user_id"] = OWNER
    return open_page(rerun(at), "predict")


def upload(at: AppTest, name: str, data: bytes, kind: str) -> str:
    at.file_uploader(key="predict_file").upload(name, data, kind)
    rerun(at)
    assert not at.error, [e.value for e in at.error]
    assert at.metric[0].label == "Prediction" and at.metric[0].value in CLASSES
    return "\n".join(c.value for c in at.caption)


def test_a_16_bit_png_keeps_its_grey_levels(predict):
    yy, xx = np.mgrid[0:56, 0:56]
    levels = np.full((56, 56), 8000, dtype=np.uint16)  # a dark-grey background (12 %)
    levels[(yy - 28) ** 2 + (xx - 28) ** 2 < 15**2] = 45000  # a lighter disc (69 %)
    buffer = io.BytesIO()
    Image.fromarray(levels).save(buffer, "PNG")
    captions = upload(predict, "scan16.png", buffer.getvalue(), "image/png")
    # Clipped to white (as before), the whole image was light and got inverted; read by its real range,
    # it is a light disc on a dark background, as the training images are.
    assert "inverted" not in captions and "shrunk from 56×56 to 28×28" in captions


def test_a_sideways_phone_photo_is_turned_upright(predict):
    stored = Image.new("RGB", (80, 60), (20, 20, 20))
    stored.paste((235, 235, 235), (20, 10, 60, 50))
    exif = stored.getexif()
    exif[0x0112] = 6  # the camera was held upright: show the stored picture turned 90° clockwise
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif.tobytes())
    captions = upload(predict, "IMG_0001.jpg", buffer.getvalue(), "image/jpeg")
    assert "It was turned upright, as the camera noted." in captions
    assert "padded from 60×80 to a square" in captions  # upright: taller than wide
