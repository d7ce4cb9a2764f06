"""The session's UI state: one serialisable object (data set, preset, spec, hyperparameters).

Pages read and change it only through these functions. The run the session follows and the
anonymous user id live in the URL, so a browser refresh finds them again.
"""
from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass, field

import streamlit as st

from core.datasets import DATASETS, DatasetUnavailable, load_dataset
from core.hyperparams import Hyperparameters
from core.presets import DEFAULT_PRESET, PRESETS
from core.runs import RunManager, default_manager
from core.share import PARAM as SHARE_PARAM, ShareLinkError, decode as decode_share
from core.spec import analyze, new_layer

STATE_KEY = "playground"
USER_PARAM = "u"
USER_COOKIE = "cnn_playground_user"
RUN_PARAM = "run"
_TOKEN = re.compile(r"^[0-9a-f]{12,32}$")


@dataclass
class Playground:
    dataset: str
    preset: str
    spec: dict
    hyperparameters: Hyperparameters
    builder_version: int = 0  # bumped on structural edits so layer widgets are rebuilt from the spec
    run_id: str | None = None
    notices: list[str] = field(default_factory=list)
    parent_id: str | None = None  # the run this model was cloned from: the next Train records it

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "preset": self.preset, "spec": self.spec,
                "hyperparameters": self.hyperparameters.to_dict()}


@st.cache_resource
def manager() -> RunManager:
    """The process's run manager, shared by every session (each sees only its own runs)."""
    return default_manager()


def available_dataset(preferred: str = "fashion_mnist") -> str:
    try:
        load_dataset(preferred)
        return preferred
    except DatasetUnavailable:
        return "shapes"


def fit_spec_to_data(spec: dict, dataset: str) -> dict:
    """The spec with its input shape and output units set for the data set."""
    data = load_dataset(dataset)
    spec = copy.deepcopy(spec)
    spec["input_shape"] = list(data.input_shape)
    layers = spec.get("layers") or []
    if layers and layers[-1].get("type") == "Dense":
        layers[-1]["units"] = data.num_classes
    return spec


def playground() -> Playground:
    if STATE_KEY not in st.session_state:
        dataset = available_dataset()
        preset = PRESETS[DEFAULT_PRESET]
        st.session_state[STATE_KEY] = Playground(dataset, preset.name, fit_spec_to_data(preset.spec(), dataset),
                                                 preset.app_hyperparameters)
        _open_share_link(st.session_state[STATE_KEY])
    return st.session_state[STATE_KEY]


def _open_share_link(state: Playground) -> None:
    """A new session opened from a share link (?s=...) starts with the shared model in the builder."""
    token = st.query_params.get(SHARE_PARAM)
    if token is None:
        return
    del st.query_params[SHARE_PARAM]  # consumed: the URL no longer claims to describe the edited model
    try:
        shared = decode_share(token)
    except ShareLinkError as error:
        state.notices.append(f"{error} The default model is loaded instead.")
        return
    dataset, spec = shared["dataset"], shared["spec"]
    if available_dataset(dataset) != dataset:
        notice = (f"The shared model was made for {dataset_title(dataset)}, which is not available here: "
                  f"it is loaded for {dataset_title('shapes')} instead.")
        dataset = "shapes"
    else:
        notice = "The shared model and its training settings are loaded: train it, or change it first."
    state.dataset, state.preset = dataset, shared["preset"]
    state.hyperparameters = Hyperparameters.from_dict(shared["hyperparameters"])
    _structural_edit(state, fit_spec_to_data(spec, dataset))  # a no-op for links the app made
    state.notices.append(notice)


def take_notices() -> list[str]:
    """Messages for the user from a session's start (e.g. about a share link), each shown once."""
    state = playground()
    notices, state.notices = state.notices, []
    return notices


def user_id() -> str:
    """An anonymous id for this browser: from its cookie (new tabs), else the URL (refreshes), else new.

    The cookie wins over the URL, so a link carrying someone else's id does not open their runs.
    """
    uid = st.session_state.get("_user_id")
    if not uid:
        candidates = (_user_cookie(), st.query_params.get(USER_PARAM, ""))
        uid = next((c for c in candidates if _TOKEN.match(c)), None) or secrets.token_hex(8)
        st.session_state["_user_id"] = uid
    if st.query_params.get(USER_PARAM) != uid:
        st.query_params[USER_PARAM] = uid
    return uid


