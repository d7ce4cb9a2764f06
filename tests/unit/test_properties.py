"""Property-based tests (Hypothesis): whatever a user hands in, each door answers with a result or its
own plain error, never another exception, and within a deadline per input."""

import base64
import io
import json
import zlib

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.data.own_image import BadImage, open_image, preprocess_image
from core.data.tabular import TableError, describe, prepare, read_csv, target_candidates
from core.model.spec import LAYER_TYPES, Analysis, analyze
from core.share import ShareLinkError, decode
from core.training.hyperparams import Hyperparameters
from core.training.validation import InvalidInput, check_hyperparameters, check_spec, load_json

DOOR = settings(max_examples=150, deadline=3_000, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from([0, 1, 2, 3, 28, 4096, 10**6, -1, "relu", "same", "valid", "softmax", True])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)

ARG_NAMES = sorted({arg.name for t in LAYER_TYPES.values() for arg in t.args})
layers = st.dictionaries(
    st.sampled_from([*ARG_NAMES, "x=__import__('os')", "type"]) | st.text(max_size=8),
    scalars | st.lists(scalars, max_size=3) | json_values,
    max_size=6,
).map(lambda d: d) | st.fixed_dictionaries(
    {"type": st.sampled_from([*LAYER_TYPES, "Conv3D", ["Dense"], 3])},
    optional={name: scalars | st.lists(st.integers(-2, 20), max_size=3) for name in ARG_NAMES},
)
specs = (
    st.fixed_dictionaries(
        {
            "input_shape": st.lists(st.integers(-1, 64), max_size=4) | json_values,
            "layers": st.lists(layers, max_size=6) | json_values,
        },
        optional={"extra": json_values},
    )
    | json_values
)


@DOOR
@given(specs, st.integers(-5, 5000) | st.none())
def test_analyze_answers_any_spec_with_problems_never_an_exception(spec, batch_size):
    analysis = analyze(spec, (28, 28, 1), 10, batch_size=batch_size, memory_budget_mb=1_000)
    assert isinstance(analysis, Analysis)
    for problem in analysis.problems:
        assert problem.text().endswith(".") and " — " in problem.text() and len(problem.text()) < 1_000
    if analysis.ok:
        assert analysis.memory is None or analysis.memory.total_bytes > 0


@DOOR
@given(specs)
def test_the_spec_validator_returns_the_spec_or_its_own_error(spec):
    try:
        assert check_spec(spec) is spec
    except InvalidInput as error:
        assert str(error).startswith("The model description cannot be used: ")


@DOOR
@given(st.text(max_size=300) | st.binary(max_size=300).map(lambda b: base64.urlsafe_b64encode(b).decode()))
def test_the_share_link_decoder_answers_any_token(token):
    try:
        model = decode(token)
    except ShareLinkError as error:
        assert str(error)[0].isupper()
    else:
        assert set(model) == {"dataset", "preset", "spec", "hyperparameters"}


@DOOR
@given(
    st.fixed_dictionaries(
        {
            "v": st.just(1) | json_values,
            "dataset": st.sampled_from(["shapes", "mnist"]) | json_values,
            "preset": st.sampled_from(["model1", "blank"]) | json_values,
            "spec": specs,
            "hyperparameters": st.dictionaries(
                st.sampled_from(["epochs", "seed", "learning_rate", "optimizer", "batch_size", "gpu"]), scalars
            )
            | json_values,
        }
    )
    | json_values
)
def test_the_share_link_decoder_answers_any_payload(payload):
    token = base64.urlsafe_b64encode(zlib.compress(json.dumps(payload).encode(), 9)).decode()
    try:
        decode(token)
    except ShareLinkError as error:
        assert str(error)[0].isupper()


@DOOR
@given(st.dictionaries(st.sampled_from(list(Hyperparameters.__dataclass_fields__)), scalars) | json_values)
def test_training_settings_are_checked_whatever_their_values(data):
    try:
        hp = check_hyperparameters(data)
    except InvalidInput as error:
        assert str(error).startswith("The training settings ")
    else:
        assert hp.problems() == []
    if isinstance(data, dict) and all(isinstance(v, (type(None), bool, int, float, str)) for v in data.values()):
        assert all(isinstance(p, str) for p in Hyperparameters.from_dict(data).problems())


@DOOR
@given(st.text(max_size=400) | st.binary(max_size=400))
def test_load_json_answers_any_text(text):
    try:
        load_json(text, what="file")
    except InvalidInput as error:
        assert str(error).startswith("The file ")


csv_text = st.text(alphabet=st.sampled_from(list(',;\t|"\n\r 0123456789.-aéx=NaN')), max_size=2_000)


@DOOR
@given(csv_text.map(str.encode) | st.binary(max_size=2_000))
def test_the_csv_reader_answers_any_bytes(data):
    try:
        frame, notes = read_csv(data)
        columns = describe(frame)
        prepare(frame, target_candidates(frame, columns)[-1])
    except TableError as error:
        assert str(error)[0].isupper()


@DOOR
@given(st.binary(max_size=2_000))
def test_open_image_answers_any_bytes(data):
    try:
        open_image(data)
    except BadImage as error:
        assert str(error).startswith("This ")


@DOOR
@given(
    st.integers(1, 900),
    st.integers(1, 900),
    st.sampled_from(["L", "RGB", "RGBA", "P", "1", "LA", "I", "F"]),
    st.sampled_from([(28, 28, 1), (32, 32, 3), (8, 12, 1)]),
    st.booleans(),
    st.sampled_from(["auto", True, False]),
)
def test_preprocessing_answers_any_image_size_and_mode(width, height, mode, shape, centre, invert):
    image = Image.new(mode, (width, height))
    if width > 4 and height > 4:
        image.paste(Image.new(mode, (width // 3 + 1, height // 3 + 1), 200 if mode != "RGB" else (9, 200, 9)), (2, 2))
    buffer = io.BytesIO()
    image.save(buffer, "TIFF" if mode in ("I", "F") else "PNG")
    try:
        prepared = preprocess_image(open_image(buffer.getvalue()), shape, invert=invert, centre=centre)
    except BadImage as error:
        assert "times as long as it is wide" in str(error)
        assert max(width, height) > 20 * min(width, height)
    else:
        assert prepared.array.shape == shape and prepared.array.dtype == np.float32
        assert np.isfinite(prepared.array).all() and 0 <= prepared.array.min() <= prepared.array.max() <= 1
