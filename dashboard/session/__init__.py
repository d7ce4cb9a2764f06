"""The one place that owns a browser session: its state, the user's identity and the URL.

Pages and components use only the names below; nothing outside this package touches
``st.session_state`` or ``st.query_params``.
"""

from .identity import learner_name, remember_user_in_browser, user_id
from .links import board_in_url
from .playground import Playground, fit_spec_to_data
from .services import available_dataset, challenges, dataset_title, manager, user_datasets
from .state import (
    active_challenge,
    analysis,
    clone_run,
    control,
    current_data,
    dataset_options,
    delete_own_dataset,
    duplicate_layer,
    follow_run,
    followed_run,
    insert_layer,
    keep_challenge_in_url,
    load_preset,
    move_layer,
    own_runs,
    param_budget,
    playground,
    remove_layer,
    set_dataset,
    set_hyperparameters,
    set_layer_arg,
    take_notices,
)

__all__ = [
    "Playground",
    "active_challenge",
    "analysis",
    "available_dataset",
    "board_in_url",
    "challenges",
    "clone_run",
    "control",
    "current_data",
    "dataset_options",
    "dataset_title",
    "delete_own_dataset",
    "duplicate_layer",
    "fit_spec_to_data",
    "follow_run",
    "followed_run",
    "insert_layer",
    "keep_challenge_in_url",
    "learner_name",
    "load_preset",
    "manager",
    "move_layer",
    "own_runs",
    "param_budget",
    "playground",
    "remember_user_in_browser",
    "remove_layer",
    "set_dataset",
    "set_hyperparameters",
    "set_layer_arg",
    "take_notices",
    "user_datasets",
    "user_id",
]
