"""The door: whatever a user hands in — a spec file, a share link's payload, training settings — is checked
here for size, nesting, types, allowed keys and ranges before anything else uses it.

Every check is bounded by the size of its input (no recursion over user data, no unbounded parsing) and
ends either in a value the rest of the engine can trust or in :class:`InvalidInput`, whose message says
what is wrong in plain words. The rules themselves live beside what they describe (the layer registry in
``core.model.spec``, the settings' ranges in ``core.training.hyperparams``); this module applies them.
"""

from __future__ import annotations

import json
from dataclasses import fields

from core.messages import quote
from core.model.spec import input_shape_problems, layer_problems, structure_problems
from core.training.hyperparams import Hyperparameters

MAX_JSON_BYTES = 256_000  # a spec with the most layers, every setting written out, is ~15 KB
MAX_JSON_DEPTH = 8  # a spec nests 4 deep ({"layers": [{"kernel_size": [3, 3]}]}); a share link 5


class InvalidInput(ValueError):
    """The input cannot be used; the message says why in plain words."""


def json_depth(text: str, stop_at: int = MAX_JSON_DEPTH + 1) -> int:
    """How deep the brackets of a JSON text nest (outside strings), scanning once and stopping at ``stop_at``.

    Run before ``json.loads``, whose recursion a text of nested ``[`` would otherwise exhaust.
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest >= stop_at:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def load_json(
    data: str | bytes, *, what: str, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH
) -> object:
    """Parse a user's JSON after checking its size and nesting; InvalidInput names ``what`` and the limit."""
    if len(data) > max_bytes:
        raise InvalidInput(
            f"The {what} is {len(data):,} bytes, more than the {max_bytes:,} a model description can need."
        )
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(f"The {what} is not text (UTF-8), so it cannot be JSON.") from None
    if json_depth(data, max_depth + 1) > max_depth:
        raise InvalidInput(
            f"The {what} nests brackets more than {max_depth} deep; a model description never needs that many."
        )
    try:
        return json.loads(data, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"The {what} is not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})."
        ) from None
    except (ValueError, RecursionError) as error:  # e.g. a number of more than 4,300 digits
        raise InvalidInput(f"The {what} cannot be read as JSON ({quote(str(error), 80)}).") from None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def spec_problems(spec: object) -> list[str]:
    """Everything wrong with a spec that can be seen without its data set: structure, input shape, layers.

    Shapes that do not fit a data set, the output layer and the budgets are checked later, with the data.
    """
    problems = structure_problems(spec)
    if not problems:
        problems = input_shape_problems(spec.get("input_shape"))
        for index, layer in enumerate(spec["layers"]):
            problems += layer_problems(index, layer)
    return [p.text() for p in problems]


def check_spec(spec: object, what: str = "model description") -> dict:
    """``spec`` when its structure and every layer's settings are valid; else InvalidInput listing why."""
    problems = spec_problems(spec)
    if problems:
        raise InvalidInput(f"The {what} cannot be used: " + " ".join(problems[:5]))
    return spec


def _scalar(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def check_hyperparameters(data: object, what: str = "training settings") -> Hyperparameters:
    """Training settings from a plain dict: only known keys, single values, each in its range."""
    if isinstance(data, Hyperparameters):
        data = data.to_dict()
    names = [f.name for f in fields(Hyperparameters)]
    if not isinstance(data, dict):
        raise InvalidInput(f"The {what} are not in the expected form (a set of named values).")
    unknown = [key for key in data if key not in names]
    if unknown:
        raise InvalidInput(f"The {what} have unknown entries ({', '.join(quote(k, 30) for k in unknown[:3])}).")
    odd = [key for key, value in data.items() if not _scalar(value)]
    if odd:
        raise InvalidInput(f"The {what} hold something other than a single value for {', '.join(odd[:3])}.")
    hp = Hyperparameters.from_dict(data)
    problems = hp.problems()
    if problems:
        raise InvalidInput(f"The {what} cannot be used: " + " ".join(problems))
    return hp


def check_name(value: object, known, what: str) -> str:
    """``value`` when it is one of the ``known`` names (a data set, a preset…); else InvalidInput."""
    if not isinstance(value, str) or value not in known:
        raise InvalidInput(
            f"The {what} {quote(value, 40)} is not one this app knows; choose one of {', '.join(known)}."
        )
    return value
