"""A zip of image folders (one folder per class) read safely into a data set of arrays.

Nothing is extracted to disk and nothing of the archive is kept but pixels: members are read one at
a time into memory after checks on the whole archive (its size, number of files, declared unpacked
size and compression ratio: zip bombs) and on each member (unsafe names, links, hidden files,
non-images, damaged images, huge pixel counts: decompression bombs). Each image is cropped to a
centred square, resized, and stored as uint8 N×H×W×C with generated ids only: grey (one channel) when
asked, in colour when asked, and by default grey exactly when every image used is grey (``grey=None``,
"auto": a grey source in three equal channels is three times the numbers for nothing). A health report says
what was used, what was skipped and why, and which colours were kept.
"""

from __future__ import annotations

import io
import os
import re
import stat
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageOps

from core.config import ENV_NUMBERS, MAX_UPLOAD_MB, env_number
from core.data.datasets import DATASETS
from core.data.names import class_name
from core.data.pixels import FORMATS_TEXT, IMAGE_EXTENSIONS, BadImage, decode_image, image_uint8, with_channels
from core.text import clean_name

MB = 1024 * 1024
SIZES = (16, 24, 28, 32, 48, 64, 96, 128)  # the target sizes offered (pixels per side)
DEFAULT_SIZE = 32
TEST_SHARE = 0.2  # held out per class for testing
MIN_PER_CLASS = 2  # one image to train on, one to test
IMBALANCE_FACTOR = 2  # a warning when the largest class has more than this many times the smallest's images
RATIO_CHECK_BYTES = MB  # small members may compress very well (a plain-colour BMP): only larger ones are judged
SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})  # left by file managers, not images of a class
MAX_TITLE = 60
ImageBytes = bytes | Callable[[], bytes]  # an image file's bytes, or a function that reads them
ZIP_SOURCE = "image folders (zip)"  # how a data set was made, kept with it (details["source"])
FILES_SOURCE = "pictures taken or uploaded"
IMAGE_SOURCES = frozenset({ZIP_SOURCE, FILES_SOURCE})
# The import's colour choices (the Data page and the CLI's --colour), each as the ``grey`` argument it means.
COLOUR_CHOICES = {"auto": None, "colour": False, "grey": True}
DEFAULT_COLOUR = "auto"
RESIZE_NOTE = "each image was cropped to a centred square (so nothing is squashed), then resized"


class ImageImportError(Exception):
    """The images cannot be imported; the message says why in plain words."""


class ArchiveRefused(ImageImportError):
    """The whole archive is refused; ``report`` holds what was found before (for the health report)."""

    def __init__(self, reason: str, report: HealthReport):
        super().__init__(reason)
        report.refused = reason
        self.report = report


class MemberRefused(Exception):
    """One member of an archive is not used (or cannot be read); the message is the reason, in plain words."""


