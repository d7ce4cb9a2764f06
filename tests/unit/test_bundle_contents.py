"""The bundle's download button names every file the bundle can hold (core.export.BUNDLE_FILES)."""

import io
import zipfile

from helpers import finished_run

from core.export import BUNDLE_FILES, build_bundle, bundle_contents
from core.model.tflite import KINDS
from core.runs.store import RunStore


def test_the_bundles_files_are_the_ones_its_button_names(tmp_path):
    store = RunStore(tmp_path / "store")
    run = finished_run()
    run.results["class_names"] = ["circle", "square"]  # its two-class confusion matrix
    store.save(run)
    store.model_path(run.id).write_bytes(b"a stand-in for the model")
    bundle = build_bundle(run, store, with_phone_model=False)  # no TensorFlow: the .tflite files are left out
    names = {name.split("/", 1)[1] for name in zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()}
    phone = {f"model_{kind}.tflite" for kind in KINDS}
    assert names | phone == set(BUNDLE_FILES) and not names & phone
    assert len(BUNDLE_FILES) == 10 and all(name in bundle_contents() for name in BUNDLE_FILES)
