"""Training one run: build the model from its spec, fit it while streaming metrics, evaluate, save the model.

The runners' trainer (core.runs.runners.KerasTrainer): it trains a Run and writes its files beside the
RunStore, so it sits with the runs; the Keras pieces it shares with the learning-rate finder and the speed
measurement (the optimizer, the batch sizes of forward passes) are core.training.fitting's.

Runs in a runner's slot (a thread, a worker process). It records into the Run object and writes the
model files beside the store, then says how the run ended (an Ending); the run manager saves and ends
the run. It never touches any UI.
"""

from __future__ import annotations

import logging
import math
import threading
import time

import keras
import numpy as np

from core.data.datasets import DatasetUnavailable, load_dataset
from core.data.pixels import as_float_input
from core.disk import disk_problem, without_paths
from core.messages import counted
from core.model.keras_build import batch_norm_momentum, build_model, has_batch_norm
from core.model.spec import analyze_for
from core.runs.challenges import HIDDEN_SCORE, load_hidden_test
from core.runs.record import Ending, Kind, Run, Status
from core.runs.relay import Preparation
from core.runs.store import RunStore
from core.text import strip_ansi
from core.training.fitting import PREDICT_BATCH, VALIDATION_BATCH, fit_input, make_optimizer
from core.training.hyperparams import Hyperparameters
from core.training.target import reached_message, target_reached
from core.training.target_scaling import convert_logs

log = logging.getLogger(__name__)

NAN_MESSAGE = "The loss became NaN (not a number) — lower the learning rate and train again."
INF_MESSAGE = "The loss became infinite — lower the learning rate and train again."


class _SavingClock:
    """How long saving a run's results took last in this process (the model, its predictions): the time
    left shown during the next run counts it. Before any run here, a typical figure for a small model."""

    seconds = 0.5


class StopRequested(Exception):
    """Raised inside fit when the user pressed Stop: ends training after this batch, skipping validation."""


class LossDiverged(Exception):
    pass


class RunRecorder(keras.callbacks.Callback):
    """Streams per-batch and per-epoch metrics into a Run, and honours Stop within one batch.

    Each batch records the loss and one metric (``metric``: accuracy, or mae for a regression);
    ``factors`` turn a regression's standardised values into the target's units (core.training.target_scaling).
    """

    def __init__(self, run: Run, metric: str = "accuracy", factors: dict | None = None):
        super().__init__()
        self.run = run
        self.metric = metric
        self.factors = factors or {}
        self._epoch = 0
        self._epoch_started = 0.0
        self._validation_started = 0.0
        self._validation_seconds = 0.0
        self._first_batch_seconds: float | None = None  # the epoch's start to its first batch's end
        # Steady pace, for the time left: batches after the first (which builds the step's graph).
        self._train_marks: list[tuple[int, float]] = []  # (batches done, time) after batch 1 and the last
        self._test_marks: list[tuple[int, float]] = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_started = time.perf_counter()
        self._validation_seconds = 0.0
        self._first_batch_seconds = None
        self._train_marks, self._test_marks = [], []

    def on_test_begin(self, logs=None):  # inside fit: the epoch's validation
        self._validation_started = time.perf_counter()
        self.run.set_phase("validating")

    def on_test_end(self, logs=None):
        self._validation_seconds = time.perf_counter() - self._validation_started

    @staticmethod
    def _mark(marks: list, batches_done: int) -> None:
        now = time.perf_counter()
        if len(marks) < 2:
            marks.append((batches_done, now))
        else:
            marks[1] = (batches_done, now)

    @staticmethod
    def _seconds_per_batch(marks: list) -> float | None:
        if len(marks) < 2 or marks[1][0] <= marks[0][0]:
            return None
        return (marks[1][1] - marks[0][1]) / (marks[1][0] - marks[0][0])

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        loss = float(logs.get("loss", math.nan))
        if not math.isfinite(loss):
            raise LossDiverged(NAN_MESSAGE if math.isnan(loss) else INF_MESSAGE)
        value = logs.get(self.metric)
        value = None if value is None else float(value) * self.factors.get(self.metric, 1.0)
        self.run.record_batch(self._epoch, batch, loss * self.factors.get("loss", 1.0), **{self.metric: value})
        self._mark(self._train_marks, batch + 1)
        if self._first_batch_seconds is None:
            self._first_batch_seconds = time.perf_counter() - self._epoch_started
        paused = self.run.wait_while_paused()
        if paused:  # the epoch's clocks leave the pause out
            self._epoch_started += paused
            self._train_marks = [(done, at + paused) for done, at in self._train_marks]
        if self.run.stop_requested:
            raise StopRequested

    def on_test_batch_end(self, batch, logs=None):
        self._mark(self._test_marks, batch + 1)
        if self.run.stop_requested:  # Stop during validation: don't finish it
            raise StopRequested

    def on_epoch_end(self, epoch, logs=None):
        metrics = {
            "epoch": epoch + 1,
            "seconds": time.perf_counter() - self._epoch_started,
            "val_seconds": self._validation_seconds,
        }
        # The epoch at a steady pace (without building graphs), for the time left of later epochs
        per_train_batch = self._seconds_per_batch(self._train_marks)
        per_test_batch = self._seconds_per_batch(self._test_marks)
        if per_train_batch is not None:
            metrics["train_batch_seconds"] = per_train_batch
            metrics["first_batch_seconds"] = self._first_batch_seconds
        if per_test_batch is not None:
            metrics["val_batch_seconds"] = per_test_batch
        metrics.update(convert_logs(logs or {}, self.factors))
        self.run.record_epoch(metrics)  # the manager saves the run here (its progress hook)


