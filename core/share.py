"""Share links: the builder's model (data set, preset, spec, hyperparameters) packed into one URL parameter.

The payload is compact JSON, zlib-compressed and URL-safe base64 encoded. Reading a link checks
everything a tampered or cut-off link could get wrong and says so plainly (ShareLinkError), so a bad
link can never break the page that opens it.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from urllib.parse import urlsplit

from core.data.datasets import DATASETS
from core.training.hyperparams import HYPERPARAMETER_FIELDS, Hyperparameters
from core.training.presets import PRESETS
from core.training.validation import InvalidInput, check_hyperparameters, check_name, check_spec, load_json

PARAM = "s"
VERSION = 1
MAX_TOKEN_CHARS = 8_000  # browsers and servers cope with URLs far longer; a real model needs ~300
MAX_JSON_BYTES = 64_000  # decompressed: stops a tiny link from expanding into a huge payload

# What the Train page trains (Hyperparameters.problems(in_app=True), from HYPERPARAMETER_FIELDS): a link
# may only carry settings the app itself can produce.
LINK_LIMITS = {f.name: f.app_range for f in HYPERPARAMETER_FIELDS if f.kind is not str and None not in f.app_range}


class ShareLinkError(ValueError):
    """The link cannot be opened; the message says why in plain words."""


def encode(model: dict) -> str:
    """The token for a model dict {"dataset", "preset", "spec", "hyperparameters"} (as Playground.to_dict())."""
    payload = {"v": VERSION, **{key: model[key] for key in ("dataset", "preset", "spec", "hyperparameters")}}
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def share_url(base_url: str | None, model: dict) -> str:
    """An absolute link when the app's address is known, else a relative one (``?s=...``)."""
    base = (base_url or "").split("?", 1)[0].split("#", 1)[0]
    if base and not urlsplit(base).path:
        base += "/"  # http://host:8501 -> http://host:8501/?s=...
    return f"{base}?{PARAM}={encode(model)}"


def _unpack(token: str) -> object:
    if not isinstance(token, str) or not token.strip():
        raise ShareLinkError("The share link is empty.")
    token = token.strip()
    if len(token) > MAX_TOKEN_CHARS:
        raise ShareLinkError("The share link is too long to be one made by CNN Playground.")
    try:
        packed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        inflater = zlib.decompressobj()
        text = inflater.decompress(packed, MAX_JSON_BYTES)
        if inflater.unconsumed_tail:
            raise ShareLinkError("The share link holds far more than a model description.")
        if not inflater.eof:
            raise ShareLinkError("The share link is cut off: copy the whole link again.")
    except ShareLinkError:
        raise
    except (binascii.Error, ValueError, zlib.error):
        raise ShareLinkError(
            "The share link is damaged (it may be cut off or mistyped): copy the whole link again."
        ) from None
    try:
        return load_json(text, what="share link's content", max_bytes=MAX_JSON_BYTES)
    except InvalidInput as error:
        raise ShareLinkError(f"The share link is damaged: {str(error)[0].lower()}{str(error)[1:]}") from None


def _check_hyperparameters(data) -> Hyperparameters:
    try:
        hp = check_hyperparameters(data, "link's training settings")
    except InvalidInput as error:
        raise ShareLinkError(str(error)) from None
    for name, (low, high) in LINK_LIMITS.items():
        value = getattr(hp, name)
        outside = value is not None and ((low is not None and value < low) or (high is not None and value > high))
        if outside:
            raise ShareLinkError(
                f"The link's {name.replace('_', ' ')} ({value}) is outside what the app allows ({low:g} to {high:g})."
            )
    return hp


def decode(token: str) -> dict:
    """The model dict a token carries, checked; raises ShareLinkError with a plain message otherwise."""
    payload = _unpack(token)
    if not isinstance(payload, dict) or payload.get("v") != VERSION:
        raise ShareLinkError("This is not a CNN Playground share link, or one from a newer version.")
    if set(payload) != {"v", "dataset", "preset", "spec", "hyperparameters"}:
        raise ShareLinkError("The share link is incomplete: copy the whole link again.")
    try:
        check_name(payload["dataset"], DATASETS, "link's data set")
        check_name(payload["preset"], PRESETS, "link's preset")
        check_spec(payload["spec"], "link's model")
    except InvalidInput as error:
        raise ShareLinkError(str(error)) from None
    _check_hyperparameters(payload["hyperparameters"])
    return {key: payload[key] for key in ("dataset", "preset", "spec", "hyperparameters")}
