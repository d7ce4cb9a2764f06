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

from core.classroom import Challenge, ChallengeStore
from core.data.datasets import DATASETS, DatasetUnavailable, load_dataset
from core.data.user_datasets import UserDatasetStore, is_user_dataset
from core.model.presets import ALL_PRESETS, DEFAULT_PRESET, PRESETS, default_preset_for
from core.model.spec import analyze_for, new_layer
from core.runs.manager import RunManager, default_manager
from core.share import PARAM as SHARE_PARAM
from core.share import ShareLinkError
from core.share import decode as decode_share
from core.training.hyperparams import Hyperparameters

STATE_KEY = "playground"
USER_PARAM = "u"
USER_COOKIE = "cnn_playground_user"
RUN_PARAM = "run"
CHALLENGE_PARAM = "challenge"
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
    challenge: str | None = None  # the classroom challenge this session joined (?challenge=CODE)

    def to_dict(self) -> dict:
        return {
            "dataset": self.dataset,
            "preset": self.preset,
            "spec": self.spec,
            "hyperparameters": self.hyperparameters.to_dict(),
        }


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
        layers[-1]["units"] = data.output_units
    return spec


def playground() -> Playground:
    if STATE_KEY not in st.session_state:
        dataset = available_dataset()
        preset = PRESETS[DEFAULT_PRESET]
        st.session_state[STATE_KEY] = Playground(
            dataset, preset.name, fit_spec_to_data(preset.spec(), dataset), preset.app_hyperparameters
        )
        state = st.session_state[STATE_KEY]
        if not _open_share_link(state):
            _reopen_followed_run(state)
        _join_challenge(state)
    return st.session_state[STATE_KEY]


def _reopen_followed_run(state: Playground) -> None:
    """After a browser refresh (a new session), the builder shows the model of the run in the URL."""
    run_id = st.query_params.get(RUN_PARAM)
    run = manager().get(run_id, user_id()) if run_id else None
    if run is None or available_dataset(run.dataset) != run.dataset:
        return
    state.dataset, state.spec, state.hyperparameters = run.dataset, run.spec, run.hyperparameters
    state.run_id = run.id


def keep_challenge_in_url() -> None:
    """Page switches clear the URL; the challenge code stays in it so a refresh keeps the session in it."""
    code = playground().challenge
    if code and st.query_params.get(CHALLENGE_PARAM) != code:
        st.query_params[CHALLENGE_PARAM] = code


def learner_name() -> str:
    return st.session_state.get("learner_name", "").strip()[:40]


def challenges() -> ChallengeStore:
    return ChallengeStore(manager().store)


def active_challenge() -> Challenge | None:
    """The session's challenge, read from the store once: its rules never change after creation (a reset
    only moves the leaderboard's start, which the leaderboard reads afresh), and every control asks."""
    code = playground().challenge
    if not code:
        return None
    cached = st.session_state.get("_challenge")
    if cached is None or cached.code != code:
        cached = st.session_state["_challenge"] = challenges().get(code)
    return cached


def _join_challenge(state: Playground) -> None:
    """A session opened from a teacher's link (?challenge=CODE) starts with the challenge's set-up."""
    code = st.query_params.get(CHALLENGE_PARAM)
    if not code:
        return
    challenge = challenges().get(code)
    if challenge is None:
        state.notices.append(
            "This classroom challenge link is not valid (it may have been mistyped or "
            "removed): you are in the free playground instead."
        )
        del st.query_params[CHALLENGE_PARAM]
        return
    if available_dataset(challenge.dataset) != challenge.dataset:
        state.notices.append(
            f"This challenge needs {dataset_title(challenge.dataset)}, which is not available "
            "on this server: ask your teacher."
        )
        return
    state.challenge = code
    state.dataset, state.preset = challenge.dataset, challenge.preset
    state.hyperparameters = challenge.hyperparameters
    _structural_edit(state, fit_spec_to_data(PRESETS[challenge.preset].spec(), challenge.dataset))