class TargetStop(keras.callbacks.Callback):
    """Ends fit after the first epoch whose validation accuracy reaches the run's target (a race to it)."""

    def __init__(self, target: float):
        super().__init__()
        self.target = target

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get("val_accuracy")
        if value is not None and float(value) >= self.target:
            self.model.stop_training = True


def smoothing_of(run: Run) -> float:
    """The run's label smoothing: classification only (a regression has no labels to smooth)."""
    return 0.0 if run.task.is_regression else float(run.hyperparameters.label_smoothing or 0.0)


def loss_of(run: Run):
    """The Keras loss: the task's, or cross-entropy on smoothed one-hot labels (Keras' sparse cross-entropy
    has no smoothing, and a built-in loss keeps the saved model loadable without custom code)."""
    smoothing = smoothing_of(run)
    if smoothing:
        return keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)
    return run.task.keras_loss(run.hyperparameters)


def plain_error(error: BaseException) -> str:
    """A one-paragraph message a learner can read, from any exception raised while training."""
    if isinstance(error, (DatasetUnavailable, LossDiverged)):
        return str(error)
    if isinstance(error, MemoryError) or type(error).__name__ == "ResourceExhaustedError":
        return (
            "Training ran out of memory: the model or batch is too large for this server. "
            "Use fewer filters or units, add pooling, or lower the batch size."
        )
    disk = disk_problem(error)  # a full, read-only or failing disk, in plain words
    if disk is not None:
        return disk
    text = strip_ansi(str(error)).strip().splitlines()
    detail = without_paths(text[0][:400]) if text else type(error).__name__
    return f"Training failed: {detail}"


def _slice(array, limit: int | None):
    return array if limit is None else array[:limit]


def train_run(run: Run, store: RunStore | None = None, *, continue_training: bool = False) -> Ending:
    """Train the run to its end and say how it ended (finished, stopped or failed). Never raises an Exception.

    With ``continue_training`` the run's saved model (weights and optimizer state) trains on from its
    last epoch up to ``run.hyperparameters.epochs``, extending the same history. Without a ``store``
    nothing is written to disk.
    """
    try:
        return _train_and_evaluate(run, store, continue_training)
    except LossDiverged as error:  # expected, and its message is already plain: no traceback in the log
        return Ending(Status.FAILED, str(error))
    except Exception as error:  # a run must always end with a message, never silently
        log.exception("run %s failed", run.id)
        return Ending(Status.FAILED, plain_error(error))


