"""Class folder names stay whole and distinct (two long names that differ late are two classes); they are
shortened only for showing, and the shortened names stay distinct too."""

import io
import unicodedata
import zipfile

from PIL import Image

from core.data.image_import import read_image_folders
from core.data.names import DISPLAY_LIMIT, class_name, display_names, short_name
from dashboard.charts.training import class_balance_figure, confusion_matrix_figure

SHARED = "Holiday photos from our summer trip 2023 to the coast of "  # 57 characters in common
BEACH, CLIFFS = SHARED + "Brittany, beach", SHARED + "Brittany, cliffs"


def png(grey: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (8, 8), grey).save(buffer, "PNG")
    return buffer.getvalue()


def archive(folders: dict[str, int]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for folder, grey in folders.items():
            for i in range(3):
                zipped.writestr(f"{folder}/{i}.png", png(grey))
    return buffer.getvalue()


def test_two_long_folder_names_that_differ_after_40_characters_stay_two_classes():
    imported = read_image_folders(archive({BEACH: 0, CLIFFS: 255}), size=16)
    assert imported.class_names == (BEACH, CLIFFS)  # whole names, not cut to 40 characters
    assert [(c.name, c.train + c.test) for c in imported.report.classes] == [(BEACH, 3), (CLIFFS, 3)]
    assert sorted(set(imported.arrays["y_train"].tolist())) == [0, 1]
    assert all(name in imported.report.text() for name in (BEACH, CLIFFS))


def test_a_folder_spelled_in_two_unicode_forms_is_one_class_and_control_characters_keep_names_apart():
    nfd, nfc = unicodedata.normalize("NFD", "Café"), "Café"
    assert nfd != nfc and class_name(nfd) == class_name(nfc) == nfc
    assert class_name("a\x01") != class_name("a\x02")
    assert all(ch.isprintable() for ch in class_name("tab\there"))


def test_display_names_are_short_with_an_ellipsis_and_distinct():
    shown = display_names([BEACH, CLIFFS, "cats"])
    assert shown[2] == "cats"  # short names are shown as they are
    assert len(set(shown)) == 3 and all(len(s) <= DISPLAY_LIMIT for s in shown)
    assert all("…" in s for s in shown[:2])
    assert shown[0].endswith("beach") and shown[1].endswith("cliffs")  # the end, where they differ, is kept


def test_names_that_shorten_alike_are_numbered():
    middle_a = "A" * 30 + " first version " + "Z" * 30
    middle_b = "A" * 30 + " second version " + "Z" * 30
    assert short_name(middle_a) == short_name(middle_b)  # they differ only in the middle
    shown = display_names([middle_a, middle_b, "dogs"])
    assert shown[0].endswith(" (1)") and shown[1].endswith(" (2)") and shown[2] == "dogs"
    assert all(len(s) <= DISPLAY_LIMIT for s in shown)


def test_charts_label_long_classes_apart():
    matrix = confusion_matrix_figure([[3, 0], [1, 2]], [BEACH, CLIFFS])
    assert len(set(matrix.data[0].x)) == 2
    balance = class_balance_figure([3, 3], [1, 1], [BEACH, CLIFFS])
    assert len(set(balance.data[0].x)) == 2 and all(len(x) <= DISPLAY_LIMIT for x in balance.data[0].x)
