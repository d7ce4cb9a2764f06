"""AppTest: importing a zip of image folders on the Data page, using the new data set everywhere (Build's input
shape, colour samples and pixels, a training run and its results), who can see it, deleting it; MNIST offline."""

import base64
import io
import json
import zipfile

import numpy as np
from helpers import APP, app_run, open_page, rerun, restart_app_server, table_with, wait_for
from PIL import Image
from streamlit.testing.v1 import AppTest

import core.data.datasets
import core.runs.manager
from dashboard import session

TIMEOUT = 60
ANN, BOB = "a1a1a1a1a1a1a1a1", "b2b2b2b2b2b2b2b2"  # valid anonymous user ids


def colour_zip(per_class: int = 12) -> bytes:
    """Two classes of noisy colour images: reddish and bluish, inside one wrapper folder."""
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, colour in (("reds", (220, 30, 30)), ("blues", (30, 30, 220))):
            for i in range(per_class):
                pixels = np.clip(np.array(colour) + rng.normal(0, 25, (20, 24, 3)), 0, 255).astype(np.uint8)
                image = io.BytesIO()
                Image.fromarray(pixels).save(image, "PNG")
                archive.writestr(f"colours/{name}/{i}.png", image.getvalue())
        archive.writestr("colours/reds/notes.txt", "not a picture")
        archive.writestr("__MACOSX/colours/._x", "x")
    return buffer.getvalue()


def one_class_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(3):
            image = io.BytesIO()
            Image.new("RGB", (8, 8), (255, 0, 0)).save(image, "PNG")
            archive.writestr(f"reds/{i}.png", image.getvalue())
    return buffer.getvalue()


