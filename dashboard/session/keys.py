"""The keys of the session's values that pages and components name: their widgets' values (read with
``session.widget_value``, set with ``set_widget_value``...), the messages they leave for the next rerun
(``leave_message``/``take_message``), their imports' outcomes and the charts whose clicks they follow.

One class per page or component; ``OWNER`` is the one file that draws the widget and uses the class (a
test, tests/unit/test_session_keys.py, holds every page and component to that, and to naming no key as a
string of its own). Each key is written here once. A value another file needs is read, or set, through a
function of the session package, never by its key: the Data page's data set choice, which an import sets
to the data set it made, is ``session.show_chosen_dataset``; the learner's name on the leaderboard is
``session.learner_name``; the Train page's fields the session forgets when the model's settings change
(``Train.PREFIX``) are forgotten in ``dashboard/session/state.py``.

The strings themselves stay as they were: tests and the browser tests find widgets by them.
"""

from __future__ import annotations

from typing import NamedTuple

# --- pages ---------------------------------------------------------------------------------------


class Build:
    OWNER = "dashboard/views/build.py"
    ADD_LAYER_TYPE = "add_layer_type"
    ADD_LAYER_POSITION = "add_layer_position"


class Train:
    OWNER = "dashboard/views/train.py"
    PREFIX = "hp_"  # every training setting's field: forgotten when the model's settings are replaced
    OPTIMIZER = "hp_optimizer"
    LEARNING_RATE = "hp_learning_rate"
    SCHEDULE = "hp_schedule"
    EPOCHS = "hp_epochs"
    BATCH_SIZE = "hp_batch_size"
    LOSS = "hp_loss"
    VALIDATION_SPLIT = "hp_validation_split"
    SEED = "hp_seed"
    LABEL_SMOOTHING = "hp_label_smoothing"
    TARGET_ACCURACY = "hp_target_accuracy"
    PATIENCE = "hp_patience"
    LIMIT_TRAIN = "hp_limit_train"  # also forgotten when a new data set has fewer images than it
    MORE_EPOCHS = "more_epochs"


class Data:
    OWNER = "dashboard/views/data.py"
    DATASET_CHOICE = "dataset_choice"  # an import shows its new data set here: session.show_chosen_dataset
    SWITCHED = "dataset_switched"  # message: the model was adapted to the data set just chosen


class Compare:
    OWNER = "dashboard/views/compare.py"
    RUNS = "compare_runs"  # the choice itself is kept by the session (compare_choice): it survives page switches


class Results:
    OWNER = "dashboard/views/results.py"
    DELETED = "results_deleted"  # message: a run was deleted, or why it was not


class ChallengeForm(NamedTuple):
    """The fields of the Teacher page's challenge form: a new challenge's or one challenge's edit (the same
    fields under another prefix: ``Teacher.NEW_CHALLENGE``, ``Teacher.edit(code)``)."""

    title: str
    dataset: str
    preset: str
    hidden_test: str
    max_params: str
    max_epochs: str
    train_images: str
    optimizer: str
    learning_rate: str
    epochs: str
    batch_size: str
    target_accuracy: str
    locked: str
    hidden: str
    measure_again: str

    @classmethod
    def under(cls, prefix: str) -> ChallengeForm:
        return cls(*(prefix + field for field in cls._fields))


class Teacher:
    OWNER = "dashboard/views/teacher.py"
    PASSWORD = "teacher_password"  # forgotten as soon as it is read
    CHALLENGE_CHOICE = "teacher_challenge_choice"
    CONFIRM_RESET = "confirm_reset"
    IMPORT_FILE = "import_challenge_file"
    NEW_PREFIX = "nc_"
    EDIT_PREFIX = "ed_"
    NEW_CHALLENGE = ChallengeForm.under(NEW_PREFIX)
    # messages for the next rerun
    LOGIN_FAILED = "teacher_login_failed"
    CREATED = "teacher_create"
    EDITED = "teacher_edit"
    IMPORTED = "teacher_import"

    @staticmethod
    def edit(code: str) -> ChallengeForm:
        return ChallengeForm.under(f"{Teacher.EDIT_PREFIX}{code}_")

    @staticmethod
    def confirm_delete(code: str) -> str:
        return f"confirm_delete_{code}"


