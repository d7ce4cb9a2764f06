"""Data sets users import (image folders from a zip, CSV tables): stored under the run store's home.

Each is one ``.npz`` of arrays plus a ``.json`` description, written atomically, so it survives a
restart. A data set belongs to the anonymous user who imported it: pages list only the user's own,
and the RunManager refuses to train anyone else's.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from pathlib import Path

import numpy as np

from core.data.dataset import CLASSIFICATION, USER_PREFIX, Dataset, DatasetUnavailable, forget_dataset
from core.paths import default_home
from core.text import CLASS_NAME_CHARS, DATASET_TITLE_CHARS, clean_name, unique_names

_ID = re.compile(rf"^{USER_PREFIX}[0-9a-f]{{12}}$")
ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def is_user_dataset(name: str) -> bool:
    return bool(_ID.match(name or ""))


class UserDatasetStore:
    def __init__(self, home: Path | str | None = None):
        self.dir = Path(home if home is not None else default_home()) / "datasets"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError:  # a read-only (or full) home: nothing imported to list; an import says why it fails
            pass

    def _paths(self, dataset_id: str) -> tuple[Path, Path]:
        if not is_user_dataset(dataset_id):
            raise DatasetUnavailable(f"{dataset_id!r} is not the name of an imported data set.")
        return self.dir / f"{dataset_id}.npz", self.dir / f"{dataset_id}.json"

    def save(
        self,
        *,
        owner: str,
        title: str,
        arrays: dict[str, np.ndarray],
        task: str = CLASSIFICATION,
        class_names=(),
        feature_names=(),
        target_name: str = "",
        details: dict | None = None,
    ) -> str:
        """Store a new data set and return its name (``own-...``).

        The title and class names are cleaned here (core.text.clean_name), whoever imports: a folder or
        a column named with control or invisible characters is stored as it shows.
        """
        dataset_id = USER_PREFIX + secrets.token_hex(6)
        data_path, meta_path = self._paths(dataset_id)
        meta = {
            "id": dataset_id,
            "owner": owner,
            "title": clean_name(title, DATASET_TITLE_CHARS) or "Untitled data set",
            "task": task,
            "created": time.time(),
            "class_names": list(unique_names(class_names, CLASS_NAME_CHARS)),
            "feature_names": list(feature_names),
            "target_name": target_name,
            "details": details or {},
            "train_size": int(len(arrays["x_train"])),
            "test_size": int(len(arrays["x_test"])),
        }
        tmp = data_path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **{k: arrays[k] for k in ARRAYS})
        os.replace(tmp, data_path)
        tmp_meta = meta_path.with_suffix(".tmp")
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, meta_path)  # the description last: a data set is listed only when complete
        return dataset_id

    def meta(self, dataset_id: str) -> dict | None:
        try:
            _, meta_path = self._paths(dataset_id)
            return json.loads(meta_path.read_text())
        except (DatasetUnavailable, OSError, ValueError):
            return None

    def list(self, owner: str) -> list[dict]:
        metas = [self.meta(p.stem) for p in self.dir.glob(f"{USER_PREFIX}*.json")]
        return sorted((m for m in metas if m and m.get("owner") == owner), key=lambda m: -m["created"])

    def load(self, dataset_id: str) -> Dataset:
        meta = self.meta(dataset_id)
        data_path, _ = self._paths(dataset_id)
        if meta is None or not data_path.exists():
            raise DatasetUnavailable(
                "This imported data set no longer exists (it may have been deleted): "
                "import it again or choose another data set."
            )
        try:
            with np.load(data_path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in ARRAYS}
        except (OSError, KeyError, ValueError) as err:
            raise DatasetUnavailable(
                f"The imported data set {meta['title']!r} cannot be read ({err}); import it again."
            ) from err
        return Dataset(
            dataset_id,
            meta["title"],
            tuple(meta["class_names"]),
            arrays["x_train"],
            arrays["y_train"],
            arrays["x_test"],
            arrays["y_test"],
            "imported by you",
            task=meta["task"],
            feature_names=tuple(meta["feature_names"]),
            target_name=meta["target_name"],
            owner=meta["owner"],
        )

    def delete(self, dataset_id: str, owner: str) -> bool:
        meta = self.meta(dataset_id)
        if meta is None or meta.get("owner") != owner:
            return False
        for path in self._paths(dataset_id):
            path.unlink(missing_ok=True)
        forget_dataset(dataset_id)
        return True
