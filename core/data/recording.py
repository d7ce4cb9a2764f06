"""A data set recorded by the learner: classes they name, each with pictures taken with the camera or uploaded.

Until the learner builds the data set, the pictures are kept as their files' bytes in a ``Recording`` (the
app keeps it in the browser session: never on disk, never shown to anyone else). Building goes through the
zip import's own pipeline (``image_import.import_image_files``): the same decoding, image sizes, colour
choice, split per class and health report, and the same saving and ownership.

The limits are the zip import's (``ImportLimits``): pictures per class, pictures in all (an archive's files),
megabytes per file, and together at most as much as one zip upload; and at most ``MAX_CLASSES`` classes.
They are checked as each picture is added, so nothing is kept beyond them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.data.image_import import (
    FILES_SOURCE,
    MB,
    MIN_PER_CLASS,
    HealthReport,
    ImageImportError,
    ImportLimits,
    SkippedFile,
    import_image_files,
    not_an_image,
    preview,
    printable,
)
from core.text import clean_name

MAX_CLASSES = 20  # more is hard to take pictures of in one lesson (and to read on a tablet)
CLASS_NAME_CHARS = 40  # what a learner types on a tablet; longer names are refused, not cut
PREVIEW_PX = 64  # the thumbnails shown while recording


class RecordingError(ImageImportError):
    """A class or picture cannot be added, or the recording cannot be built yet; the message says why."""


def limits_text(limits: ImportLimits) -> str:
    return (
        f"At most {MAX_CLASSES} classes, {limits.max_per_class:,} pictures per class and {limits.max_files:,} "
        f"in all; each file at most {limits.max_file_mb} MB and {limits.max_pixels / 1e6:g} megapixels, all "
        f"together at most {limits.max_archive_mb} MB."
    )


@dataclass(frozen=True)
class Picture:
    file_name: str  # the uploaded file's name, or "picture N.jpg" for the camera's
    data: bytes
    preview: np.ndarray  # PREVIEW_PX square, colour: the file's bytes are never shown as they came


def class_name(typed: str) -> str:
    """A class name as typed: cleaned as every name is (core.text.clean_name), at most 40 characters."""
    name = " ".join((typed or "").split())
    if not name:
        raise RecordingError("Type a name for the class (for example 'cup').")
    if len(name) > CLASS_NAME_CHARS:
        raise RecordingError(f"The class name is too long: at most {CLASS_NAME_CHARS} characters.")
    return clean_name(name, CLASS_NAME_CHARS)  # the rule every name that enters the engine follows


@dataclass
class Recording:
    """Class name -> its pictures, in the order added."""

    classes: dict[str, list[Picture]] = field(default_factory=dict)

    # --- reading -------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {name: len(pictures) for name, pictures in self.classes.items()}

    @property
    def pictures(self) -> int:
        return sum(self.counts().values())

    @property
    def megabytes(self) -> float:
        return sum(len(p.data) for pictures in self.classes.values() for p in pictures) / MB

    def needs_more(self, name: str) -> int:
        """How many more pictures the class needs before it can be built (0 when it has enough)."""
        return max(0, MIN_PER_CLASS - len(self.classes.get(name, ())))

    def problems(self) -> list[str]:
        """Why the data set cannot be built yet (empty when it can)."""
        found = []
        if len(self.classes) < 2:
            found.append("Add at least two classes: a network learns to tell classes apart.")
        short = [name for name in self.classes if self.needs_more(name)]
        if short:
            found.append(
                f"Each class needs at least {MIN_PER_CLASS} pictures (one to train on, one to test); "
                f"{len(short)} class(es) have fewer: add pictures to them or remove them."
            )
        return found

    # --- changing ------------------------------------------------------------------------------------

    def add_class(self, typed: str) -> str:
        """Add an empty class; returns its name as it will be shown. RecordingError says why not."""
        name = class_name(typed)
        if name.casefold() in {n.casefold() for n in self.classes}:
            raise RecordingError("There is already a class with this name: choose another.")
        if len(self.classes) >= MAX_CLASSES:
            raise RecordingError(f"At most {MAX_CLASSES} classes can be recorded.")
        self.classes[name] = []
        return name

    def remove_class(self, name: str) -> None:
        self.classes.pop(name, None)

    def add_picture(self, name: str, file_name: str, data: bytes, limits: ImportLimits) -> None:
        """Add one picture (bytes of an image file) to the class; RecordingError says why it is refused.

        Decoded once here with the import's decoder, so a file that is no readable image is refused now (and
        the thumbnail is the square the network will see)."""
        if name not in self.classes:
            raise RecordingError("This class no longer exists: add it again.")
        if reason := not_an_image(file_name):
            raise RecordingError(f"This picture cannot be used: {reason}.")
        pictures = self.classes[name]
        if len(pictures) >= limits.max_per_class:
            raise RecordingError(f"This class already has {limits.max_per_class:,} pictures (the limit per class).")
        if self.pictures >= limits.max_files:
            raise RecordingError(f"You already have {limits.max_files:,} pictures (the limit for a data set).")
        if len(data) > limits.max_file_mb * MB:
            raise RecordingError(
                f"This picture is {len(data) / MB:.1f} MB; at most {limits.max_file_mb} MB per picture are allowed."
            )
        if self.megabytes + len(data) / MB > limits.max_archive_mb:
            raise RecordingError(
                f"Your pictures would take more than {limits.max_archive_mb} MB together (as much as one zip "
                "upload): build the data set now, or use smaller photos."
            )
        try:
            thumbnail = preview(data, PREVIEW_PX, limits.max_pixels)
        except ImageImportError as error:
            raise RecordingError(f"This picture cannot be used: {error}.") from None
        pictures.append(Picture(file_name, bytes(data), thumbnail))

    def add_files(self, name: str, files, limits: ImportLimits) -> list[SkippedFile]:
        """Add several uploaded files, as (file name, bytes); returns those refused, each with the reason."""
        refused = []
        for file_name, data in files:
            try:
                self.add_picture(name, file_name, data, limits)
            except RecordingError as error:
                refused.append(SkippedFile(printable(file_name), str(error)))
        return refused

    def remove_last(self, name: str) -> None:
        if self.classes.get(name):
            self.classes[name].pop()

    def clear(self, name: str) -> None:
        if name in self.classes:
            self.classes[name] = []

    # --- building ------------------------------------------------------------------------------------

    def files_by_class(self) -> dict[str, list[tuple[str, bytes]]]:
        """What the zip import's pipeline reads: class name -> (class/file name, bytes), in the order taken."""
        return {name: [(f"{name}/{p.file_name}", p.data) for p in pictures] for name, pictures in self.classes.items()}

    def build(
        self, *, title: str, owner: str, store, size: int, grey: bool, limits: ImportLimits
    ) -> tuple[str, HealthReport]:
        """Save the pictures as ``owner``'s data set; returns its name and health report.

        The pictures stay in the recording, so the learner can add more and build again (or try another size).
        Raises RecordingError before any decoding when the recording is not ready, and ImageImportError
        (ArchiveRefused, with the report) as the zip import does.
        """
        problems = self.problems()
        if problems:
            raise RecordingError(" ".join(problems))
        return import_image_files(
            self.files_by_class(),
            title=title,
            owner=owner,
            store=store,
            size=size,
            grey=grey,
            limits=limits,
            source=FILES_SOURCE,
        )