# --- components ----------------------------------------------------------------------------------


class LayerCard:
    OWNER = "dashboard/components/layer_card.py"

    @staticmethod
    def prefix(version: int, index: int) -> str:
        """The start of every key of a layer's card (its buttons, fields and expanders). The model's builder
        version is in it: a structural edit draws every card afresh from the spec."""
        return f"b{version}_{index}"


class Classroom:
    OWNER = "dashboard/components/classroom.py"
    LEARNER_NAME = "learner_name"  # read by the session: session.learner_name()


class ShapeSandbox:
    OWNER = "dashboard/components/shape_sandbox.py"
    SIZE = "sandbox_size"
    KERNEL = "sandbox_kernel"
    STRIDE = "sandbox_stride"
    PADDING = "sandbox_padding"
    STEP = "sandbox_step"
    OPEN = "sandbox_open"  # its expander: lazy, so a new session does not load Plotly for a closed sandbox


class Recording:
    OWNER = "dashboard/components/recording.py"
    CLASS_NAME = "rec_class_name"
    TARGET = "rec_target"
    TITLE = "rec_title"
    SIZE = "rec_size"
    GREY = "rec_grey"
    OUTCOME = "recording_build"  # the last build's outcome: {"error": str} or {"name": str, "report"}
    ERROR = "recording_error"  # messages for the next rerun (from the callbacks)
    REFUSED = "recording_refused"

    @staticmethod
    def camera(widget_round: int) -> str:
        return f"rec_camera_{widget_round}"

    @staticmethod
    def upload(widget_round: int, index: int) -> str:
        return f"rec_upload_{widget_round}_{index}"


class ImageImport:
    OWNER = "dashboard/components/image_import.py"
    ZIP = "image_zip"
    NAME = "image_name"
    SIZE = "image_size"
    COLOUR = "image_colour"  # a choice of core.data.image_import.COLOUR_CHOICES
    OUTCOME = "image_import"  # {"file": upload id, "error": str or "name": str, "report"}


class CsvImport:
    OWNER = "dashboard/components/csv_import.py"
    FILE = "csv_file"
    TARGET = "csv_target"
    TITLE = "csv_title"
    FEATURES_PREFIX = "csv_features_"  # + the target's name: the feature choice starts afresh for a new target
    OUTCOME = "csv_import"  # {"error": str} or {"name": str, "report": [str], ...}

    @staticmethod
    def features(target: str) -> str:
        return CsvImport.FEATURES_PREFIX + target


class YourWork:
    OWNER = "dashboard/components/your_work.py"
    SECTION = "your_work_section"  # the expander's open state
    WITH_DATASETS = "work_with_datasets"
    FILE = "work_file"
    RECOVERY_CODE = "recovery_code_typed"  # a secret: forgotten as soon as it is read
    OPENED = "work_opened"  # message: the outcome of the last Open my work, ("success" | "error", text)
    CODE_USED = "recovery_code_outcome"  # message: the outcome of the last recovery code used


class Arithmetic:
    """How this number was computed (Inside): a layer's chosen position, filter and clickable map."""

    OWNER = "dashboard/components/arithmetic.py"

    @staticmethod
    def row(layer: str) -> str:
        return f"arith_row_{layer}"

    @staticmethod
    def col(layer: str) -> str:
        return f"arith_col_{layer}"

    @staticmethod
    def map(layer: str) -> str:
        return f"arith_map_{layer}"

    @staticmethod
    def filter(layer: str) -> str:
        """The filter (or channel) chosen of a convolution's, a pooling's or an Add's output."""
        return f"arith_filter_{layer}"

    @staticmethod
    def unit(layer: str) -> str:
        """The unit (or class) chosen of a Dense layer."""
        return f"arith_unit_{layer}"


class Mistakes:
    """A run's confusion matrix (its clicks) and the two class pickers it sets."""

    OWNER = "dashboard/components/mistakes.py"

    @staticmethod
    def chart(run_id: str) -> str:
        return f"confusion_{run_id}"

    @staticmethod
    def true_class(run_id: str) -> str:
        return f"errs_true_{run_id}"

    @staticmethod
    def predicted_class(run_id: str) -> str:
        return f"errs_pred_{run_id}"