@dataclass(frozen=True)
class ImportLimits:
    """What an archive may contain. Defaults suit a classroom server; each can be set from the environment."""

    max_archive_mb: int = MAX_UPLOAD_MB  # the web server's upload limit (.streamlit/config.toml)
    max_files: int = ENV_NUMBERS["IMPORT_MAX_FILES"].default
    max_total_mb: int = ENV_NUMBERS["IMPORT_MAX_TOTAL_MB"].default  # declared unpacked size of all files together
    max_file_mb: int = ENV_NUMBERS["IMPORT_MAX_FILE_MB"].default  # declared unpacked size of one file
    max_ratio: int = ENV_NUMBERS["IMPORT_MAX_RATIO"].default  # unpacked / packed size of one file over 1 MB
    max_pixels: int = ENV_NUMBERS["IMPORT_MAX_PIXELS"].default  # width × height of one image, from its header
    max_per_class: int = ENV_NUMBERS["IMPORT_MAX_PER_CLASS"].default  # images used per class; the rest skipped

    ENV = {  # not a field (no annotation): setting name -> its entry in core.config.ENV_NUMBERS
        "max_files": "IMPORT_MAX_FILES",
        "max_total_mb": "IMPORT_MAX_TOTAL_MB",
        "max_file_mb": "IMPORT_MAX_FILE_MB",
        "max_ratio": "IMPORT_MAX_RATIO",
        "max_pixels": "IMPORT_MAX_PIXELS",
        "max_per_class": "IMPORT_MAX_PER_CLASS",
    }

    @classmethod
    def from_env(cls, environ=None) -> ImportLimits:
        """Defaults, overridden by the IMPORT_MAX_... settings of core.config (SettingsError if out of range)."""
        env = os.environ if environ is None else environ
        return cls(**{name: env_number(env, var) for name, var in cls.ENV.items()})

    def text(self) -> str:
        return (
            f"A zip of at most {self.max_archive_mb} MB with at most {self.max_files:,} files, unpacking to "
            f"at most {self.max_total_mb:,} MB ({self.max_file_mb} MB per file, packed at most "
            f"{self.max_ratio}:1); images of at most {self.max_pixels / 1e6:g} megapixels; at most "
            f"{self.max_per_class:,} images per class are used."
        )


@dataclass(frozen=True)
class SkippedFile:
    path: str  # the name in the archive, made printable
    reason: str


@dataclass(frozen=True)
class ClassCount:
    name: str
    train: int
    test: int