def _open_share_link(state: Playground) -> bool:
    """A new session opened from a share link (?s=...) starts with the shared model in the builder."""
    token = st.query_params.get(SHARE_PARAM)
    if token is None:
        return False
    del st.query_params[SHARE_PARAM]  # consumed: the URL no longer claims to describe the edited model
    try:
        shared = decode_share(token)
    except ShareLinkError as error:
        state.notices.append(f"{error} The default model is loaded instead.")
        return False
    dataset, spec = shared["dataset"], shared["spec"]
    if available_dataset(dataset) != dataset:
        notice = (
            f"The shared model was made for {dataset_title(dataset)}, which is not available here: "
            f"it is loaded for {dataset_title('shapes')} instead."
        )
        dataset = "shapes"
    else:
        notice = "The shared model and its training settings are loaded: train it, or change it first."
    state.dataset, state.preset = dataset, shared["preset"]
    state.hyperparameters = Hyperparameters.from_dict(shared["hyperparameters"])
    _structural_edit(state, fit_spec_to_data(spec, dataset))  # a no-op for links the app made
    state.notices.append(notice)
    return True


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
        st.html(
            f"<script>document.cookie = '{USER_COOKIE}={uid}; path=/; max-age=31536000; SameSite=Strict';</script>",
            unsafe_allow_javascript=True,
        )


# --- edits ---------------------------------------------------------------------------------------


def _structural_edit(state: Playground, spec: dict) -> None:
    state.spec = spec
    state.builder_version += 1


def load_preset(name: str) -> None:
    state = playground()
    preset = ALL_PRESETS[name]
    state.preset = name
    state.parent_id = None  # a fresh start, not a change to a run
    state.hyperparameters = preset.app_hyperparameters
    _structural_edit(state, fit_spec_to_data(preset.spec(), state.dataset))


def set_dataset(name: str) -> None:
    state = playground()
    state.dataset = name
    is_images = load_dataset(name).is_images
    if is_images != (len(state.spec.get("input_shape") or ()) == 3):
        # From images to a table or back: the layers cannot fit the other kind, so start from its preset.
        load_preset(default_preset_for(is_images))
    else:
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
    return analyze_for(state.spec, current_data(), param_budget=param_budget())


def current_data():
    """The session's data set; if it is gone (an imported set deleted, e.g. in another tab), a built-in one."""
    state = playground()
    try:
        return load_dataset(state.dataset)
    except DatasetUnavailable as error:
        set_dataset(available_dataset())
        state.notices.append(f"{error} Your model now uses {dataset_title(state.dataset)}.")
        return load_dataset(state.dataset)


def param_budget() -> int:
    """The server's limit, or the challenge's when lower."""
    challenge = active_challenge()
    budget = manager().param_budget
    return min(budget, challenge.max_params) if challenge is not None else budget


def control(name: str) -> str:
    """'free', 'locked' (shown, not changeable) or 'hidden', as the session's challenge says."""
    challenge = active_challenge()
    if challenge is None:
        return "free"
    if name in challenge.hidden:
        return "hidden"
    return "locked" if name in challenge.locked else "free"


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
    run = manager().get(run_id, user_id())
    if run is None:
        return None
    state.run_id = run_id
    if st.query_params.get(RUN_PARAM) != run_id:
        st.query_params[RUN_PARAM] = run_id  # page switches clear the URL: keep the run findable on refresh
    return run


def own_runs():
    return manager().list(user_id())


def user_datasets() -> UserDatasetStore:
    """Data sets users imported, stored beside the runs (so a test's or server's home holds both)."""
    return UserDatasetStore(manager().store.home)


def dataset_options() -> list[str]:
    """Every data set this user may choose: the built-in ones, then their own imported ones (newest first)."""
    return list(DATASETS) + [meta["id"] for meta in user_datasets().list(user_id())]


def delete_own_dataset(name: str) -> bool:
    """Delete one of this user's imported data sets; a model using it moves to a built-in data set."""
    deleted = user_datasets().delete(name, user_id())
    if deleted and playground().dataset == name:
        set_dataset(available_dataset())
    return deleted


def dataset_title(name: str) -> str:
    if name in DATASETS:
        return DATASETS[name].title
    if not is_user_dataset(name):
        return name
    meta = user_datasets().meta(name)
    return meta["title"] if meta else "a deleted data set"


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