def _user_cookie() -> str:
    value = st.context.cookies.get(USER_COOKIE, "")
    return value if isinstance(value, str) else ""  # (AppTest has no browser, hence no cookies)


def remember_user_in_browser() -> None:
    """Store the id in a cookie (one year) so a new tab of this browser finds its runs too."""
    uid = user_id()
    if _user_cookie() != uid:
        st.html(f"<script>document.cookie = '{USER_COOKIE}={uid}; path=/; max-age=31536000; "
                "SameSite=Strict';</script>", unsafe_allow_javascript=True)


# --- edits ---------------------------------------------------------------------------------------

def _structural_edit(state: Playground, spec: dict) -> None:
    state.spec = spec
    state.builder_version += 1


def load_preset(name: str) -> None:
    state = playground()
    preset = PRESETS[name]
    state.preset = name
    state.parent_id = None  # a fresh start, not a change to a run
    state.hyperparameters = preset.app_hyperparameters
    _structural_edit(state, fit_spec_to_data(preset.spec(), state.dataset))


def set_dataset(name: str) -> None:
    state = playground()
    state.dataset = name
    _structural_edit(state, fit_spec_to_data(state.spec, name))


def set_layer_arg(index: int, arg: str, value) -> None:
    layer = playground().spec["layers"][index]
    if value is None and arg in layer:
        del layer[arg]  # None means "Keras' default" (e.g. pooling strides = pool size)
    elif value is not None:
        layer[arg] = value


def insert_layer(position: int, kind: str) -> None:
    state = playground()
    spec = copy.deepcopy(state.spec)
    spec["layers"].insert(position, new_layer(kind))
    _structural_edit(state, spec)


def remove_layer(index: int) -> None:
    state = playground()
    spec = copy.deepcopy(state.spec)
    del spec["layers"][index]
    _structural_edit(state, spec)


def move_layer(index: int, offset: int) -> None:
    state = playground()
    spec = copy.deepcopy(state.spec)
    layers = spec["layers"]
    target = index + offset
    if 0 <= target < len(layers):
        layers[index], layers[target] = layers[target], layers[index]
        _structural_edit(state, spec)


def duplicate_layer(index: int) -> None:
    state = playground()
    spec = copy.deepcopy(state.spec)
    spec["layers"].insert(index + 1, copy.deepcopy(spec["layers"][index]))
    _structural_edit(state, spec)


def set_hyperparameters(**changes) -> None:
    state = playground()
    state.hyperparameters = Hyperparameters.from_dict({**state.hyperparameters.to_dict(), **changes})


def analysis():
    """Shapes, params and problems of the current spec against the current data set."""
    state = playground()
    data = load_dataset(state.dataset)
    return analyze(state.spec, data.input_shape, data.num_classes, param_budget=manager().param_budget)


# --- the run this session follows ----------------------------------------------------------------

def follow_run(run_id: str | None) -> None:
    playground().run_id = run_id
    if run_id:
        st.query_params[RUN_PARAM] = run_id
    elif RUN_PARAM in st.query_params:
        del st.query_params[RUN_PARAM]


def followed_run():
    """The run this session follows: from session state, else from the URL (after a refresh).

    Only the user's own runs are returned.
    """
    state = playground()
    run_id = state.run_id or st.query_params.get(RUN_PARAM)
    if not run_id:
        return None
    run = manager().get(run_id)
    if run is None or run.owner != user_id():
        return None
    state.run_id = run_id
    if st.query_params.get(RUN_PARAM) != run_id:
        st.query_params[RUN_PARAM] = run_id  # page switches clear the URL: keep the run findable on refresh
    return run


def own_runs():
    return manager().list(owner=user_id())


def dataset_title(name: str) -> str:
    return DATASETS[name].title if name in DATASETS else name


def clone_run(run) -> None:
    """Change one thing: the run's model, data set and settings (same seed) go into the builder.

    The next run trained from it records this run as its parent, so Compare pairs the two.
    """
    state = playground()
    state.dataset = run.dataset
    state.hyperparameters = run.hyperparameters
    state.parent_id = run.id
    _structural_edit(state, copy.deepcopy(run.spec))
    st.switch_page("views/build.py")
