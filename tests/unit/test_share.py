"""Share links: every model the builder can hold survives the URL exactly; bad links give plain messages."""

import base64
import json
import zlib
from urllib.parse import parse_qs, urlparse

import pytest

from core.data.datasets import DATASETS
from core.share import MAX_TOKEN_CHARS, PARAM, ShareLinkError, decode, encode, share_url
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

DATA = {"fashion_mnist": ((28, 28, 1), 10), "mnist": ((28, 28, 1), 10), "shapes": ((28, 28, 1), 5)}


def model(preset="model1", dataset="shapes", hp=None, spec=None):
    shape, classes = DATA[dataset]
    return {
        "dataset": dataset,
        "preset": preset,
        "spec": spec or PRESETS[preset].spec(shape, classes),
        "hyperparameters": (hp or PRESETS[preset].app_hyperparameters).to_dict(),
    }


def pack(payload) -> str:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    return base64.urlsafe_b64encode(zlib.compress(text.encode())).decode().rstrip("=")


def test_the_registry_is_covered():
    assert set(DATA) == set(DATASETS)


@pytest.mark.parametrize("dataset", list(DATA))
@pytest.mark.parametrize("preset", list(PRESETS))
def test_every_preset_on_every_data_set_round_trips_exactly(preset, dataset):
    original = model(preset, dataset)
    token = encode(original)
    restored = decode(token)
    assert restored == original
    assert json.dumps(restored) == json.dumps(original)  # the same key order too: the JSON view reads the same
    assert len(token) < 600 and set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_an_edited_model_with_every_kind_of_setting_round_trips():
    spec = PRESETS["modern"].spec(num_classes=5)
    spec["layers"][0].update(kernel_size=[3, 5], strides=[1, 2], use_bias=False, activation="gelu")
    spec["layers"].insert(2, {"type": "AveragePooling2D", "pool_size": 2, "strides": None, "padding": "same"})
    spec["layers"].insert(-1, {"type": "Dense", "units": 64, "activation": "tanh", "use_bias": True})
    hp = Hyperparameters(
        optimizer="rmsprop",
        learning_rate=0.0005,
        epochs=12,
        batch_size=128,
        validation_split=0.25,
        seed=7,
        limit_train=3000,
        limit_test=None,
    )
    original = model("blank", "shapes", hp, spec)
    assert decode(encode(original)) == original


def test_default_learning_rate_stays_the_optimizers_default():
    original = model(hp=Hyperparameters(optimizer="sgd", learning_rate=None))
    assert decode(encode(original))["hyperparameters"]["learning_rate"] is None


def test_share_url_is_absolute_when_the_app_address_is_known():
    original = model()
    url = share_url("http://localhost:8501/", original)
    parsed = urlparse(url)
    assert (parsed.scheme, parsed.netloc, parsed.path) == ("http", "localhost:8501", "/")
    assert decode(parse_qs(parsed.query)[PARAM][0]) == original
    assert share_url("http://host/app?u=abc#x", original).startswith("http://host/app?s=")
    assert share_url("http://host:8501", original).startswith("http://host:8501/?s=")
    assert share_url(None, original) == f"?s={encode(original)}"


def test_whitespace_around_a_pasted_token_is_ignored():
    assert decode(f"  {encode(model())}\n") == model()


def tampered(change) -> str:
    payload = {"v": 1, **model()}
    change(payload)
    return pack(payload)


BAD_LINKS = {
    "empty": ("", "empty"),
    "not base64": ("%%%not-a-link%%%", "damaged"),
    "base64 but not compressed": (base64.urlsafe_b64encode(b"hello world").decode(), "damaged"),
    "cut off": (encode(model())[:-12], "damaged|cut off"),
    "compressed but not JSON": (pack("{not json"), "damaged"),
    "JSON but not an object": (pack("[1, 2, 3]"), "not a CNN Playground share link"),
    "another version": (tampered(lambda p: p.update(v=2)), "newer version"),
    "a key missing": (tampered(lambda p: p.pop("spec")), "incomplete"),
    "unknown data set": (tampered(lambda p: p.update(dataset="cifar100")), "data set .* not one this app knows"),
    "unknown preset": (tampered(lambda p: p.update(preset="resnet")), "preset .* not one this app knows"),
    "spec not an object": (tampered(lambda p: p.update(spec=[1])), "not a JSON object"),
    "bad input shape": (tampered(lambda p: p["spec"].update(input_shape="28x28")), "input shape"),
    "no layers": (tampered(lambda p: p["spec"].update(layers=[])), "no layers"),
    "unknown layer": (tampered(lambda p: p["spec"]["layers"].append({"type": "Conv3D"})), "unknown layer type"),
    "negative filters": (tampered(lambda p: p["spec"]["layers"][0].update(filters=-3)), "at least 1"),
    "huge filters": (tampered(lambda p: p["spec"]["layers"][0].update(filters=10**9)), "at most 1,024"),
    "unknown setting": (tampered(lambda p: p["spec"]["layers"][0].update(dilation=2)), "no setting 'dilation'"),
    "nested value": (tampered(lambda p: p["spec"]["layers"][0].update(filters={"a": 1})), "a single value"),
    "extra hyperparameter": (tampered(lambda p: p["hyperparameters"].update(gpu=True)), "training settings"),
    "zero epochs": (tampered(lambda p: p["hyperparameters"].update(epochs=0)), "Epochs must be"),
    "tiny learning rate": (
        tampered(lambda p: p["hyperparameters"].update(learning_rate=5e-6)),
        "outside what the app allows",
    ),
    "huge validation split": (
        tampered(lambda p: p["hyperparameters"].update(validation_split=0.8)),
        "validation split",
    ),
}


@pytest.mark.parametrize("name", list(BAD_LINKS))
def test_a_bad_link_gives_a_plain_message(name):
    token, expected = BAD_LINKS[name]
    with pytest.raises(ShareLinkError, match=expected) as caught:
        decode(token)
    assert "Traceback" not in str(caught.value) and str(caught.value)[0].isupper()


def test_a_link_that_inflates_to_a_huge_payload_is_refused():
    bomb = base64.urlsafe_b64encode(zlib.compress(b" " * 5_000_000, 9)).decode()
    assert len(bomb) < MAX_TOKEN_CHARS
    with pytest.raises(ShareLinkError, match="far more than a model"):
        decode(bomb)


def test_an_overlong_link_is_refused_before_decoding():
    with pytest.raises(ShareLinkError, match="too long"):
        decode("A" * (MAX_TOKEN_CHARS + 1))
