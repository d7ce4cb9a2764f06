"""AppTest: recording a data set on the Data page — classes named, pictures uploaded per class and taken with the
camera, counts shown, removing and clearing, building it (then it is the model's data set, listed and ready to
train), and the plain messages for one class only, a class with too few pictures and a file that is no image."""

import io

import numpy as np
from helpers import APP, open_page, rerun, table_with
from PIL import Image
from streamlit.testing.v1 import AppTest

import core.data.datasets
from dashboard import session

TIMEOUT = 60
ANN = "a1a1a1a1a1a1a1a1"


def photo(colour, seed: int, kind="PNG") -> bytes:
    rng = np.random.default_rng(seed)
    pixels = np.clip(np.array(colour) + rng.normal(0, 20, (30, 40, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, kind)
    return buffer.getvalue()


def open_data(owner: str = ANN) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state["_user_id"] = owner  # as if its browser sent the owner's cookie
    rerun(at)
    return open_page(at, "data")


def add_class(at: AppTest, name: str) -> None:
    at.text_input(key="rec_class_name").input(name)
    at.button(key="rec_add_class").click()
    rerun(at)


def uploader(at: AppTest, index: int):
    """The upload widget of the class at this position (its key moves on after each upload)."""
    return next(u for u in at.file_uploader if u.key.startswith("rec_upload_") and u.key.endswith(f"_{index}"))


def upload(at: AppTest, index: int, files) -> None:
    uploader(at, index).set_value(files)
    rerun(at)


def counts(at: AppTest) -> dict[str, int]:
    frame = table_with(at, "Pictures")
    return dict(zip(frame["Class"], frame["Pictures"], strict=True))


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_record_classes_by_upload_and_camera_then_build_and_use_it():
    at = open_data()
    hostile = "**cups** <b>& `mugs`"
    add_class(at, hostile)
    add_class(at, "spoons")
    assert counts(at) == {hostile: 0, "spoons": 0}
    assert hostile in [t.value for t in at.text]  # shown literally, not as Markdown
    assert uploader(at, 0).accept_multiple_files and uploader(at, 0).allowed_type == ["image/*"]

    upload(at, 0, [(f"cup{i}.png", photo((200, 40, 40), i), "image/png") for i in range(4)])
    upload(at, 1, [(f"spoon{i}.jpg", photo((40, 40, 200), i, "JPEG"), "image/jpeg") for i in range(3)])
    assert counts(at) == {hostile: 4, "spoons": 3}
    assert any(c.value == "4 picture(s)" for c in at.caption)
    assert table_with(at, "Ready")["Ready"].tolist() == ["yes", "yes"]

    # The camera: its pictures go to the class chosen; the camera is drawn afresh for the next picture.
    at.toggle(key="rec_camera_on").set_value(True)
    rerun(at)
    at.selectbox(key="rec_target").select("spoons")
    rerun(at)
    for seed in (10, 11):
        at.camera_input[0].upload("image.jpg", photo((40, 40, 200), seed, "JPEG"))
        rerun(at)
        assert not errors(at)
    assert counts(at) == {hostile: 4, "spoons": 5}

    # Remove the last picture; uploading again into the same class adds to it.
    at.button(key="rec_undo_1").click()
    rerun(at)
    assert counts(at) == {hostile: 4, "spoons": 4}

    at.text_input(key="rec_title").input("My kitchen")
    at.selectbox(key="rec_size").select(16)
    at.button(key="rec_build").click()
    rerun(at)
    name = at.session_state["playground"].dataset
    assert name.startswith("own-") and session.dataset_title(name) == "My kitchen"
    assert at.selectbox(key="dataset_choice").value == name
    assert "My kitchen" in [session.dataset_title(o) for o in at.selectbox(key="dataset_choice").options]
    assert any(
        s.value.startswith("Imported **My kitchen**: 6 training and 2 test images of 16×16 colour") for s in at.success
    )
    report = table_with(at, "Training images")
    assert list(report["Class"]) == [hostile, "spoons"] and list(report["Test images"]) == [1, 1]
    data = core.data.datasets.load_dataset(name)
    assert data.class_names == (hostile, "spoons") and data.input_shape == (16, 16, 3) and data.owner == ANN
    assert any("Import report: no files skipped" in c.value for c in at.caption)

    # The Build page follows it: two output units, ready to train.
    open_page(at, "build")
    assert table_with(at, "Output shape")["Output shape"].iloc[-1] == "(None, 2)"
    assert any("Ready to train" in s.value for s in at.success)


def test_bad_recordings_get_plain_messages_and_build_nothing():
    at = open_data()
    before = at.session_state["playground"].dataset
    add_class(at, "cups")
    add_class(at, " CUPS ")
    assert errors(at) == ["There is already a class with this name: choose another."]
    upload(
        at, 0, [("cup0.png", photo((200, 40, 40), 0), "image/png"), ("cup1.png", photo((200, 40, 40), 1), "image/png")]
    )

    # One class only.
    at.text_input(key="rec_title").input("Cups")
    at.button(key="rec_build").click()
    rerun(at)
    assert errors(at) == ["Add at least two classes: a network learns to tell classes apart."]

    # A class with too few pictures; files that are no images (by their name, or inside) are not added.
    add_class(at, "forks")
    upload(
        at,
        1,
        [
            ("fork.png", photo((90, 90, 90), 3), "image/png"),
            ("notes.txt", b"not a picture", "text/plain"),
            ("fake.png", b"GIF89a not really", "image/png"),
        ],
    )
    refused = table_with(at, "Why it was not added")
    assert refused["File"].tolist() == ["notes.txt", "fake.png"]
    assert refused["Why it was not added"].tolist() == [
        "This picture cannot be used: not an image (.txt; use PNG, JPEG, GIF, BMP, WebP or TIFF).",
        "This picture cannot be used: not a readable image (damaged, truncated or not really an image).",
    ]
    assert counts(at) == {"cups": 2, "forks": 1}
    assert any(c.value == "1 picture(s), needs 1 more" for c in at.caption)
    at.button(key="rec_build").click()
    rerun(at)
    assert errors(at) == [
        "Each class needs at least 2 pictures (one to train on, one to test); 1 class(es) have fewer: add "
        "pictures to them or remove them."
    ]
    assert session.user_datasets().list(ANN) == [] and at.session_state["playground"].dataset == before

    upload(at, 1, [("fork2.png", photo((90, 90, 90), 4), "image/png")])
    assert not any(f.value.columns.tolist() == ["File", "Why it was not added"] for f in at.dataframe)
    at.button(key="rec_build").click()
    rerun(at)
    assert not errors(at)
    built = at.session_state["playground"].dataset
    assert built != before and session.dataset_title(built) == "Cups"
    assert table_with(at, "Training images")["Class"].tolist() == ["cups", "forks"]

    # Clearing a class and removing one.
    at.button(key="rec_clear_0").click()
    rerun(at)
    assert counts(at) == {"cups": 0, "forks": 2}
    at.button(key="rec_drop_0").click()
    rerun(at)
    assert counts(at) == {"forks": 2}
    assert len(session.user_datasets().list(ANN)) == 1