def open_app(owner: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["_user_id"] = owner  # as if its browser sent the owner's cookie (AppTest has none)
    return rerun(at)


def import_zip(at: AppTest, data: bytes, name: str, size: int = 16, grey: bool = False) -> AppTest:
    at.file_uploader(key="image_zip").upload("images.zip", data, "application/zip")
    rerun(at)
    at.text_input(key="image_name").input(name)
    at.selectbox(key="image_size").select(size)
    at.selectbox(key="image_colour").select("grey") if grey else None
    at.button(key="import_images").click()
    return rerun(at)


def plotly_spec(at: AppTest, key: str) -> dict:
    for chart in at.get("plotly_chart"):
        if key in chart.proto.id:  # the element id carries the widget key
            return json.loads(chart.proto.spec)
    raise AssertionError(f"no plotly chart {key!r}")


def heatmap_z(spec: dict) -> np.ndarray:
    """The first trace's z, which Plotly sends as base64 typed-array data for NumPy input."""
    z = spec["data"][0]["z"]
    if isinstance(z, dict):
        shape = tuple(int(n) for n in z["shape"].split(","))
        return np.frombuffer(base64.b64decode(z["bdata"]), dtype=np.dtype(z["dtype"])).reshape(shape)
    return np.array(z)


def table(at: AppTest, column: str):
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def test_import_colour_images_then_build_train_and_see_results():
    at = open_page(open_app(ANN), "data")
    assert at.file_uploader(key="image_zip").allowed_type == [".zip"]
    assert any("at most 50 MB" in c.value and "10,000 files" in c.value for c in at.caption)  # limits stated
    import_zip(at, colour_zip(), "My colours")

    pg = at.session_state["playground"]
    name = pg.dataset
    assert name.startswith("own-") and session.dataset_title(name) == "My colours"
    assert at.selectbox(key="dataset_choice").value == name
    assert any(
        s.value.startswith("Imported **My colours**: 20 training and 4 test images of 16×16 colour in 2 classes")
        for s in at.success
    )
    classes = table(at, "Training images")
    assert list(classes["Class"]) == ["blues", "reds"] and list(classes["Test images"]) == [2, 2]
    skipped = table(at, "Why it was skipped")
    assert list(skipped["File"]) == ["colours/reds/notes.txt"]
    assert any("1 macOS, hidden or system file(s)" in c.value for c in at.caption)
    assert [m.value for m in at.metric][:4] == ["20", "4", "16×16×3", "2"]
    assert any("Imported by you on" in c.value for c in at.caption)

    # Colour pixels: the red channel first, then the blue one, each with its own colours.
    pixels = plotly_spec(at, "pixels")
    image = core.data.datasets.load_dataset(name).x_train[0]
    np.testing.assert_array_equal(heatmap_z(pixels), image[..., 0])
    at.segmented_control(key="pixel_channel").set_value("blue")
    rerun(at)
    pixels = plotly_spec(at, "pixels")
    np.testing.assert_array_equal(heatmap_z(pixels), image[..., 2])
    assert "blue channel" in pixels["layout"]["title"]["text"]

    # Build follows: 16×16×3 input, 2 output units, ready to train.
    open_page(at, "build")
    assert any("images of 16×16×3 from My colours" in m.value for m in at.markdown)
    assert table_with(at, "Output shape")["Output shape"].iloc[-1] == "(None, 2)"  # a Markdown table now
    assert any("Ready to train" in s.value for s in at.success)

    # Train a short run on it and see its results.
    open_page(at, "train")
    at.number_input(key="hp_epochs").set_value(3)
    rerun(at)
    at.button(key="train").click()
    rerun(at)
    run_id = at.session_state["playground"].run_id
    run = wait_for(app_run(run_id), 120)
    rerun(at)
    assert run.status == "finished" and run.dataset == name, run.message
    open_page(at, "results")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"].endswith("%")
    assert any("My colours" in str(v) for v in table(at, "Test accuracy (%)")["Data set"])


def grey_zip(per_class: int = 4) -> bytes:
    """Two classes of grey pictures: dark and light, saved as one-channel PNGs."""
    rng = np.random.default_rng(1)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, level in (("dark", 40), ("light", 200)):
            for i in range(per_class):
                pixels = np.clip(level + rng.normal(0, 20, (20, 20)), 0, 255).astype(np.uint8)
                image = io.BytesIO()
                Image.fromarray(pixels).save(image, "PNG")
                archive.writestr(f"{name}/{i}.png", image.getvalue())
    return buffer.getvalue()


def test_grey_images_are_imported_grey_by_default_and_the_page_says_so():
    at = open_page(open_app(ANN), "data")
    at.file_uploader(key="image_zip").upload("images.zip", grey_zip(), "application/zip")
    rerun(at)
    choice = at.selectbox(key="image_colour")
    assert choice.value == "auto" and choice.options == [
        "Automatic: grey if every image is grey",
        "Colour",
        "Grey",
    ]
    at.text_input(key="image_name").input("Shades")
    at.button(key="import_images").click()
    rerun(at)
    [success] = [s.value for s in at.success if s.value.startswith("Imported **Shades**")]
    assert "images of 32×32 grey in 2 classes. All 8 images are grey: imported as grey." in success
    name = at.session_state["playground"].dataset
    assert core.data.datasets.load_dataset(name).input_shape == (32, 32, 1)
    assert any("All 8 images are grey: imported as grey." in c.value for c in at.caption)  # the stored report
    # Colour, when chosen, is still colour (and the page says grey would do).
    at.selectbox(key="image_colour").select("colour")
    at.text_input(key="image_name").input("Shades in colour")
    at.button(key="import_images").click()
    rerun(at)
    assert any("though all 8 images are grey" in s.value for s in at.success)
    assert core.data.datasets.load_dataset(at.session_state["playground"].dataset).input_shape == (32, 32, 3)


def test_imported_set_is_only_its_owners_and_survives_a_restart():
    at = open_page(open_app(ANN), "data")
    import_zip(at, colour_zip(4), "Ann's set", size=24, grey=True)
    name = at.session_state["playground"].dataset
    assert any(s.value.startswith("Imported **Ann's set**") for s in at.success)
    open_page(at, "build")
    open_page(at, "data")  # the form was left: the report of that upload is no longer shown
    assert not any("Imported" in s.value for s in at.success)
    assert core.data.datasets.load_dataset(name).input_shape == (24, 24, 1)

    other = open_page(open_app(BOB), "data")
    assert other.selectbox(key="dataset_choice").options == [d.title for d in core.data.datasets.DATASETS.values()]

    # A restart: a new manager and an empty data set cache; the files on disk are read again.
    core.data.datasets.forget_dataset(name)
    restart_app_server()
    again = open_page(open_app(ANN), "data")
    assert "Ann's set" in again.selectbox(key="dataset_choice").options
    again.selectbox(key="dataset_choice").select(name)
    rerun(again)
    assert [m.value for m in again.metric][2] == "24×24×1"
    assert any(
        c.value.startswith(
            "Import report: 1 file(s) skipped (not an image: 1); 1 macOS, hidden or system "
            "file(s) ignored. Each image was cropped"
        )
        for c in again.caption
    )

    # Delete it: the model moves back to a built-in data set and the choice no longer lists it.
    again.button(key="delete_dataset").click()
    rerun(again)
    assert again.session_state["playground"].dataset in core.data.datasets.DATASETS
    assert "Ann's set" not in again.selectbox(key="dataset_choice").options
    assert session.user_datasets().list(ANN) == []
    assert session.dataset_title(name) == "a deleted data set"


def test_refused_archive_says_why_and_keeps_the_data_set():
    at = open_page(open_app(ANN), "data")
    before = at.session_state["playground"].dataset
    import_zip(at, one_class_zip(), "Reds only")
    assert any(
        e.value.startswith("Only one class (reds) has images: a network needs at least two classes") for e in at.error
    )
    assert at.session_state["playground"].dataset == before
    at.text_input(key="image_name").input("")
    at.button(key="import_images").click()
    rerun(at)
    assert any(e.value.startswith("Give the data set a name") for e in at.error)
    assert session.user_datasets().list(ANN) == []


def test_mnist_offline_says_how_to_get_it_and_keeps_the_data_set(tmp_path, monkeypatch):
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "no-keras-cache"))  # no mnist.npz anywhere
    at = open_page(open_app(ANN), "data")
    before = at.session_state["playground"].dataset
    at.selectbox(key="dataset_choice").select("mnist")
    rerun(at)
    message = at.error[0].value
    assert message.startswith("MNIST digits is not available on this computer and could not be downloaded.")
    assert "set MNIST_DIR to it" in message and "Traceback" not in message
    assert any(f"Your model still uses {session.dataset_title(before)}" in i.value for i in at.info)
    assert at.session_state["playground"].dataset == before
