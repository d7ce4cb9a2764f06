"""The command line on malformed and hostile files: exit 2 with a plain message; exported code is inert.

Runs `core.cli.main` in this process (validate and export never import TensorFlow); the store and
every file live in the test's own folder.
"""

import ast
import json

import pytest

from core.cli import main
from core.training.codegen import training_script
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS
from core.training.validation import InvalidInput

MALFORMED = {
    "a list": [],
    "an empty object": {},
    "a layer that is a number": {"layers": [1]},
    "a layer type that is a list": {"input_shape": [28, 28, 1], "layers": [{"type": ["Dense"]}]},
    "kernel size [3]": {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Conv2D", "filters": 4, "kernel_size": [3]},
            {"type": "Flatten"},
            {"type": "Dense", "units": 4},
        ],
    },
    "60,000 nested brackets": "[" * 60_000,
    "not JSON": "{layers: nope",
    "NaN": '{"input_shape": [28, 28, 1], "layers": [{"type": "Dropout", "rate": NaN}]}',
    "binary": b"\x89PNG\r\n\x1a\n\x00\x00",
}


@pytest.fixture
def spec_file(tmp_path):
    def write(content, name="spec.json"):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path

    return write


def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    return code, out, err


@pytest.mark.parametrize("command", ["validate", "summary", "export", "train"])
@pytest.mark.parametrize("name", list(MALFORMED))
def test_a_malformed_spec_file_exits_2_with_a_plain_message(command, name, spec_file, capsys, tmp_path):
    extra = {"export": ["--dataset", "shapes"], "train": ["--dataset", "shapes", "--out", tmp_path / "r.json"]}
    code, out, err = run_cli(capsys, command, "--spec", spec_file(MALFORMED[name]), *extra.get(command, []))
    assert code == 2, (out, err)
    if command == "summary" and not err:  # the table, with each problem under it
        assert "\nProblem: Layer 1: " in out
    else:
        assert err.startswith(("Error: ", "The model has")) and len(err) < 3_000, err
    assert not (tmp_path / "r.json").exists()


def test_an_oversized_spec_file_is_refused_before_reading(spec_file, capsys):
    code, _, err = run_cli(capsys, "validate", "--spec", spec_file(" " * 300_000))
    assert code == 2 and "larger than the 256,000 bytes" in err


HOSTILE_NAMES = ['My """ model', "C:\\Users\\ada\\model", "x\n'''\nimport os; os.system('echo hi')\n#", "\x00\u202e"]


def calls_in(script: str) -> set[str]:
    """Every function a script calls by name (the generated code's own calls, nothing injected)."""
    names = set()
    for node in ast.walk(ast.parse(script)):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.id if isinstance(func, ast.Name) else getattr(func, "attr", "?"))
    return names


@pytest.mark.parametrize("title", HOSTILE_NAMES)
def test_a_hostile_file_or_run_name_becomes_a_string_literal(title, spec_file, capsys, tmp_path):
    spec = PRESETS["model1"].spec(num_classes=5)
    script = training_script(spec, "shapes", PRESETS["model1"].app_hyperparameters, title)
    tree = ast.parse(script)  # valid Python whatever the name
    titles = [n.value.value for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "TITLE"]
    assert titles == [title]
    assert not {"system", "__import__", "exec", "eval"} & calls_in(script)
    # Through the CLI, the file's name is the title.
    out_path = tmp_path / "out.py"
    path = spec_file(spec, name='evil""" name.json')
    code, _, _ = run_cli(capsys, "export", "--spec", path, "--dataset", "shapes", "--out", out_path)
    assert code == 0
    assert ast.parse(out_path.read_text()) and 'TITLE = \'evil""" name\'' in out_path.read_text()


HOSTILE_SPECS = {
    "argument name as code": {"type": "Dense", "units": 5, "x=__import__('os').system('echo hi'),y": 1},
    "layer type as code": {"type": "Dense(5)]); __import__('os').system('echo hi'); ([keras.layers.Dense"},
    "setting value as code": {"type": "Dense", "units": 5, "activation": "relu'); __import__('os').system('x"},
}


@pytest.mark.parametrize("name", list(HOSTILE_SPECS))
def test_a_hostile_spec_is_refused_by_export(name, spec_file, capsys, tmp_path):
    spec = {"input_shape": [28, 28, 1], "layers": [{"type": "Flatten"}, HOSTILE_SPECS[name]]}
    with pytest.raises(InvalidInput):
        training_script(spec, "shapes", Hyperparameters(), "t")
    out_path = tmp_path / "out.py"
    code, _, err = run_cli(capsys, "export", "--spec", spec_file(spec), "--dataset", "shapes", "--out", out_path)
    assert code == 2 and "cannot be exported until it is valid" in err
    assert not out_path.exists()


def test_export_refuses_a_model_that_does_not_fit_its_data(spec_file, capsys):
    spec = PRESETS["model1"].spec(num_classes=10)  # shapes has 5 classes
    code, _, err = run_cli(capsys, "export", "--spec", spec_file(spec), "--dataset", "shapes")
    assert code == 2 and "the output layer has 10 units but the data set has 5 classes" in err
