"""The session's Playground and every edit of it: presets, data set, layers, hyperparameters; the run it
follows and the classroom challenge it is in.

Pages read and change the Playground only through these functions.
"""

from __future__ import annotations

import copy
import time

import streamlit as st

from core.data.datasets import DATASETS, DatasetUnavailable, load_dataset
from core.data.user_datasets import is_user_dataset
from core.model import edit
from core.model.spec import analyze_for, is_image_spec
from core.runs.challenges import Challenge
from core.training.hyperparams import Hyperparameters
from core.training.presets import ALL_PRESETS, DEFAULT_PRESET, PRESETS, default_preset_for, defaults_for_dataset

from . import keys, links
from .identity import user_id
from .inputs import reset_widgets
from .playground import Playground, fit_spec_to_data
from .runs import own_active_run, own_run
from .services import available_dataset, challenges, dataset_title, drafts, manager, user_datasets

STATE_KEY = "playground"
_SAVED_KEY = "_working_model_saved"  # the working model as last saved for this user: unchanged ones are not rewritten
_CHALLENGE_KEY = "_challenge"


def playground() -> Playground:
    """The session's Playground; a new session starts from what its URL says, else from the user's working
    model kept on the server (a refresh, a new tab), else from the default preset."""
    if STATE_KEY not in st.session_state:
        dataset = available_dataset()
        preset = PRESETS[DEFAULT_PRESET]
        state = Playground(dataset, preset.name, fit_spec_to_data(preset.spec(), dataset), preset.app_hyperparameters)
        st.session_state[STATE_KEY] = state
        links.open_from_url(state, _saved_working_model())
        st.session_state[_SAVED_KEY] = _working_model(state)
    return st.session_state[STATE_KEY]


def _saved_working_model() -> dict | None:
    """This user's working model at the place the URL names (free playground or a challenge), when its
    data set is theirs (or the challenge's: the challenge link puts that back anyway)."""
    saved = drafts().get(user_id(), links.challenge_in_url())
    if saved is None:
        return None
    if is_user_dataset(saved["dataset"]) and not links.challenge_in_url():
        meta = user_datasets().meta(saved["dataset"])
        if meta is not None and meta.get("owner") != user_id():
            return None
    return saved


def _working_model(state: Playground) -> dict:
    return {**state.to_dict(), "parent_id": state.parent_id}


def keep_working_model() -> None:
    """Save the session's working model for this user when it changed since it was last saved, so a
    refresh or a new tab of this browser finds it (core.runs.drafts). Called on every script run."""
    if STATE_KEY not in st.session_state:
        return
    state = st.session_state[STATE_KEY]
    current = _working_model(state)
    if st.session_state.get(_SAVED_KEY) == current:
        return
    if drafts().save(user_id(), current, state.challenge):
        st.session_state[_SAVED_KEY] = current


def take_notices() -> list[str]:
    """Messages for the user from a session's start (e.g. about a share link), each shown once."""
    state = playground()
    notices, state.notices = state.notices, []
    return notices


# --- the classroom challenge ---------------------------------------------------------------------


CHALLENGE_REREAD_SECONDS = 10  # a teacher's edit (or closing) reaches the learners' pages this soon


def active_challenge(fresh: bool = False) -> Challenge | None:
    """The session's challenge, read from the store at most every few seconds (every control asks, on
    every rerun), or now with ``fresh``; the run manager reads it afresh whenever a run starts, so an
    edit always holds. When the teacher changed it, its rules are applied to the session at once."""
    code = playground().challenge
    if not code:
        return None
    cached, read_at = st.session_state.get(_CHALLENGE_KEY, (None, 0.0))
    if fresh or cached is None or cached.code != code or time.monotonic() - read_at > CHALLENGE_REREAD_SECONDS:
        current = challenges().get(code)
        if current is None:  # deleted by the teacher: the session goes on as a free playground
            playground().challenge = None
            st.session_state.pop(_CHALLENGE_KEY, None)
            return None
        st.session_state[_CHALLENGE_KEY] = (current, time.monotonic())
        if cached is not None and cached.code == code and current != cached:
            _apply_rules(current)
        cached = current
    return cached


