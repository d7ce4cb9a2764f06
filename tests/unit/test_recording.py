"""A data set recorded per class (camera pictures or uploaded files): it goes through the zip import's pipeline
(the same arrays as a zip of the same images), and each class and picture is checked against the import's
limits as it is added, with plain reasons."""

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from core.data.image_import import ArchiveRefused, ImageImportError, ImportLimits, images_from_files, read_image_folders
from core.data.recording import MAX_CLASSES, Recording, RecordingError
from core.data.user_datasets import UserDatasetStore

LIMITS = ImportLimits()


def photo(seed: int, size=(64, 48), kind="JPEG") -> bytes:
    """A noisy colour picture, as the camera sends (JPEG) or a learner uploads."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, kind)
    return buffer.getvalue()


def pictures(n: int, start: int = 0) -> list[tuple[str, bytes]]:
    return [(f"p{i}.jpg", photo(i)) for i in range(start, start + n)]


def recorded(**classes: int) -> Recording:
    recording = Recording()
    start = 0
    for name, n in classes.items():
        recording.add_class(name)
        assert recording.add_files(name, pictures(n, start), LIMITS) == []
        start += n
    return recording


def as_zip(recording: Recording) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for files in recording.files_by_class().values():
            for file_name, data in files:
                archive.writestr(file_name, data)
    return buffer.getvalue()


def test_recorded_pictures_give_the_same_data_set_as_a_zip_of_the_same_images():
    recording = recorded(cup=5, spoon=4)
    for size, grey in ((16, False), (28, True)):
        from_zip = read_image_folders(as_zip(recording), size=size, grey=grey)
        from_files = images_from_files(recording.files_by_class(), size=size, grey=grey)
        assert from_files.class_names == from_zip.class_names == ("cup", "spoon")
        for part in ("x_train", "y_train", "x_test", "y_test"):
            np.testing.assert_array_equal(from_files.arrays[part], from_zip.arrays[part])
        assert from_files.arrays["x_train"].shape[1:] == (size, size, 1 if grey else 3)
        assert from_files.report.details() == from_zip.report.details()
        assert [(c.train, c.test) for c in from_files.report.classes] == [(4, 1), (3, 1)]


def test_building_saves_the_owners_data_set_with_the_health_report(tmp_path):
    store = UserDatasetStore(tmp_path)
    recording = recorded(cup=3, spoon=3)
    name, report = recording.build(title="  My  desk ", owner="ann", store=store, size=24, grey=False, limits=LIMITS)
    data = store.load(name)
    assert data.title == "My desk" and data.class_names == ("cup", "spoon") and data.owner == "ann"
    assert data.x_train.shape == (4, 24, 24, 3) and len(data.x_test) == 2
    assert report.image_format == "24×24 colour"
    meta = store.meta(name)
    assert meta["details"]["source"] == "pictures taken or uploaded"
    assert [m["id"] for m in store.list("bob")] == []
    assert recording.counts() == {"cup": 3, "spoon": 3}  # kept: the learner can add more and build again
    with pytest.raises(ImageImportError, match="already a data set called 'my desk'"):
        recording.build(title="my desk", owner="ann", store=store, size=24, grey=False, limits=LIMITS)


def test_a_picture_that_is_no_readable_image_is_refused_when_added_with_the_imports_reason():
    recording = recorded(cup=2)
    for file_name, data in (("broken.png", b"\x89PNG not really"), ("cut.jpg", photo(1)[:200])):
        with pytest.raises(
            RecordingError, match=r"^This picture cannot be used: not a readable image \(damaged, truncated"
        ):
            recording.add_picture("cup", file_name, data, LIMITS)
    with pytest.raises(
        RecordingError, match=r"^This picture cannot be used: too many pixels \(3,000×3,000; at most 1,000,000"
    ):
        recording.add_picture(
            "cup", "huge.png", photo(2, size=(3000, 3000), kind="PNG"), ImportLimits(max_pixels=10**6)
        )
    assert recording.counts() == {"cup": 2}
    # The thumbnail is the centred square the network will see, in colour.
    assert recording.classes["cup"][0].preview.shape == (64, 64, 3)


def test_damaged_files_handed_to_the_shared_function_are_skipped_as_in_a_zip():
    good = pictures(3)
    files = {"cup": [*good, ("cup/broken.png", b"junk")], "spoon": pictures(2, 3)}
    imported = images_from_files(files, size=16)
    assert [(s.path, s.reason.split(" (")[0]) for s in imported.report.skipped] == [
        ("cup/broken.png", "not a readable image")
    ]
    assert imported.report.train_images + imported.report.test_images == 5
    with pytest.raises(ArchiveRefused) as caught:
        images_from_files({"cup": [("a.png", b"junk")], "spoon": [("b.png", b"junk")]}, size=16)
    assert str(caught.value).startswith("No usable images were found.")
    assert len(caught.value.report.skipped) == 2


def test_not_ready_recordings_are_refused_before_decoding_with_plain_messages(tmp_path):
    store = UserDatasetStore(tmp_path)

    def refusal(recording):
        with pytest.raises(RecordingError) as caught:
            recording.build(title="x", owner="ann", store=store, size=16, grey=False, limits=LIMITS)
        return str(caught.value)

    assert refusal(Recording()).startswith("Add at least two classes")
    assert refusal(recorded(cup=4)).startswith("Add at least two classes")
    one_short = recorded(cup=4, spoon=1, fork=0)
    assert "Each class needs at least 2 pictures" in refusal(one_short)
    assert "2 class(es) have fewer" in refusal(one_short)
    assert (one_short.needs_more("cup"), one_short.needs_more("spoon"), one_short.needs_more("fork")) == (0, 1, 2)
    assert store.list("ann") == []


def test_class_names_are_tidied_unique_and_bounded():
    recording = Recording()
    assert recording.add_class("  red   cup ") == "red cup"
    assert recording.add_class("**bold** <b>x</b> `y`") == "**bold** <b>x</b> `y`"  # kept literally
    assert recording.add_class("tab\there") == "tab here"
    assert recording.add_class("bell\x07") == "bell"  # as every name: control characters dropped (clean_name)
    for typed, message in (
        ("RED CUP", "already a class with this name"),
        ("   ", "Type a name for the class"),
        ("x" * 41, "too long: at most 40 characters"),
    ):
        with pytest.raises(RecordingError, match=message):
            recording.add_class(typed)
    for i in range(MAX_CLASSES - 4):
        recording.add_class(f"class {i}")
    with pytest.raises(RecordingError, match=f"At most {MAX_CLASSES} classes"):
        recording.add_class("one more")


def test_pictures_beyond_the_import_limits_are_refused_as_they_are_added():
    limits = ImportLimits(max_per_class=3, max_files=5, max_file_mb=1, max_archive_mb=2)
    recording = Recording()
    recording.add_class("cup")
    recording.add_class("spoon")
    refused = recording.add_files("cup", [*pictures(4), ("notes.txt", b"hello"), ("scan", b"x")], limits)
    assert [(s.path, s.reason) for s in refused] == [
        ("p3.jpg", "This class already has 3 pictures (the limit per class)."),
        ("notes.txt", "This picture cannot be used: not an image (.txt; use PNG, JPEG, GIF, BMP, WebP or TIFF)."),
        ("scan", "This picture cannot be used: not an image (no extension; use PNG, JPEG, GIF, BMP, WebP or TIFF)."),
    ]
    recording.add_files("spoon", pictures(2), limits)
    with pytest.raises(RecordingError, match="already have 5 pictures"):
        recording.add_picture("spoon", "p.jpg", photo(9), limits)
    assert recording.counts() == {"cup": 3, "spoon": 2}


def test_pictures_beyond_the_import_limits_in_megabytes_are_refused_before_decoding():
    limits = ImportLimits(max_file_mb=1, max_archive_mb=2)
    recording = Recording()
    recording.add_class("cup")
    with pytest.raises(RecordingError, match=r"^This picture is 1.5 MB; at most 1 MB per picture are allowed"):
        recording.add_picture("cup", "big.png", b"\0" * (3 * 1024 * 1024 // 2), limits)
    noisy = photo(0, size=(560, 560), kind="PNG")  # a little under 1 MB: noise does not compress
    assert 0.8 < len(noisy) / 2**20 < 1
    recording.add_picture("cup", "a.png", noisy, limits)
    recording.add_picture("cup", "b.png", noisy, limits)
    with pytest.raises(RecordingError, match="more than 2 MB together"):
        recording.add_picture("cup", "c.png", noisy, limits)
    assert recording.counts() == {"cup": 2} and 1.6 < recording.megabytes < 2
    with pytest.raises(RecordingError, match="no longer exists"):
        recording.add_picture("fork", "p.jpg", photo(1), limits)


def test_removing_the_last_picture_clearing_and_removing_a_class():
    recording = recorded(cup=3, spoon=2)
    recording.remove_last("cup")
    assert [p.file_name for p in recording.classes["cup"]] == ["p0.jpg", "p1.jpg"]
    recording.clear("spoon")
    recording.remove_last("spoon")  # nothing left: nothing happens
    assert recording.counts() == {"cup": 2, "spoon": 0}
    recording.remove_class("spoon")
    assert recording.counts() == {"cup": 2} and recording.pictures == 2