def _prepare_model(run: Run, store: RunStore | None, continue_training: bool, steps_per_epoch: int = 1):
    """A new compiled model for the run's spec, or its saved model to train on (weights and optimizer)."""
    hp, task = run.hyperparameters, run.task
    if continue_training:
        path = store.model_path(run.id) if store is not None else None
        if path is None or not path.exists():
            raise FileNotFoundError(
                "The trained model of this run is missing, so it cannot train on. Start a new run instead."
            )
        keras.utils.set_random_seed(hp.seed + run.epoch)  # fresh shuffles for the new epochs
        return keras.models.load_model(path, safe_mode=True)
    keras.utils.set_random_seed(hp.seed)
    model = build_model(run.spec, batches_per_epoch=steps_per_epoch)
    model.compile(optimizer=make_optimizer(hp, steps_per_epoch), loss=loss_of(run), metrics=[task.metric])
    return model


def _training_data(dataset, hp: Hyperparameters):
    """The run's training inputs (a worker's: a tensor, fitting.fit_input) and labels, and how many of them
    validate and fit."""
    x_train = _slice(fit_input(dataset, "x_train"), hp.limit_train)
    y_train = _slice(dataset.y_train, hp.limit_train)
    n_validation = int(len(x_train) * hp.validation_split)
    return x_train, y_train, n_validation, len(x_train) - n_validation


def _targets(run: Run, targets, model):
    """What fit learns: the (standardised) targets, one-hot when the labels are smoothed (see loss_of)."""
    if smoothing_of(run):
        return keras.utils.to_categorical(targets, model.output_shape[-1])
    return targets


class _Prepared:
    """Models built, compiled and traced ahead in this process (``prepare_ahead``), each kept for one run of
    exactly its spec, data set and settings (``key``)."""

    models: dict[str, keras.Model] = {}
    lock = threading.Lock()
    kept = 1  # one model at a time: the one a learner is most likely to train next

    @staticmethod
    def key(spec: dict, dataset: str, hp: Hyperparameters) -> str:
        return Preparation(spec, dataset, hp.to_dict()).key

    @classmethod
    def take(cls, run: Run):
        """The model prepared for this run, if there is one (it is then no longer kept)."""
        if run.kind != Kind.TRAINING:
            return None
        with cls.lock:
            return cls.models.pop(cls.key(run.spec, run.dataset, run.hyperparameters), None)


def prepare_ahead(spec: dict, dataset_name: str, hp: Hyperparameters) -> bool:
    """Build and compile the model of a run of ``spec`` on ``dataset_name`` with ``hp``, and trace its training
    step on one batch ahead of time, so that such a run's first batch comes without the 1-4 s of building
    TensorFlow's graph. Then every variable (weights, optimizer state, dropout and augmentation seeds) is set
    back to its value as built: the run trains exactly as an unprepared run of the same seed would
    (tests/training/test_prepare_ahead.py). Classification only. Says whether a model is now prepared."""
    dataset = load_dataset(dataset_name)
    if dataset.task != "classification":
        return False
    run = Run(spec, dataset_name, hp)
    if _problems(run, dataset):
        return False
    x_train, y_train, _, n_fit = _training_data(dataset, hp)
    batches_per_epoch = math.ceil(n_fit / hp.batch_size)
    model = _prepare_model(run, None, False, batches_per_epoch)
    model.optimizer.build(model.trainable_variables)
    as_built = [(v, v.numpy()) for v in [*model.variables, *model.optimizer.variables]]
    # Batches of the same shapes as the run's (a partial last batch makes the batch size unknown to the
    # traced step: then one full and one partial batch here too), so that its step is this one.
    n = hp.batch_size + (1 if n_fit % hp.batch_size else 0)
    targets = _targets(run, run.task.scaling(y_train[:n], model).standardise(y_train[:n]), model)
    model.fit(x_train[:n], targets, epochs=1, batch_size=hp.batch_size, verbose=0)
    for variable, value in as_built:
        variable.assign(value)
    with _Prepared.lock:
        while len(_Prepared.models) >= _Prepared.kept:
            _Prepared.models.pop(next(iter(_Prepared.models)))
        _Prepared.models[_Prepared.key(spec, dataset_name, hp)] = model
    return True


def prepare_for(preparation: Preparation) -> None:
    """A worker's answer to the Train page's hint (core.runs.relay.Preparation), and what it does after a run
    (the same model is most often trained next): that model prepared ahead, in place of the one kept, unless
    it is the one kept already. Never raises: a preparation is an optimisation only."""
    if preparation.key in _Prepared.models:
        return
    try:
        prepare_ahead(preparation.spec, preparation.dataset, Hyperparameters.from_dict(preparation.hyperparameters))
    except Exception:  # noqa: BLE001
        log.warning("preparing a model ahead failed", exc_info=True)