def keep_challenge_rules() -> None:
    """Put the challenge's rules back after anything that brought settings from elsewhere (a preset, a
    clone, a share link, a data set switch, an edit by the teacher): its data set, and every training
    setting the learner cannot change. The Train page's controls then show the values that hold."""
    challenge = active_challenge(fresh=True)
    if challenge is not None:
        _apply_rules(challenge)


def _apply_rules(challenge: Challenge) -> None:
    state = playground()
    if state.dataset != challenge.dataset:
        state.dataset = challenge.dataset
        data = load_dataset(challenge.dataset)
        if data.is_images != is_image_spec(state.spec):
            state.preset = challenge.preset  # the model cannot fit this kind of data: the challenge's start
            state.replace_spec(fit_spec_to_data(PRESETS[challenge.preset].spec(), challenge.dataset))
        else:
            state.replace_spec(fit_spec_to_data(state.spec, challenge.dataset))
    state.hyperparameters = challenge.apply(state.hyperparameters)
    reset_widgets(prefix=keys.Train.PREFIX)


def keep_challenge_in_url() -> None:
    """Page switches clear the URL; the challenge code stays in it so a refresh keeps the session in it."""
    code = playground().challenge
    if code:
        links.show_challenge_in_url(code)


def param_budget() -> int:
    """The server's limit, or the challenge's when lower (the run policy's)."""
    return manager().policy.allowed_maxima(active_challenge()).params


def control(name: str) -> str:
    """'free', 'locked' (shown, not changeable) or 'hidden', as the session's challenge says."""
    challenge = active_challenge()
    if challenge is None:
        return "free"
    if name in challenge.hidden:
        return "hidden"
    return "locked" if name in challenge.locked else "free"


# --- edits ---------------------------------------------------------------------------------------


def start_table(name: str) -> None:
    """A table just imported: the session uses it, starting from the preset that suits its size."""
    set_dataset(name)
    load_preset(default_preset_for(False, len(load_dataset(name).x_train)))


def load_preset(name: str) -> None:
    state = playground()
    preset = ALL_PRESETS[name]
    state.preset = name
    state.parent_id = None  # a fresh start, not a change to a run
    state.hyperparameters = _within_data(defaults_for_dataset(preset, state.dataset), state.dataset)
    state.replace_spec(fit_spec_to_data(preset.spec(), state.dataset))
    keep_challenge_rules()


def set_dataset(name: str) -> None:
    state = playground()
    preset = ALL_PRESETS.get(state.preset)
    untouched = preset is not None and state.hyperparameters == defaults_for_dataset(preset, state.dataset)
    state.dataset = name
    if untouched:  # the preset's defaults, not the user's own settings: those for the new data set's size
        state.hyperparameters = defaults_for_dataset(preset, name)
    state.hyperparameters = _within_data(state.hyperparameters, name)
    data = load_dataset(name)
    if data.is_images != is_image_spec(state.spec):
        # From images to a table or back: the layers cannot fit the other kind, so start from the preset
        # that suits the data (for a small table, the Linear one).
        load_preset(default_preset_for(data.is_images, len(data.x_train)))
    else:
        state.replace_spec(fit_spec_to_data(state.spec, name))
    keep_challenge_rules()


def _within_data(hp: Hyperparameters, dataset: str) -> Hyperparameters:
    """A limit on training images that the data set does not reach is no limit: it is dropped, so the
    settings, the coaching and the run's record all say how many images were really used."""
    limit, available = hp.limit_train, len(load_dataset(dataset).x_train)
    if limit is not None and limit >= available:
        hp = Hyperparameters.from_dict({**hp.to_dict(), "limit_train": None})
        reset_widgets(keys.Train.LIMIT_TRAIN)
    return hp


# The spec's edits are core.model.edit's (an Add or Concatenate keeps taking the same earlier layer); a
# setting changed in place keeps the layer widgets, a structural edit rebuilds them (replace_spec).


def set_layer_arg(index: int, arg: str, value) -> None:
    edit.set_layer_arg(playground().spec, index, arg, value)


def insert_layer(position: int, kind: str) -> None:
    state = playground()
    state.replace_spec(edit.insert_layer(state.spec, position, kind))


def remove_layer(index: int) -> None:
    state = playground()
    state.replace_spec(edit.remove_layer(state.spec, index))


