"""The door: hostile specs, share links and training settings get plain messages, never a crash."""

import base64
import json
import zlib

import pytest

from core.model.spec import analyze
from core.share import ShareLinkError, decode, encode
from core.training.hyperparams import Hyperparameters
from core.training.validation import InvalidInput, check_hyperparameters, check_spec, json_depth, load_json

OUTPUT = {"type": "Dense", "units": 10, "activation": "softmax"}


def good_spec() -> dict:
    return {
        "input_shape": [28, 28, 1],
        "layers": [{"type": "Conv2D", "filters": 8, "kernel_size": 3}, {"type": "Flatten"}, dict(OUTPUT)],
    }


def pack(payload) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def link(**changes) -> str:
    payload = {
        "v": 1,
        "dataset": "shapes",
        "preset": "model1",
        "spec": good_spec(),
        "hyperparameters": Hyperparameters().to_dict(),
    }
    payload.update(changes)
    return pack(payload)


def plain(message: str) -> None:
    assert message[0].isupper() and "Traceback" not in message and len(message) < 2_000, message


# --- share links -------------------------------------------------------------------------------


def test_a_link_of_60000_nested_brackets_gets_a_plain_message():
    token = pack("[" * 60_000)
    assert len(token) < 200  # it compresses to a short link
    with pytest.raises(ShareLinkError, match="nests brackets more than") as caught:
        decode(token)
    plain(str(caught.value))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"dataset": ["shapes"]}, "data set .* not one this app knows"),
        ({"preset": {"name": "model1"}}, "preset .* not one this app knows"),
        ({"spec": {**good_spec(), "layers": [{"type": ["Dense"]}]}}, "layer type must be a name"),
        ({"spec": {**good_spec(), "extra": 1}}, "unknown part 'extra'"),
        (
            {"spec": {"input_shape": [28, 28, 1], "layers": [{"type": "Conv2D", "filters": 8, "kernel_size": [3]}]}},
            "pair of two",
        ),
        ({"hyperparameters": {"seed": 2**40}}, "seed must be a whole number from 0 to 2,147,483,647"),
        ({"hyperparameters": {"learning_rate": True}}, "learning rate must be a number"),
        ({"hyperparameters": [1, 2]}, "not in the expected form"),
    ],
)
def test_a_link_with_the_wrong_types_gets_a_plain_message(changes, expected):
    with pytest.raises(ShareLinkError, match=expected) as caught:
        decode(link(**changes))
    plain(str(caught.value))


def test_a_link_made_by_the_app_still_opens():
    model = {
        "dataset": "shapes",
        "preset": "model1",
        "spec": good_spec(),
        "hyperparameters": Hyperparameters().to_dict(),
    }
    assert decode(encode(model)) == model


# --- specs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ([], "not a JSON object"),
        ({}, "no layers"),
        ({"layers": [1]}, "this layer has no type"),
        ({"input_shape": [28, 28, 1], "layers": [{"type": ["Dense"]}]}, "layer type must be a name"),
        ({"input_shape": [28, 28, 1], "layers": [{"type": "Dense", "units": {"a": 1}}]}, "a single value"),
        ({"input_shape": [28, 28, 1], "layers": [{"type": "Dense", "units": 10**5000}]}, "more than 38 digits"),
        ({"input_shape": [10**6, 1, 1], "layers": [OUTPUT]}, "input shape"),
        ({"input_shape": [28, 28, 1], "layers": [OUTPUT] * 101}, "more than the limit of 100"),
    ],
)
def test_a_malformed_spec_gets_plain_problems_from_analyze_and_the_door(spec, expected):
    problems = [p.text() for p in analyze(spec, (28, 28, 1), 10, batch_size=64, memory_budget_mb=100).problems]
    assert any(expected in text for text in problems), problems
    with pytest.raises(InvalidInput, match=expected) as caught:
        check_spec(spec)
    plain(str(caught.value))


def test_kernel_size_of_one_number_in_a_list_is_a_problem_not_an_index_error():
    spec = good_spec()
    spec["layers"][0]["kernel_size"] = [3]
    analysis = analyze(spec, (28, 28, 1), 10, batch_size=64)
    assert [p.text() for p in analysis.problems] == [
        "Layer 1: kernel size must be a whole number or a pair of two whole numbers (got [3]) — "
        "set kernel size to a value like 3."
    ]


# --- training settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"seed": 2**40}, "The seed must be a whole number from 0 to 2,147,483,647 (got 1099511627776)."),
        ({"learning_rate": True}, "The learning rate must be a number above 0 and at most 10 (got True)."),
        ({"learning_rate": float("nan")}, "The learning rate must be a number"),
        ({"optimizer": 7}, "Unknown optimizer 7"),
        ({"validation_split": False}, "The validation split must be"),
        ({"limit_test": 10**30}, "Limit test must be a whole number from 1 to 10,000,000"),
    ],
)
def test_hyperparameters_refuse_values_no_run_can_use(changes, expected):
    problems = Hyperparameters(**changes).problems()
    assert any(p.startswith(expected) for p in problems), problems
    with pytest.raises(InvalidInput, match="cannot be used"):
        check_hyperparameters({**Hyperparameters().to_dict(), **changes})


def test_unknown_or_nested_training_settings_are_refused():
    with pytest.raises(InvalidInput, match="unknown entries"):
        check_hyperparameters({"gpu": True})
    with pytest.raises(InvalidInput, match="single value for epochs"):
        check_hyperparameters({"epochs": [5]})


# --- bounded JSON ------------------------------------------------------------------------------


def test_json_depth_is_counted_outside_strings_and_stops_early():
    assert json_depth('{"a": "[[[[[[", "b": [[1]]}') == 3
    assert json_depth("[" * 1_000_000, stop_at=9) == 9  # stops at the limit: bounded by the limit, not the text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[" * 60_000, "nests brackets more than 8 deep"),
        ("x" * 300_000, "more than the 256,000"),
        ('{"a": NaN}', "cannot be read as JSON"),
        ("{", "not valid JSON"),
        ("1" * 5_000, "cannot be read as JSON"),
        (b"\xff\xfe", "not text"),
    ],
)
def test_load_json_checks_size_and_depth_before_parsing(text, expected):
    with pytest.raises(InvalidInput, match=expected) as caught:
        load_json(text, what="spec file")
    plain(str(caught.value))