def _early_stopping_message(early: keras.callbacks.EarlyStopping, patience: int, loss_factor: float = 1.0) -> str:
    return (
        f"Stopped early after epoch {early.stopped_epoch + 1}: the validation loss had not improved for "
        f"{patience} epoch(s) since epoch {early.best_epoch + 1} (best {early.best * loss_factor:.4f}). "
        f"The weights from epoch {early.best_epoch + 1} were kept."
    )


def _train_and_evaluate(run: Run, store: RunStore | None, continue_training: bool = False) -> Ending:
    hp, task = run.hyperparameters, run.task
    dataset = load_dataset(run.dataset)
    if not continue_training:  # a continued run trains its saved model, which was checked when it started
        problems = _problems(run, dataset)
        if problems:
            return Ending(Status.FAILED, "The model cannot be trained: " + " ".join(problems))
    # Seeds, dtype policy and name scopes are thread-local in Keras: set them here, in the worker.
    x_train, y_train, n_validation, n_fit = _training_data(dataset, hp)
    batches_per_epoch = math.ceil(n_fit / hp.batch_size)
    model = None if continue_training else _Prepared.take(run)
    if model is not None:
        log.info("run %s trains the model prepared ahead for it", run.id)
        keras.utils.set_random_seed(hp.seed)  # as a new model's run starts from it (see prepare_ahead)
    else:
        model = _prepare_model(run, store, continue_training, batches_per_epoch)
    initial_epoch = run.epoch if continue_training else 0
    n_test = len(dataset.x_test) if hp.limit_test is None else min(hp.limit_test, len(dataset.x_test))
    run.begin(
        batches_per_epoch=batches_per_epoch,
        eval_sizes={"validation": n_validation, "test": n_test + _hidden_test_size(run, store)},
        saving_seconds=_SavingClock.seconds if store is not None else 0.0,
    )
    scaling = task.scaling(y_train, model)  # a regression trains on standardised targets
    if continue_training:
        scaling.unfold_from(model)
    factors = scaling.log_factors(hp.loss)
    callbacks = [RunRecorder(run, metric=task.metric, factors=factors)]
    early = None
    if hp.early_stopping_patience:
        early = keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=hp.early_stopping_patience, restore_best_weights=True
        )
        callbacks.append(early)
    target = hp.target_accuracy if not task.is_regression and n_validation else None
    if target is not None:
        callbacks.append(TargetStop(target))
    targets = _targets(run, scaling.standardise(y_train), model)
    stopped = False
    try:
        model.fit(
            x_train,
            targets,
            epochs=hp.epochs,
            initial_epoch=initial_epoch,
            batch_size=hp.batch_size,
            validation_split=hp.validation_split,
            validation_batch_size=max(hp.batch_size, VALIDATION_BATCH),
            callbacks=callbacks,
            verbose=0,
        )
    except StopRequested:
        stopped = True
    scaling.fold_into(model)  # the model now predicts the target in its own units
    run.set_phase("testing")
    results = evaluate_run(model, run, dataset, hp, store)
    results.update(score_hidden_test(model, run, store))
    # How many examples the run really learnt from (a limit above the data set's size is no limit).
    results["train_examples"], results["train_examples_available"] = len(x_train), len(dataset.x_train)
    reached = target_reached(run.epoch_history(), target) if target is not None else None
    if reached is not None:
        results["target_reached"] = reached
    if has_batch_norm(run.spec):  # coaching judges the running averages by it (core.insight.coaching)
        results["batch_norm_momentum"] = _batch_norm_momentum_of(model, batches_per_epoch)
    if stopped:
        return Ending(
            Status.STOPPED,
            f"Stopped by you after {counted(run.epoch, 'complete epoch')}; "
            f"the test {task.measure} for the weights at that moment.",
            results,
        )
    if early is not None and early.stopped_epoch > 0:
        return Ending(
            Status.FINISHED,
            _early_stopping_message(early, hp.early_stopping_patience, factors.get("loss", 1.0)),
            results,
        )
    if reached is not None:
        return Ending(Status.FINISHED, reached_message(reached), results)
    return Ending(Status.FINISHED, "", results)