def move_layer(index: int, offset: int) -> None:
    state = playground()
    if 0 <= index + offset < len(state.spec["layers"]):
        state.replace_spec(edit.move_layer(state.spec, index, offset))


def duplicate_layer(index: int) -> None:
    state = playground()
    state.replace_spec(edit.duplicate_layer(state.spec, index))


def set_hyperparameters(**changes) -> None:
    state = playground()
    state.hyperparameters = Hyperparameters.from_dict({**state.hyperparameters.to_dict(), **changes})


def choose_learning_rate(value) -> None:
    """The learner's own learning rate (typed, or the finder's): kept when the optimizer changes."""
    set_hyperparameters(learning_rate=value)
    playground().chosen_learning_rate = value


def change_optimizer(name: str) -> None:
    state = playground()
    state.hyperparameters = state.hyperparameters.with_optimizer(name, keep_learning_rate=state.learning_rate_chosen)


def learning_rate_chosen() -> bool:
    return playground().learning_rate_chosen


def settings_problems() -> list[str]:
    """Why the training settings cannot train, in words: core's checks, and a challenge's rules on them."""
    state = playground()
    found = state.hyperparameters.problems(in_app=True)
    challenge = active_challenge()
    if challenge is not None and not found:
        found = challenge.problems(state.dataset, analysis().total_params, state.hyperparameters)
    return found


def analysis():
    """Shapes, params, training memory at the chosen batch size and problems of the current spec against
    the current data set, with the server's (or the challenge's) budgets."""
    state = playground()
    return analyze_for(
        state.spec,
        current_data(),
        param_budget=param_budget(),
        batch_size=state.hyperparameters.batch_size,
        memory_budget_mb=manager().memory_budget_mb,
    )


def current_data():
    """The session's data set; if it is gone (an imported set deleted, e.g. in another tab), a built-in one."""
    state = playground()
    try:
        return load_dataset(state.dataset)
    except DatasetUnavailable as error:
        set_dataset(available_dataset())
        state.notices.append(f"{error} Your model now uses {dataset_title(state.dataset)}.")
        return load_dataset(state.dataset)


def dataset_options() -> list[str]:
    """Every data set this user may choose: the built-in ones, then their own imported ones (newest
    first); in a challenge also its data set, which may be the teacher's own."""
    names = list(DATASETS) + [meta["id"] for meta in user_datasets().list(user_id())]
    challenge = active_challenge()
    if challenge is not None and challenge.dataset not in names:
        names.append(challenge.dataset)
    return names


def delete_own_dataset(name: str) -> bool:
    """Delete one of this user's imported data sets; a model using it moves to a built-in data set."""
    deleted = user_datasets().delete(name, user_id())
    if deleted and playground().dataset == name:
        set_dataset(available_dataset())
    return deleted


# --- the run this session follows ----------------------------------------------------------------


def follow_run(run_id: str | None) -> None:
    playground().run_id = run_id
    links.show_run_in_url(run_id)


def followed_run():
    """The run this session follows: from session state, else from the URL (after a refresh), else the
    user's run training now (started in another tab or window).

    Only the user's own runs are returned.
    """
    state = playground()
    run_id = state.run_id or links.run_in_url()
    if not run_id:
        active = own_active_run()
        if active is None:
            return None
        run_id = active.id
    run = own_run(run_id)
    if run is None:
        return None
    state.run_id = run_id
    links.show_run_in_url(run_id)  # page switches clear the URL: keep the run findable on refresh
    return run


def clone_run(run) -> None:
    """Change one thing: the run's model, data set and settings (same seed) go into the builder.

    The next run trained from it records this run as its parent, so Compare pairs the two. The caller
    opens the Build page.
    """
    state = playground()
    state.dataset = run.dataset
    state.hyperparameters = run.hyperparameters
    state.parent_id = run.id
    state.replace_spec(copy.deepcopy(run.spec))
    keep_challenge_rules()


def prepare_next_run() -> None:
    """The model and settings the Train page shows are built and traced ahead by an idle training worker,
    so that a press of Train draws its first point without that wait (a hint: nothing is checked or queued)."""
    pg = playground()
    manager().prepare_next(pg.spec, pg.dataset, pg.hyperparameters)