@dataclass
class HealthReport:
    size: int
    grey: bool | None  # how the images were stored; None ("auto") until the images used are known
    limits: ImportLimits
    classes: list[ClassCount] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)  # files not used, each with its reason
    ignored: list[SkippedFile] = field(default_factory=list)  # __MACOSX, hidden and system files
    left_out_classes: list[SkippedFile] = field(default_factory=list)  # class folders without enough images
    refused: str = ""  # why the whole archive was refused; empty when it was imported
    choice: bool | None = None  # what was asked: grey, colour, or None (grey when every image is grey)
    images_used: int = 0  # images of the classes kept, and how many of them are grey (None: not looked at)
    grey_images: int | None = None

    def __post_init__(self):
        self.choice = self.grey

    def decide_colour(self, grey_flags: list[bool | None]) -> bool:
        """Store grey or colour, from the choice and whether each image used is grey (None: not looked at)."""
        self.images_used = len(grey_flags)
        known = [flag for flag in grey_flags if flag is not None]
        self.grey_images = sum(known) if len(known) == len(grey_flags) else None
        if self.choice is None:
            self.grey = bool(grey_flags) and self.grey_images == len(grey_flags)
        return bool(self.grey)

    @property
    def colour_note(self) -> str:
        """Which colours were kept and why, in plain words ("" before any image was read)."""
        used, grey = self.images_used, self.grey_images
        if not used:
            return ""
        if self.choice is True:
            return "Imported as grey, as chosen."
        if self.choice is False:
            if grey == used:
                return (
                    f"Imported in colour, as chosen, though all {used:,} images are grey: grey would keep a "
                    "third of the numbers and train faster."
                )
            return "Imported in colour, as chosen."
        if self.grey:
            return f"All {used:,} images are grey: imported as grey."
        colour = used - (grey or 0)
        if colour == used:
            return f"All {used:,} images are in colour: imported in colour."
        return f"{colour:,} of {used:,} images are in colour: all were imported in colour."

    @property
    def train_images(self) -> int:
        return sum(c.train for c in self.classes)

    @property
    def test_images(self) -> int:
        return sum(c.test for c in self.classes)

    @property
    def image_format(self) -> str:
        return f"{self.size}×{self.size} {'grey' if self.grey else 'colour'}"

    @property
    def warnings(self) -> list[str]:
        """Things that work but deserve the user's attention."""
        found = []
        if self.classes:
            largest = max(self.classes, key=lambda c: c.train)
            smallest = min(self.classes, key=lambda c: c.train)
            if largest.train > IMBALANCE_FACTOR * smallest.train:
                found.append(
                    f"The classes are unbalanced: class {largest.name!r} has {largest.train} training images, "
                    f"class {smallest.name!r} only {smallest.train}. The network may favour the larger class; "
                    "check the per-class accuracy on Results, or add images to the smaller class."
                )
            if smallest.train < 10:
                found.append(
                    f"Class {smallest.name!r} has only {smallest.train} training image(s): a network learns "
                    "little from so few; aim for dozens per class."
                )
        if self.left_out_classes:
            found.append(
                f"{len(self.left_out_classes)} class folder(s) were left out: "
                + "; ".join(f"{c.path!r} ({c.reason})" for c in self.left_out_classes)
                + "."
            )
        return found

    def reasons(self) -> dict[str, int]:
        """How many files were skipped for each reason (without the reason's details)."""
        return dict(Counter(s.reason.split(" (")[0] for s in self.skipped))

    def text(self) -> str:
        lines = [f"Refused: {self.refused}"] if self.refused else []
        if self.classes:
            lines.append(
                f"Images: {self.image_format}; {RESIZE_NOTE}. {round(100 * TEST_SHARE)} % of each "
                f"class is held out for testing. {self.colour_note}"
            )
            width = max(len("Total"), *(len(c.name) for c in self.classes))
            lines.append(f"{'Class':<{width}}  training  test")
            lines += [f"{c.name:<{width}}  {c.train:>8}  {c.test:>4}" for c in self.classes]
            lines.append(f"{'Total':<{width}}  {self.train_images:>8}  {self.test_images:>4}")
        lines += [f"Warning: {w}" for w in self.warnings]
        if self.skipped:
            lines.append(f"Skipped {len(self.skipped)} file(s):")
            lines += [f"  {s.path}: {s.reason}" for s in self.skipped]
        if self.ignored:
            lines.append(f"Ignored {len(self.ignored)} macOS, hidden or system file(s) (not images of a class).")
        lines.append(f"Limits: {self.limits.text()}")
        return "\n".join(lines)

    def details(self) -> dict:
        """A summary kept with the data set: counts and reasons, never the archive's file names."""
        return {
            "size": self.size,
            "grey": self.grey,
            "colour_choice": next(word for word, grey in COLOUR_CHOICES.items() if grey is self.choice),
            "colour_note": self.colour_note,
            "resize": RESIZE_NOTE,
            "test_share": TEST_SHARE,
            "classes": [{"name": c.name, "train": c.train, "test": c.test} for c in self.classes],
            "skipped": len(self.skipped),
            "skipped_reasons": self.reasons(),
            "ignored": len(self.ignored),
            "left_out_classes": [{"name": c.path, "reason": c.reason} for c in self.left_out_classes],
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class ImportedImages:
    arrays: dict[str, np.ndarray]  # x_train, y_train, x_test, y_test
    class_names: tuple[str, ...]
    report: HealthReport


# --- names in the archive ------------------------------------------------------------------------


def printable(name: str, limit: int = 120) -> str:
    """An archive name safe to print or show: control characters replaced, length limited."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in name)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _parts(name: str) -> tuple[str, ...]:
    return tuple(p for p in name.replace("\\", "/").split("/") if p not in ("", "."))


def unsafe_member_reason(info: zipfile.ZipInfo) -> str | None:
    """Why a member must never be read (its name or type: links, absolute paths, '..'), or None."""
    if stat.S_ISLNK(info.external_attr >> 16):
        return "a symbolic link (links are never followed)"
    name = info.filename.replace("\\", "/")
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return "an absolute path (files must sit inside the archive's folders)"
    if ".." in name.split("/"):
        return "a path that climbs out of the archive ('..')"
    return None


def _is_ignored(parts: tuple[str, ...]) -> bool:
    """macOS resource forks (__MACOSX), hidden files and folders (.name), file-manager files (Thumbs.db)."""
    return any(p == "__MACOSX" or p.startswith(".") for p in parts) or parts[-1].lower() in SYSTEM_FILES


def _wrapper(file_parts: list[tuple[str, ...]], folder_parts: list[tuple[str, ...]]) -> int:
    """1 when all class folders sit inside one common top folder (e.g. photos/cat/..., photos/dog/...)."""
    tops = {p[0] for p in file_parts + folder_parts}
    deeper = any(len(p) > 2 for p in file_parts) or any(len(p) > 1 for p in folder_parts)
    return 1 if len(tops) == 1 and deeper else 0


# --- the archive ---------------------------------------------------------------------------------


def _open(source, limits: ImportLimits, report: HealthReport) -> zipfile.ZipFile:
    if isinstance(source, (bytes, bytearray, memoryview)):
        size, handle = len(source), io.BytesIO(bytes(source))
    else:
        path = Path(source)
        if not path.is_file():
            raise ArchiveRefused(f"The file {printable(str(path))} does not exist.", report)
        size, handle = path.stat().st_size, path
    if size > limits.max_archive_mb * MB:
        raise ArchiveRefused(
            f"The zip file is {size / MB:.1f} MB; at most {limits.max_archive_mb} MB are allowed. "
            "Use fewer or smaller images.",
            report,
        )
    try:
        return zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise ArchiveRefused(
            "This file is not a zip archive (or it is damaged). Put one folder per class in a "
            "folder and compress it as .zip.",
            report,
        ) from None


def archive_problem(infos: list[zipfile.ZipInfo], limits: ImportLimits) -> str | None:
    """Why an archive must be refused before any member is read — too many entries, or unpacking to far
    more than it weighs (zip bombs) — or None. Every zip the app reads (image folders, a file of work, a
    model inside one) is judged by this rule."""
    if len(infos) > limits.max_files:
        return f"The archive holds {len(infos):,} entries; at most {limits.max_files:,} are allowed."
    files = [i for i in infos if not i.is_dir()]
    total = sum(i.file_size for i in files)
    if total > limits.max_total_mb * MB:
        return (
            f"The archive says it unpacks to {total / MB:,.0f} MB; at most {limits.max_total_mb:,} "
            "MB are allowed (this protects the server from 'zip bombs')."
        )
    for info in files:
        name = printable(info.filename)
        if info.file_size > limits.max_file_mb * MB:
            return (
                f"{name} says it unpacks to {info.file_size / MB:,.0f} MB; at most "
                f"{limits.max_file_mb} MB per file are allowed."
            )
        if info.file_size > RATIO_CHECK_BYTES and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            return (
                f"{name} is packed {info.file_size / max(info.compress_size, 1):,.0f} times smaller "
                f"than it unpacks (at most {limits.max_ratio}:1 is allowed): it looks like a "
                "'zip bomb', so the archive is refused."
            )
    return None


def _check_archive(infos: list[zipfile.ZipInfo], limits: ImportLimits, report: HealthReport) -> None:
    problem = archive_problem(infos, limits)
    if problem:
        raise ArchiveRefused(problem, report)


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The member's bytes, never more than it declared; MemberRefused when it is encrypted or damaged."""
    if info.flag_bits & 0x1:
        raise MemberRefused("password-protected (encrypted files cannot be read)")
    try:
        with archive.open(info) as handle:
            data = handle.read(info.file_size + 1)  # never more than it declared, plus one byte to catch a lie
    except NotImplementedError:
        raise MemberRefused("packed with a compression method this app cannot read (use ordinary zip)") from None
    except Exception:  # zipfile raises BadZipFile, zlib.error, EOFError, RuntimeError... for damaged members
        raise MemberRefused("damaged inside the archive (it cannot be unpacked)") from None
    if len(data) != info.file_size:
        raise MemberRefused("damaged inside the archive (its size is not what the archive says)")
    return data


# --- one image -----------------------------------------------------------------------------------


def _decode(data: bytes, size: int, grey: bool | None, max_pixels: int) -> tuple[np.ndarray, bool | None]:
    """The image as size×size×C uint8, decoded (core.data.pixels, as Predict decodes) only after its
    header's pixel count was checked, and whether it is grey (None when it was made grey unseen).

    With ``grey=None`` a grey image keeps one channel and a colour one three (images_from_files gives the grey
    ones three equal channels when another image is in colour)."""
    try:
        decoded = decode_image(data, max_pixels=max_pixels, reduce_to=size)
    except BadImage as error:
        raise MemberRefused(error.reason) from None
    image = decoded.image
    if grey or (grey is None and image.mode == "L"):
        return image_array(image, size, True), True if image.mode == "L" else None
    array = image_array(image, size, False)
    is_grey = is_grey_pixels(array)
    return (array[..., :1].copy() if grey is None and is_grey else array), is_grey


def is_grey_pixels(array: np.ndarray) -> bool:
    """An H×W×C image is grey: one channel, or its colour channels equal everywhere (an RGB file of a grey
    picture). Resizing treats each channel alike, so equal channels stay equal and one is all of them."""
    return array.shape[-1] == 1 or bool((array[..., 1:] == array[..., :1]).all())


def preview(data: bytes, size: int, max_pixels: int) -> np.ndarray:
    """The image file as the import would see it, size×size in colour (a thumbnail); ImageImportError when it
    would be skipped as no readable image (the reason as in the health report)."""
    try:
        return _decode(data, size, False, max_pixels)[0]
    except MemberRefused as skip:
        raise ImageImportError(str(skip)) from None


def image_array(image: Image.Image, size: int, grey: bool) -> np.ndarray:
    """size×size×C uint8 of a decoded image: grey or RGB, cropped to a centred square and resized."""
    square = ImageOps.fit(with_channels(image, 1 if grey else 3), (size, size), method=Image.Resampling.LANCZOS)
    return image_uint8(square)


# --- the whole import ----------------------------------------------------------------------------


def read_image_folders(
    source,
    *,
    size: int = DEFAULT_SIZE,
    grey: bool | None = None,
    limits: ImportLimits | None = None,
    test_share: float = TEST_SHARE,
    seed: int = 0,
) -> ImportedImages:
    """Read a zip (bytes or a path) of one folder per class; raises ArchiveRefused with the report."""
    limits = limits or ImportLimits()
    _check_size(size)
    report = HealthReport(size, grey, limits)
    with _open(source, limits, report) as archive:
        infos = archive.infolist()
        _check_archive(infos, limits, report)
        files = _files_by_class(archive, infos, report)
        return images_from_files(
            files, size=size, grey=grey, limits=limits, test_share=test_share, seed=seed, report=report
        )


def not_an_image(file_name: str) -> str | None:
    """Why a file is not taken as an image from its name alone (its extension), or None."""
    extension = PurePosixPath(file_name).suffix.lower()
    if extension in IMAGE_EXTENSIONS:
        return None
    return f"not an image ({extension or 'no extension'}; use {FORMATS_TEXT})"


def _check_size(size: int) -> None:
    if size not in SIZES:
        raise ImageImportError(f"Choose an image size of {', '.join(map(str, SIZES))} pixels.")


def images_from_files(
    files_by_class: Mapping[str, Iterable[tuple[str, ImageBytes]]],
    *,
    size: int = DEFAULT_SIZE,
    grey: bool | None = None,
    limits: ImportLimits | None = None,
    test_share: float = TEST_SHARE,
    seed: int = 0,
    report: HealthReport | None = None,
) -> ImportedImages:
    """The data set made of each class's files: decoded, checked, resized and split, with the health report.

    Both ways in end here: a zip's class folders (``read_image_folders``) and the pictures a learner took or
    uploaded per class (``core.data.recording``). Raises ArchiveRefused (with the report) when fewer than two
    classes have enough usable images.

    Args:
        files_by_class: class name (as it will be shown) -> its files as (file name, bytes), in order. The
            bytes may be a function that reads them (the zip's members are read only when they are used);
            it raises MemberRefused when they cannot be read.
        report: the report to add to (the zip's, which already lists the members it skipped).
    """
    limits = limits or ImportLimits()
    _check_size(size)
    report = report if report is not None else HealthReport(size, grey, limits)
    by_class: dict[str, list[np.ndarray]] = {}
    greys: dict[str, list[bool | None]] = {}
    for label, files in files_by_class.items():
        images, flags = by_class.setdefault(label, []), greys.setdefault(label, [])
        for file_name, data in files:
            try:
                if reason := not_an_image(file_name):
                    raise MemberRefused(reason)
                if len(images) >= limits.max_per_class:
                    raise MemberRefused(f"its class already has {limits.max_per_class:,} images (the limit per class)")
                image, is_grey = _decode(data() if callable(data) else data, size, grey, limits.max_pixels)
                images.append(image)
                flags.append(is_grey)
            except MemberRefused as skip:
                report.skipped.append(SkippedFile(printable(file_name), str(skip)))
    kept = [label for label, images in by_class.items() if len(images) >= MIN_PER_CLASS]  # as _split keeps
    if not report.decide_colour([flag for label in kept for flag in greys[label]]) and grey is None:
        by_class = {  # another image is in colour: the grey ones in three equal channels, as a colour import has them
            label: [np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image for image in images]
            for label, images in by_class.items()
        }
    return _split(by_class, test_share, seed, report)


def _candidates(infos, report: HealthReport) -> tuple[list[tuple[zipfile.ZipInfo, tuple[str, ...]]], list]:
    """Members that may be images of a class (with their path parts), and the folders seen."""
    files, folders = [], []
    for info in sorted(infos, key=lambda i: i.filename):
        parts = _parts(info.filename)
        if not parts:
            continue
        unsafe = unsafe_member_reason(info)
        if unsafe:
            report.skipped.append(SkippedFile(printable(info.filename), unsafe))
        elif _is_ignored(parts):
            report.ignored.append(SkippedFile(printable(info.filename), "macOS, hidden or system file"))
            if len(parts) > 1 and not _is_ignored(parts[:-1]):
                folders.append(parts[:-1])  # a class folder holding only a hidden file is still a (empty) class
        elif info.is_dir():
            folders.append(parts)
        else:
            files.append((info, parts))
    return files, folders


def _files_by_class(archive, infos, report: HealthReport) -> dict[str, list[tuple[str, ImageBytes]]]:
    """Class name -> its members (archive name, reader), in archive order; members outside a class folder
    are in the report with the reason. A member is read only if it is used (see images_from_files)."""
    files, folders = _candidates(infos, report)
    strip = _wrapper([p for _, p in files], folders)
    # A class is its folder's whole name: long names that differ late stay two classes (shortened only on show).
    by_class: dict[str, list] = {class_name(p[strip]): [] for p in folders if len(p) > strip}
    for info, parts in files:
        parts = parts[strip:]
        if len(parts) < 2:
            report.skipped.append(
                SkippedFile(
                    printable(info.filename), "not inside a class folder (put each image in the folder of its class)"
                )
            )
            continue
        by_class.setdefault(class_name(parts[0]), []).append((info.filename, partial(read_member, archive, info)))
    return by_class


def _split(by_class: dict[str, list[np.ndarray]], test_share: float, seed: int, report: HealthReport) -> ImportedImages:
    """A stratified, seeded split: about test_share of each class (at least one image) held out for testing."""
    usable = {}
    for name, images in sorted(by_class.items()):
        if len(images) >= MIN_PER_CLASS:
            usable[name] = images
        else:
            report.left_out_classes.append(
                SkippedFile(name, "no usable images" if not images else "only 1 usable image; a class needs at least 2")
            )
    if not usable:
        raise ArchiveRefused(
            "No usable images were found. Put one folder per class in the zip, each with PNG or JPEG images.", report
        )
    if len(usable) < 2:
        raise ArchiveRefused(
            f"Only one class ({next(iter(usable))}) has images: a network needs at least two "
            "classes to tell apart. Add a folder for each class.",
            report,
        )
    rng = np.random.default_rng(seed)
    parts = {"x_train": [], "y_train": [], "x_test": [], "y_test": []}
    for label, (name, images) in enumerate(usable.items()):
        order = rng.permutation(len(images))
        n_test = min(len(images) - 1, max(1, round(len(images) * test_share)))
        for part, chosen in (("test", order[:n_test]), ("train", order[n_test:])):
            parts[f"x_{part}"] += [images[i] for i in chosen]
            parts[f"y_{part}"] += [label] * len(chosen)
        report.classes.append(ClassCount(name, len(images) - n_test, n_test))
    arrays = {}
    for part in ("train", "test"):
        # Shuffled: Keras takes the validation split from the end of the training data.
        mix = rng.permutation(len(parts[f"y_{part}"]))
        arrays[f"x_{part}"] = np.stack(parts[f"x_{part}"])[mix]
        arrays[f"y_{part}"] = np.asarray(parts[f"y_{part}"], dtype=np.int64)[mix]
    return ImportedImages(arrays, tuple(usable), report)


def check_title(title: str, taken: list[str]) -> str:
    """The data set's name, stripped; ImageImportError when it is empty, too long or already used."""
    title = clean_name(title, None)  # cut nothing: a name too long is refused below
    if not title:
        raise ImageImportError("Give the data set a name (for example 'My toys').")
    if len(title) > MAX_TITLE:
        raise ImageImportError(f"The name is too long: at most {MAX_TITLE} characters.")
    if title.casefold() in {t.casefold() for t in [*taken, *(d.title for d in DATASETS.values())]}:
        raise ImageImportError(f"There is already a data set called {title!r}: choose another name.")
    return title


def import_image_folders(
    source,
    *,
    title: str,
    owner: str,
    store,
    size: int = DEFAULT_SIZE,
    grey: bool | None = None,
    limits: ImportLimits | None = None,
) -> tuple[str, HealthReport]:
    """Read the archive and save it in ``store`` (core.data.user_datasets.UserDatasetStore) as ``owner``'s.

    Returns the new data set's name (own-...) and the health report.
    """
    title = check_title(title, [m["title"] for m in store.list(owner)])
    imported = read_image_folders(source, size=size, grey=grey, limits=limits)
    return _save(imported, title=title, owner=owner, store=store, source=ZIP_SOURCE)


def import_image_files(
    files_by_class: Mapping[str, Iterable[tuple[str, ImageBytes]]],
    *,
    title: str,
    owner: str,
    store,
    size: int = DEFAULT_SIZE,
    grey: bool | None = None,
    limits: ImportLimits | None = None,
    source: str = FILES_SOURCE,
) -> tuple[str, HealthReport]:
    """Make a data set of each class's image files (see images_from_files) and save it as ``owner``'s."""
    title = check_title(title, [m["title"] for m in store.list(owner)])
    imported = images_from_files(files_by_class, size=size, grey=grey, limits=limits)
    return _save(imported, title=title, owner=owner, store=store, source=source)


def _save(imported: ImportedImages, *, title: str, owner: str, store, source: str) -> tuple[str, HealthReport]:
    name = store.save(
        owner=owner,
        title=title,
        arrays=imported.arrays,
        class_names=imported.class_names,
        details={"source": source, **imported.report.details()},
    )
    return name, imported.report
