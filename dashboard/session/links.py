"""What the URL carries besides the user: the run the session follows, the classroom challenge it
joined, and share links (?s=...) that open a model in a new session."""

from __future__ import annotations

import streamlit as st

from core.data.datasets import load_dataset
from core.data.user_datasets import is_user_dataset
from core.model.spec import is_image_spec
from core.share import PARAM as SHARE_PARAM
from core.share import ShareLinkError
from core.share import decode as decode_share
from core.training.hyperparams import Hyperparameters
from core.training.presets import PRESETS

from .playground import Playground, fit_spec_to_data
from .runs import own_run
from .services import available_dataset, challenges, dataset_title, manager

RUN_PARAM = "run"
CHALLENGE_PARAM = "challenge"
BOARD_PARAM = "board"


def open_from_url(state: Playground, saved: dict | None = None) -> None:
    """A new session starts from its URL: a share link or someone else's run address, else the user's own
    working model (``saved``: kept on the server, so a refresh finds it), else their followed run's model;
    and a challenge link."""
    opened = _open_share_link(state) or _open_someone_elses_run(state)
    restored = not opened and saved is not None and _restore_draft(state, saved)
    own = _reopen_own_run(state, keep_model=opened or restored)
    _join_challenge(state, keep_model=opened or restored or own)


def challenge_in_url() -> str | None:
    return st.query_params.get(CHALLENGE_PARAM)


def _restore_draft(state: Playground, saved: dict) -> bool:
    """The user's working model from before a refresh, when its data set can still be used here."""
    if available_dataset(saved["dataset"]) != saved["dataset"]:
        state.notices.append(
            f"Your last model used {dataset_title(saved['dataset'])}, which is not available any more: "
            "you start from the default model."
        )
        return False
    state.dataset, state.preset = saved["dataset"], saved["preset"]
    state.hyperparameters, state.parent_id = saved["hyperparameters"], saved["parent_id"]
    state.replace_spec(fit_spec_to_data(saved["spec"], saved["dataset"]))
    return True


def run_in_url() -> str | None:
    return st.query_params.get(RUN_PARAM)


def show_run_in_url(run_id: str | None) -> None:
    """Page switches clear the URL: the followed run is put back so a refresh finds it."""
    if run_id:
        if st.query_params.get(RUN_PARAM) != run_id:
            st.query_params[RUN_PARAM] = run_id
    elif RUN_PARAM in st.query_params:
        del st.query_params[RUN_PARAM]


def show_challenge_in_url(code: str) -> None:
    """Page switches clear the URL; the challenge code stays in it so a refresh keeps the session in it."""
    if st.query_params.get(CHALLENGE_PARAM) != code:
        st.query_params[CHALLENGE_PARAM] = code


def board_in_url() -> str | None:
    """The challenge whose leaderboard the Projector page was opened for (?board=CODE)."""
    return st.query_params.get(BOARD_PARAM)


def _reopen_own_run(state: Playground, keep_model: bool = False) -> bool:
    """A new session opened on a URL with ``?run=`` of the user's own run: after a refresh it is followed
    again; its model goes into the builder unless ``keep_model`` (the working model came from elsewhere)."""
    run_id = run_in_url()
    run = own_run(run_id) if run_id else None
    if run is None:
        return False
    if keep_model:
        state.run_id = run.id
        return True
    if available_dataset(run.dataset) != run.dataset:
        return False
    state.dataset, state.spec, state.hyperparameters = run.dataset, run.spec, run.hyperparameters
    state.run_id = run.id
    return True


def _open_someone_elses_run(state: Playground) -> bool:
    """Someone else's address bar (a pasted link, a projected screen) with ``?run=`` gives the builder that
    run's model and settings, as a share link would, but never the run itself: the run leaves the URL."""
    run_id = run_in_url()
    if not run_id or own_run(run_id) is not None:
        return False
    model = manager().shared_model(run_id)
    if model is None:
        return False
    show_run_in_url(None)
    dataset = model["dataset"]
    if is_user_dataset(dataset) or available_dataset(dataset) != dataset:  # another's own data stays theirs
        dataset = available_dataset()
        if len(model["spec"].get("input_shape") or ()) != len(load_dataset(dataset).input_shape):
            state.notices.append("This address showed someone else's run, on a data set you cannot use here.")
            return False
    state.dataset, state.hyperparameters = dataset, model["hyperparameters"]
    state.replace_spec(fit_spec_to_data(model["spec"], dataset))
    state.notices.append(
        "This address showed someone else's run: its model and training settings are loaded into your "
        "builder (their runs stay theirs). Train it to get your own run."
    )
    return True


def _join_challenge(state: Playground, keep_model: bool = False) -> None:
    """A session opened from a teacher's link (?challenge=CODE) starts with the challenge's set-up.

    With ``keep_model`` (the link also carried a shared model, or the session's run after a refresh) the
    model stays, fitted to the challenge's data set, and only the challenge's rules are applied to it.
    """
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
    data = load_dataset(challenge.dataset)
    if keep_model and data.is_images == is_image_spec(state.spec):
        state.dataset = challenge.dataset
        state.hyperparameters = challenge.apply(state.hyperparameters)
        state.replace_spec(fit_spec_to_data(state.spec, challenge.dataset))
        return
    state.dataset, state.preset = challenge.dataset, challenge.preset
    state.hyperparameters = challenge.hyperparameters
    state.replace_spec(fit_spec_to_data(PRESETS[challenge.preset].spec(), challenge.dataset))


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
    state.replace_spec(fit_spec_to_data(spec, dataset))  # a no-op for links the app made
    state.notices.append(notice)
    return True
