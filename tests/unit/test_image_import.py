"""Importing a zip of image folders: every bad archive the issue lists (built here, in memory), resizing and
grey conversion on known images, the stratified split, the health report, saving, and the CLI."""

import io
import stat
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from core.config import SettingsError
from core.data.datasets import load_dataset
from core.data.image_import import (
    ArchiveRefused,
    ImageImportError,
    ImportLimits,
    import_image_folders,
    read_image_folders,
)
from core.data.user_datasets import UserDatasetStore

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def png(colour=RED, size=(40, 30), mode="RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(colour=RED, size=(40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width×height pixels (a decompression bomb's header, without the bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")
    )


def make_zip(members: dict, compression=zipfile.ZIP_DEFLATED) -> bytes:
    """name -> bytes (a file), None (a folder entry) or a ZipInfo-ready (ZipInfo, bytes) pair."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            if data is None:
                archive.writestr(zipfile.ZipInfo(name if name.endswith("/") else name + "/"), b"")
            elif isinstance(data, tuple):
                archive.writestr(*data)
            else:
                archive.writestr(name, data)
    return buffer.getvalue()


def two_classes(n_red=5, n_blue=5, top="") -> dict:
    members = {f"{top}red/r{i}.png": png(RED) for i in range(n_red)}
    members.update({f"{top}blue/b{i}.png": png(BLUE) for i in range(n_blue)})
    return members


def skipped(report) -> dict[str, str]:
    return {s.path: s.reason for s in report.skipped}


def refused(data, **options) -> str:
    with pytest.raises(ArchiveRefused) as caught:
        read_image_folders(data, **options)
    assert caught.value.report.refused == str(caught.value)
    return str(caught.value)


# --- unsafe members: skipped with a reason, never read -------------------------------------------


def test_traversal_absolute_and_symlink_members_are_skipped_with_reasons():
    link = zipfile.ZipInfo("red/link.png")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    members = {
        **two_classes(),
        "red/../../etc/passwd.png": png(),
        "/abs/red/x.png": png(),
        "C:/windows/x.png": png(),
        "link": (link, "../../etc/passwd"),
    }
    imported = read_image_folders(make_zip(members), size=16)
    reasons = skipped(imported.report)
    assert reasons["red/../../etc/passwd.png"] == "a path that climbs out of the archive ('..')"
    assert reasons["/abs/red/x.png"].startswith("an absolute path")
    assert reasons["C:/windows/x.png"].startswith("an absolute path")
    assert reasons["red/link.png"] == "a symbolic link (links are never followed)"
    assert imported.class_names == ("blue", "red")
    assert {c.name: c.train + c.test for c in imported.report.classes} == {"blue": 5, "red": 5}


def test_macosx_and_dotfiles_are_ignored_but_counted():
    members = {
        **two_classes(),
        "__MACOSX/red/._r0.png": b"\0\5\26\7",
        ".DS_Store": b"junk",
        "red/.hidden.png": png(),
        ".git/config": b"x",
        "blue/Thumbs.db": b"x",
    }
    imported = read_image_folders(make_zip(members), size=16)
    assert imported.report.skipped == []
    assert len(imported.report.ignored) == 5
    assert imported.class_names == ("blue", "red")
    assert "Ignored 5 macOS, hidden or system file(s)" in imported.report.text()


# --- zip bombs and oversized archives: the whole archive is refused --------------------------------


def test_declared_huge_unpacked_size_is_refused():
    data = bytearray(make_zip(two_classes()))
    central = data.index(b"PK\x01\x02")  # the first file's central directory entry
    data[central + 24 : central + 28] = struct.pack("<I", 0xF000_0000)  # it now claims 3.75 GB unpacked
    message = refused(bytes(data))
    assert "unpacks to 3,840 MB" in message and "zip bomb" in message


def test_high_compression_ratio_is_refused():
    zeros = b"\0" * (2 * 1024 * 1024)  # 2 MB of zeros pack into about 2 KB
    message = refused(make_zip({**two_classes(), "red/zeros.bmp": zeros}))
    assert message.startswith("red/zeros.bmp is packed") and "at most 100:1" in message and "zip bomb" in message


def test_one_member_too_large_and_total_too_large_are_refused():
    noise = np.random.default_rng(0).integers(0, 256, 1_500_000, dtype=np.uint8).tobytes()  # does not compress
    archive = make_zip({**two_classes(), "red/noise.bmp": noise})
    assert "at most 1 MB per file" in refused(archive, limits=ImportLimits(max_file_mb=1))
    assert "at most 1 MB are allowed" in refused(archive, limits=ImportLimits(max_total_mb=1, max_file_mb=2))


def test_too_many_members_is_refused():
    message = refused(make_zip(two_classes(4, 4)), limits=ImportLimits(max_files=5))
    assert message == "The archive holds 8 entries; at most 5 are allowed."


def test_archive_larger_than_the_upload_limit_is_refused():
    noise = np.random.default_rng(1).integers(0, 256, 1_200_000, dtype=np.uint8).tobytes()
    message = refused(make_zip({**two_classes(), "red/n.bmp": noise}), limits=ImportLimits(max_archive_mb=1))
    assert message.startswith("The zip file is 1.") and "at most 1 MB are allowed" in message


def test_not_a_zip_and_missing_file_are_refused(tmp_path):
    assert refused(b"just some text").startswith("This file is not a zip archive")
    assert refused(tmp_path / "nowhere.zip") == f"The file {tmp_path / 'nowhere.zip'} does not exist."


# --- bad members: skipped with a reason ------------------------------------------------------------


def test_non_images_corrupt_and_truncated_images_are_skipped():
    good_png, good_jpeg = png(), jpeg(size=(64, 64))
    members = {
        **two_classes(),
        "red/notes.txt": b"hello",
        "red/readme": b"x",
        "red/fake.png": b"not a picture",
        "red/half.png": good_png[: len(good_png) // 2],
        "red/cut.jpg": good_jpeg[: len(good_jpeg) // 2],
        "blue/ok.jpg": good_jpeg,
    }
    imported = read_image_folders(make_zip(members), size=16)
    reasons = skipped(imported.report)
    assert reasons["red/notes.txt"].startswith("not an image (.txt;")
    assert reasons["red/readme"].startswith("not an image (no extension;")
    for name in ("red/fake.png", "red/half.png", "red/cut.jpg"):
        assert reasons[name] == "not a readable image (damaged, truncated or not really an image)", name
    assert {c.name: c.train + c.test for c in imported.report.classes} == {"blue": 6, "red": 5}
    assert imported.report.reasons() == {"not an image": 2, "not a readable image": 3}


def test_damaged_member_inside_the_archive_is_skipped():
    data = bytearray(make_zip(two_classes(), compression=zipfile.ZIP_STORED))
    at = data.index(b"IDAT")  # inside the first stored PNG's bytes: its CRC no longer matches
    data[at + 8] ^= 0xFF
    reasons = skipped(read_image_folders(bytes(data), size=16).report)
    assert list(reasons.values()) == ["damaged inside the archive (it cannot be unpacked)"]


def test_decompression_bombs_are_skipped_from_their_header():
    members = {
        **two_classes(),
        "red/bomb.png": png_claiming(100_000, 100_000),  # over twice PIL's limit
        "red/big.png": png_claiming(10_000, 10_000),  # over PIL's warning limit
        "blue/medium.png": png_claiming(2_000, 2_000),
    }  # over this test's limit
    imported = read_image_folders(make_zip(members), size=16, limits=ImportLimits(max_pixels=1_000_000))
    reasons = skipped(imported.report)
    assert reasons["red/bomb.png"] == "too many pixels (at most 1,000,000 are allowed)"
    assert reasons["red/big.png"].startswith("too many pixels")
    assert reasons["blue/medium.png"] == "too many pixels (2,000×2,000; at most 1,000,000 are allowed)"


def test_images_beyond_the_per_class_limit_are_skipped():
    imported = read_image_folders(make_zip(two_classes(6, 3)), size=16, limits=ImportLimits(max_per_class=4))
    assert {c.name: c.train + c.test for c in imported.report.classes} == {"blue": 3, "red": 4}
    assert sorted(skipped(imported.report)) == ["red/r4.png", "red/r5.png"]
    assert all(r == "its class already has 4 images (the limit per class)" for r in skipped(imported.report).values())


# --- classes and layout ------------------------------------------------------------------------------


def test_empty_class_is_left_out_with_a_warning():
    members = {**two_classes(), "green/": None, "yellow/.keep": b"", "white/w.png": png((255, 255, 255))}
    report = read_image_folders(make_zip(members), size=16).report
    assert {(c.path, c.reason) for c in report.left_out_classes} == {
        ("green", "no usable images"),
        ("yellow", "no usable images"),
        ("white", "only 1 usable image; a class needs at least 2"),
    }
    assert [c.name for c in report.classes] == ["blue", "red"]
    assert any("3 class folder(s) were left out" in w for w in report.warnings)


def test_single_class_is_refused_even_inside_a_wrapper_folder():
    message = refused(make_zip({f"photos/red/r{i}.png": png() for i in range(4)}))
    assert message.startswith("Only one class (red) has images: a network needs at least two classes")


def test_no_images_is_refused_and_loose_files_are_reported():
    with pytest.raises(ArchiveRefused) as caught:
        read_image_folders(make_zip({"a.png": png(), "b.txt": b"x"}))
    assert str(caught.value).startswith("No usable images were found.")
    assert skipped(caught.value.report)["a.png"].startswith("not inside a class folder")
    assert refused(make_zip({})).startswith("No usable images were found.")


def test_one_common_top_folder_wraps_the_classes():
    members = {**two_classes(3, 3, top="my toys/"), "my toys/readme.txt": b"hello"}
    imported = read_image_folders(make_zip(members), size=16)
    assert imported.class_names == ("blue", "red")
    assert skipped(imported.report)["my toys/readme.txt"].startswith("not inside a class folder")


# --- images: resizing, grey, colour ------------------------------------------------------------------


def test_colour_images_are_centre_cropped_and_resized():
    # 90×30: green, red, blue thirds. A centred square crop keeps only the red middle (nothing squashed).
    stripes = np.zeros((30, 90, 3), np.uint8)
    stripes[:, :30], stripes[:, 30:60], stripes[:, 60:] = GREEN, RED, BLUE
    buffer = io.BytesIO()
    Image.fromarray(stripes).save(buffer, "PNG")
    members = {
        **{f"stripes/s{i}.png": buffer.getvalue() for i in range(3)},
        **{f"blue/b{i}.png": png(BLUE) for i in range(3)},
    }
    imported = read_image_folders(make_zip(members), size=28)
    x = np.concatenate([imported.arrays["x_train"], imported.arrays["x_test"]])
    y = np.concatenate([imported.arrays["y_train"], imported.arrays["y_test"]])
    assert x.shape == (6, 28, 28, 3) and x.dtype == np.uint8
    stripe_images = x[y == imported.class_names.index("stripes")]
    np.testing.assert_array_equal(stripe_images[:, 1:-1, 1:-1], np.broadcast_to(RED, (3, 26, 26, 3)))
    assert "cropped to a centred square" in imported.report.text()


def test_grey_conversion_gives_the_expected_levels():
    members = {
        "red/r.png": png(RED),
        "red/r2.jpg": jpeg(RED),
        "blue/b.png": png(BLUE),
        "blue/b2.png": png(BLUE),
        "clear/c.png": png((0, 0, 0, 0), mode="RGBA"),
        "clear/c2.png": png((0, 0, 0, 0), mode="RGBA"),
    }
    imported = read_image_folders(make_zip(members), size=16, grey=True)
    x = np.concatenate([imported.arrays["x_train"], imported.arrays["x_test"]])
    y = np.concatenate([imported.arrays["y_train"], imported.arrays["y_test"]])
    assert x.shape == (6, 16, 16, 1) and x.dtype == np.uint8
    levels = {name: sorted(np.unique(x[y == label]).tolist()) for label, name in enumerate(imported.class_names)}
    assert levels["blue"] == [29]  # 0.114 × 255, as PIL's ITU-R 601-2 luma
    assert levels["clear"] == [255]  # transparent pixels become white
    red = x[y == imported.class_names.index("red")]
    assert set(np.unique(red[0])) | set(np.unique(red[1])) <= set(range(74, 80))  # 76 (PNG), JPEG within ±3


def all_images(imported) -> np.ndarray:
    return np.concatenate([imported.arrays["x_train"], imported.arrays["x_test"]])


def grey_members() -> dict:
    """Grey pictures in every way a file can be grey: modes L, LA and 1, and RGB with equal channels."""
    ramp = np.tile(np.arange(0, 240, 6, dtype=np.uint8), (30, 1))  # 40 levels left to right
    members = {}
    for i, image in enumerate(
        [Image.fromarray(ramp), Image.fromarray(ramp).convert("LA"), Image.fromarray(ramp > 100)]
    ):
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        members[f"plain/p{i}.png"] = buffer.getvalue()
    for i in range(3):
        buffer = io.BytesIO()
        Image.fromarray(np.stack([ramp[:, ::-1]] * 3, axis=-1)).save(buffer, "PNG")  # RGB, R = G = B
        members[f"rgb/g{i}.png"] = buffer.getvalue()
    return members


def test_images_that_are_all_grey_are_imported_grey_by_default():
    members = grey_members()
    assert Image.open(io.BytesIO(members["rgb/g0.png"])).mode == "RGB"
    imported = read_image_folders(make_zip(members), size=16)
    assert imported.report.grey and imported.report.image_format == "16×16 grey"
    assert all_images(imported).shape == (6, 16, 16, 1)
    chosen = read_image_folders(make_zip(members), size=16, grey=True)  # the very pixels of choosing grey
    for key, array in chosen.arrays.items():
        np.testing.assert_array_equal(imported.arrays[key], array)
    assert imported.report.colour_note == "All 6 images are grey: imported as grey."
    assert imported.report.text().splitlines()[0].endswith("All 6 images are grey: imported as grey.")
    assert imported.report.details()["colour_choice"] == "auto"


def test_one_colour_image_among_grey_ones_makes_the_import_colour():
    members = {**grey_members(), "rgb/tinted.png": png((120, 121, 120))}  # one level of green is colour
    imported = read_image_folders(make_zip(members), size=16)
    assert not imported.report.grey and all_images(imported).shape == (7, 16, 16, 3)
    chosen = read_image_folders(make_zip(members), size=16, grey=False)  # the very pixels of choosing colour
    for key, array in chosen.arrays.items():
        np.testing.assert_array_equal(imported.arrays[key], array)
    assert imported.report.colour_note == "1 of 7 images are in colour: all were imported in colour."


def test_a_colour_image_in_a_class_left_out_does_not_decide():
    members = {**grey_members(), "lonely/red.png": png(RED)}  # one image: the class is left out
    imported = read_image_folders(make_zip(members), size=16)
    assert imported.class_names == ("plain", "rgb") and all_images(imported).shape[-1] == 1


def test_the_explicit_choices_still_decide_and_say_so():
    grey = make_zip(grey_members())
    as_colour = read_image_folders(grey, size=16, grey=False)
    assert all_images(as_colour).shape[-1] == 3 and as_colour.report.image_format == "16×16 colour"
    assert as_colour.report.colour_note.startswith("Imported in colour, as chosen, though all 6 images are grey")
    colour = make_zip(two_classes(3, 3))
    assert all_images(read_image_folders(colour, size=16)).shape[-1] == 3  # colour images stay colour
    as_grey = read_image_folders(colour, size=16, grey=True)
    assert all_images(as_grey).shape[-1] == 1 and as_grey.report.colour_note == "Imported as grey, as chosen."
    assert read_image_folders(colour, size=16).report.colour_note == "All 6 images are in colour: imported in colour."


def test_stratified_seeded_split_shuffles_the_training_set():
    first = read_image_folders(make_zip(two_classes(10, 5)), size=16)
    counts = {c.name: (c.train, c.test) for c in first.report.classes}
    assert counts == {"blue": (4, 1), "red": (8, 2)}
    assert np.bincount(first.arrays["y_test"]).tolist() == [1, 2]
    assert np.bincount(first.arrays["y_train"]).tolist() == [4, 8]
    labels = first.arrays["y_train"].tolist()
    assert labels != sorted(labels)  # mixed: Keras' validation split takes the last training images
    again = read_image_folders(make_zip(two_classes(10, 5)), size=16)
    for key, array in first.arrays.items():
        np.testing.assert_array_equal(array, again.arrays[key])


def test_size_outside_the_offered_choices_is_refused():
    with pytest.raises(ImageImportError, match="Choose an image size of 16, 24, 28"):
        read_image_folders(make_zip(two_classes()), size=17)


# --- report, limits, saving ----------------------------------------------------------------------------


def test_report_text_lists_classes_warnings_skipped_files_and_limits():
    members = {**two_classes(9, 3), "blue/notes.txt": b"x"}
    text = read_image_folders(make_zip(members), size=16, grey=True).report.text()
    lines = text.splitlines()
    assert lines[0].startswith("Images: 16×16 grey; each image was cropped to a centred square")
    assert lines[1:5] == [
        "Class  training  test",
        "blue          2     1",
        "red           7     2",
        "Total         9     3",
    ]
    assert "Warning: The classes are unbalanced: class 'red' has 7 training images, class 'blue' only 2." in text
    assert "  blue/notes.txt: not an image (.txt; use PNG, JPEG, GIF, BMP, WebP or TIFF)" in lines
    assert lines[-1].startswith("Limits: A zip of at most 50 MB with at most 10,000 files")


def test_limits_come_from_the_environment_and_are_checked():
    limits = ImportLimits.from_env(
        {"CNN_PLAYGROUND_IMPORT_MAX_FILES": "300", "CNN_PLAYGROUND_IMPORT_MAX_PIXELS": "1000000"}
    )
    assert (limits.max_files, limits.max_pixels, limits.max_ratio) == (300, 1_000_000, 100)
    assert "at most 300 files" in limits.text() and "1 megapixels" in limits.text()
    with pytest.raises(SettingsError, match="CNN_PLAYGROUND_IMPORT_MAX_RATIO must be a whole number"):
        ImportLimits.from_env({"CNN_PLAYGROUND_IMPORT_MAX_RATIO": "lots"})
    with pytest.raises(SettingsError, match="IMPORT_MAX_PIXELS must be between"):
        ImportLimits.from_env({"CNN_PLAYGROUND_IMPORT_MAX_PIXELS": str(10**10)})


def test_import_saves_a_named_data_set_of_arrays_only_for_its_owner(tmp_path):
    store = UserDatasetStore()  # the test's home (conftest), where load_dataset looks too
    name, report = import_image_folders(
        make_zip(two_classes(5, 5)), title="  My   toys ", owner="ann", store=store, size=24
    )
    data = load_dataset(name)
    assert (data.title, data.owner, data.class_names, data.input_shape) == (
        "My toys",
        "ann",
        ("blue", "red"),
        (24, 24, 3),
    )
    assert len(data.x_train) + len(data.x_test) == 10 and data.output_units == 2
    assert [m["id"] for m in store.list("ann")] == [name] and store.list("bob") == []
    details = store.meta(name)["details"]
    assert details["classes"] == [{"name": "blue", "train": 4, "test": 1}, {"name": "red", "train": 4, "test": 1}]
    assert "r0.png" not in str(details)  # no file names of the archive are kept
    with pytest.raises(ImageImportError, match="already a data set called 'my toys'"):
        import_image_folders(make_zip(two_classes()), title="my toys", owner="ann", store=store)
    with pytest.raises(ImageImportError, match="already a data set called 'Shapes \\(synthetic\\)'"):
        import_image_folders(make_zip(two_classes()), title="Shapes (synthetic)", owner="ann", store=store)
    with pytest.raises(ImageImportError, match="Give the data set a name"):
        import_image_folders(make_zip(two_classes()), title="  ", owner="ann", store=store)
    other, _ = import_image_folders(make_zip(two_classes()), title="My toys", owner="bob", store=store)
    assert other != name  # another user may use the same name


# --- the command line ------------------------------------------------------------------------------------


def test_cli_import_images_prints_the_report_or_refuses_plainly(tmp_path, subprocess_env):
    good, bad = tmp_path / "good.zip", tmp_path / "one.zip"
    good.write_bytes(make_zip({**two_classes(6, 6), "red/notes.txt": b"x"}))
    bad.write_bytes(make_zip({f"red/r{i}.png": png() for i in range(3)}))
    home = tmp_path / "store"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "core",
            "import-images",
            str(good),
            "--name",
            "Colours",
            "--size",
            "16",
            "--grey",
            "--home",
            str(home),
        ],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Images: 16×16 grey" in done.stdout and "red/notes.txt: not an image" in done.stdout
    name = done.stdout.strip().splitlines()[-1].split()[4]
    assert UserDatasetStore(home).meta(name)["title"] == "Colours"
    done = subprocess.run(
        [sys.executable, "-m", "core", "import-images", str(bad), "--name", "One"],
        capture_output=True,
        text=True,
        env=subprocess_env,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "Error: Only one class (red) has images: a network needs at least two classes to tell apart. "
        "Add a folder for each class."
    )
    assert "Traceback" not in done.stderr
