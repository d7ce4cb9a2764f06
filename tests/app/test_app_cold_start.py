"""A cold server's first pages: Build and Data are served before TensorFlow is imported, and a page that needs
it waits.

In a fresh Python (this test process has TensorFlow loaded by other tests), as `streamlit run` would start:
the first page is Build, with its parameter total, while TensorFlow, Keras and the trainer are not imported
(their import waits in the background: dashboard/runtime.py); Data shows its samples, still without them;
then Train, which needs them, finds them imported before it runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import APP

FIRST_SESSION = f"""
import json, os, sys
from dashboard import runtime
runtime.QUIET_SECONDS = 600  # the background import waits until a page needs it
from streamlit.testing.v1 import AppTest

heavy = lambda: sorted(name for name in runtime.HEAVY_MODULES if name in sys.modules)
at = AppTest.from_file({APP!r}, default_timeout=300).run()
build = {{
    "error": str(at.exception or ""),
    "title": [t.value for t in at.title],
    "total": [m.value for m in at.markdown if m.value.startswith("**Total params:")],
    "imported": heavy(),
}}
at.switch_page("views/data.py")
at.run()
data = {{
    "error": str(at.exception or ""),
    "title": [t.value for t in at.title],
    "samples": sum(len(i.proto.imgs) == 8 for i in at.get("image")),
    "imported": heavy(),
}}
at.switch_page("views/train.py")
at.run()
train = {{"error": str(at.exception or ""), "title": [t.value for t in at.title], "imported": heavy()}}
print(json.dumps({{"build": build, "data": data, "train": train}}), flush=True)
os._exit(0)  # what was to be seen is printed: an interpreter's own exit with TensorFlow loaded takes seconds
"""


def test_build_is_served_before_tensorflow_is_imported_and_train_waits_for_it(tmp_path):
    env = dict(os.environ, CNN_PLAYGROUND_HOME=str(tmp_path / "home"), PYTHONPATH=str(Path(APP).parents[1]))
    done = subprocess.run(
        [sys.executable, "-c", FIRST_SESSION], env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    pages = json.loads(done.stdout.strip().splitlines()[-1])
    build, data, train = pages["build"], pages["data"], pages["train"]
    assert build["error"] == "" and build["title"] == ["Build your network"]
    assert build["total"] and build["total"][0].startswith("**Total params:")
    assert build["imported"] == []  # none of TensorFlow, Keras and the trainer for the first page
    assert data["error"] == "" and data["title"] == ["Look at the data"]
    assert data["samples"] == 10 and data["imported"] == []  # the data set's images, still without them
    assert train["error"] == "" and train["title"] == ["Train"]
    assert train["imported"] == ["core.runs.trainer", "keras", "tensorflow"]