WARM_UP_DATASETS = ("fashion_mnist", "shapes")  # the app's default data set, else the one that is always there


def warm_up() -> None:
    """Pay a process's first-run costs before anyone presses Train: the data set read and its float inputs
    made (in a worker, the training inputs as a tensor: core.training.fitting.fit_input), and the app's
    default model and settings on it prepared ahead (``prepare_ahead``: what a new learner trains first),
    whose fit of one batch also pays TensorFlow's first-run costs (its thread pools and kernels) for any
    other model. Where the default cannot be prepared, one tiny fit of model 1 pays those instead, so
    that the first run's first chart point comes as soon as a later run's. Never raises: a worker that
    could not warm up still trains."""
    from core.training.presets import DEFAULT_PRESET, PRESETS, defaults_for

    try:
        for name in WARM_UP_DATASETS:
            try:
                dataset = load_dataset(name)
                break
            except DatasetUnavailable:
                continue
        else:
            return
        fit_input(dataset, "x_train"), dataset.as_float("x_test")
        preset = PRESETS[DEFAULT_PRESET]
        spec = preset.spec(dataset.input_shape, dataset.output_units)
        if prepare_ahead(spec, name, defaults_for(preset, len(dataset.x_train))):
            return
        hp = Hyperparameters(epochs=1, batch_size=64, limit_train=160, limit_test=64, validation_split=0.2)
        train_run(Run(spec, name, hp), None)
    except Exception:  # noqa: BLE001 - warming up is an optimisation only
        log.warning("warming up the trainer failed", exc_info=True)


def _batch_norm_momentum_of(model, batches_per_epoch: int) -> float:
    """The momentum the model's BatchNormalization layers use (a continued run keeps its saved one)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            return float(layer.momentum)
    return batch_norm_momentum(batches_per_epoch)


def _problems(run: Run, dataset) -> list[str]:
    """Why the run cannot train. Its analysis travels with it from the manager's check; only a run handed
    to the trainer directly (a script, a test) is analysed here. The parameter budget is the manager's
    to enforce (a server may allow more than the default), so none is applied here."""
    analysis = run.analysis if run.analysis is not None else analyze_for(run.spec, dataset, param_budget=math.inf)
    run.params = analysis.total_params
    return [p.text() for p in analysis.problems] + run.hyperparameters.problems()


def _hidden_test_size(run: Run, store: RunStore | None) -> int:
    if not run.challenge or store is None:
        return 0
    hidden = load_hidden_test(store.home, run.challenge)
    return 0 if hidden is None else len(hidden[1])


def score_hidden_test(model, run: Run, store: RunStore | None) -> dict:
    """The run's accuracy on its challenge's hidden test set, for the leaderboard only (no predictions
    or labels are kept: the learner's pages never see that set)."""
    if not run.challenge or store is None:
        return {}
    hidden = load_hidden_test(store.home, run.challenge)
    if hidden is None:
        return {}
    x, y = hidden
    predicted = model.predict(as_float_input(x), batch_size=PREDICT_BATCH, verbose=0).argmax(axis=1)
    return {HIDDEN_SCORE: float(np.mean(predicted == y))}


def evaluate_run(model, run: Run, dataset, hp: Hyperparameters, store: RunStore | None) -> dict:
    """Test-set metrics, plus the saved model and predictions beside the store."""
    x_test = _slice(dataset.as_float("x_test"), hp.limit_test)
    y_test = _slice(dataset.y_test, hp.limit_test)
    task = run.task
    outputs = model.predict(x_test, batch_size=PREDICT_BATCH, verbose=0)
    predicted = time.perf_counter()
    results = task.summarize(outputs, y_test, dataset, hp)
    results["train_seconds"] = run.training_seconds() or 0.0  # the run's clock: set_phase("testing") ended it
    if store is not None:
        with store.replacing(store.model_path(run.id)) as partial:  # a full disk never spoils the saved model
            model.save(partial)
        store.save_predictions(run.id, task.saved_outputs(outputs, y_test))
        _SavingClock.seconds = time.perf_counter() - predicted
    return results
