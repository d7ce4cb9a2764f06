"""Command line: python -m core COMMAND --help.

Exit codes: 0 success; 1 a run ended failed; 2 bad input (plain message on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from core.config import DEFAULT_PARAM_BUDGET
from core.data.datasets import DATASETS, DatasetUnavailable, load_dataset
from core.data.image_import import COLOUR_CHOICES, DEFAULT_COLOUR
from core.data.image_import import DEFAULT_SIZE as DEFAULT_IMAGE_SIZE
from core.data.image_import import SIZES as IMAGE_SIZES
from core.disk import disk_problem
from core.model.spec import analyze, format_shape, structure_problems
from core.training.hyperparams import HYPERPARAMETER_FIELDS, Hyperparameters
from core.training.presets import PRESETS, defaults_for_dataset
from core.training.validation import MAX_JSON_BYTES, InvalidInput, load_json, spec_problems

CLI_FIELDS = [f for f in HYPERPARAMETER_FIELDS if f.cli]


class UserError(Exception):
    """Bad input from the user: printed plainly, exit code 2."""


def _read_spec(args) -> tuple[dict, str]:
    """The spec from --spec FILE, or the preset sized to --dataset's input shape and classes."""
    if getattr(args, "preset", None):
        if args.preset not in PRESETS:
            raise UserError(f"Unknown preset {args.preset!r}; choose one of {', '.join(PRESETS)}.")
        data_shape, classes = _data_shape(args)
        preset = PRESETS[args.preset]
        spec = preset.spec(data_shape, classes) if data_shape else preset.spec()
        return spec, preset.title
    path = Path(args.spec)
    try:
        if path.stat().st_size > MAX_JSON_BYTES:
            raise UserError(f"The spec file {path} is larger than the {MAX_JSON_BYTES:,} bytes a spec can need.")
        with path.open("rb") as file:
            data = file.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        raise UserError(f"The spec file {path} does not exist.") from None
    except OSError as err:
        raise UserError(f"The spec file {path} cannot be read: {err.strerror or err}.") from None
    try:
        spec = load_json(data, what=f"spec file {path}")
    except InvalidInput as err:
        raise UserError(str(err)) from None
    problems = structure_problems(spec)
    if problems:
        raise UserError(
            f"The spec file {path} is not a model description:\n- " + "\n- ".join(p.text() for p in problems)
        )
    return spec, path.stem


def _add_model_source(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--preset", help=f"one of {', '.join(PRESETS)}")
    group.add_argument("--spec", metavar="FILE", help="a JSON architecture spec")


def _data_shape(args) -> tuple[tuple | None, int | None]:
    name = getattr(args, "dataset", None)
    if not name:
        return None, None
    try:
        data = load_dataset(name)
    except DatasetUnavailable as err:
        raise UserError(str(err)) from None
    return data.input_shape, data.num_classes


def _dataset_name(value: str) -> str:
    """--dataset: a built-in data set or the name an import gave (whether it exists is checked on loading)."""
    from core.data.user_datasets import is_user_dataset

    if value in DATASETS or is_user_dataset(value):
        return value
    raise argparse.ArgumentTypeError(
        f"unknown data set {value!r}: choose one of {', '.join(DATASETS)}, or an imported data set's name (own-…)"
    )


def cmd_presets(args) -> int:
    for preset in PRESETS.values():
        analysis = analyze(preset.spec())
        hp = preset.seed_hyperparameters
        print(f"{preset.name:8} {analysis.total_params:>9,} params  {preset.title}")
        origin = "notebook" if preset.from_notebook else "suggested"
        print(f"{'':8} {origin}: {hp.optimizer}, {hp.epochs} epochs, batch {hp.batch_size}.  {preset.description}")
    return 0


def cmd_datasets(args) -> int:
    for info in DATASETS.values():
        print(f"{info.name:14} {info.title}: {info.description}")
    return 0


def summary_table(spec: dict, data_shape=None, num_classes=None) -> str:
    """A Keras-like summary: layer, output shape, params, and the totals."""
    analysis = analyze(spec, data_shape, num_classes)
    rows = [
        (f"{r.name} ({r.type})", format_shape(r.output_shape), "—" if r.params is None else f"{r.params:,}")
        for r in analysis.layers
    ]
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(("Layer (type)", "Output Shape", "Param #"))
    ]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [line.format("Layer (type)", "Output Shape", "Param #"), "-" * (sum(widths) + 4)]
    out += [line.format(*row) for row in rows]
    out += ["-" * (sum(widths) + 4), f"Total params: {analysis.total_params:,}"]
    out += [f"Problem: {p.text()}" for p in analysis.problems]
    return "\n".join(out)


def cmd_summary(args) -> int:
    spec, _ = _read_spec(args)
    data_shape, classes = _data_shape(args)
    print(summary_table(spec, data_shape, classes))
    return 2 if spec_problems(spec) else 0  # a malformed layer; a model that merely does not fit is 0


def cmd_validate(args) -> int:
    spec, _ = _read_spec(args)
    data_shape, classes = _data_shape(args)
    analysis = analyze(spec, data_shape, classes, param_budget=args.param_budget)
    if analysis.ok:
        print(f"Valid: {len(analysis.layers)} layers, {analysis.total_params:,} params.")
        return 0
    print(f"The model has {len(analysis.problems)} problem(s):", file=sys.stderr)
    for problem in analysis.problems:
        print(f"- {problem.text()}", file=sys.stderr)
    return 2


def cmd_export(args) -> int:
    from core.training.codegen import training_script

    spec, title = _read_spec(args)
    hp = _hyperparameters(args)
    data_shape, classes = _data_shape(args)
    analysis = analyze(spec, data_shape, classes)
    if not analysis.ok:
        raise UserError(
            "The model cannot be exported until it is valid:\n- " + "\n- ".join(p.text() for p in analysis.problems)
        )
    try:
        script = training_script(spec, args.dataset, hp, title)
    except ValueError as err:  # InvalidInput, or a data set no standalone script can load
        raise UserError(str(err)) from None
    if args.out:
        Path(args.out).write_text(script)
        print(f"Wrote {args.out}", file=sys.stderr)
    else:
        print(script)
    return 0


def _hyperparameters(args) -> Hyperparameters:
    """The preset's training settings for --dataset, as the app sets them for a set of its size (or the
    defaults), with the ones given on the command line."""
    preset = PRESETS.get(args.preset) if args.preset else None
    base = defaults_for_dataset(preset, args.dataset) if preset else Hyperparameters()
    chosen = {f.name: getattr(args, f.name) for f in CLI_FIELDS if getattr(args, f.name, None) is not None}
    if "optimizer" in chosen and "learning_rate" not in chosen:
        chosen["learning_rate"] = None  # the chosen optimizer's own default
    hp = Hyperparameters.from_dict({**base.to_dict(), **chosen})
    problems = hp.problems()
    if problems:
        raise UserError(" ".join(problems))
    return hp


def _manager(args):
    """A run manager on the store of --home (else the default store), training in threads of this process."""
    from core.runs.manager import RunManager
    from core.runs.store import RunStore

    return RunManager(RunStore(args.home) if args.home else RunStore())


def _bar(fraction: float, width: int = 30) -> str:
    filled = int(width * min(max(fraction, 0.0), 1.0))
    return f"[{'#' * filled}{'.' * (width - filled)}]"


def _progress_line(run) -> str:
    p = run.progress()
    last = run.batch_history(max(0, len(run.batch_history()) - 1))
    metrics = ""
    if last:
        acc, mae = last[-1].get("accuracy"), last[-1].get("mae")  # mae: a regression's
        metrics = (
            f" loss {last[-1]['loss']:.4f}"
            + (f" acc {acc:.4f}" if acc is not None else "")
            + (f" mae {mae:.4g}" if mae is not None else "")
        )
    eta = f" ETA {p.eta:.0f}s" if p.eta is not None else ""
    if p.phase == "testing":
        eta = " testing"
    epoch = min(p.epoch + 1, p.epochs)
    return (
        f"\r{_bar(p.fraction)} epoch {epoch}/{p.epochs} "
        f"batch {p.batch}/{p.batches_per_epoch}{metrics}{eta} ({p.status})   "
    )


def cmd_train(args) -> int:
    from core.runs.manager import RunRejected

    spec, title = _read_spec(args)
    hp = _hyperparameters(args)
    manager = _manager(args)
    try:
        run = manager.start(spec, args.dataset, hp, owner=_owner(args), name=title)
    except RunRejected as err:
        raise UserError("The run cannot start:\n- " + "\n- ".join(err.problems)) from None
    try:
        while not run.wait(0.25):
            print(_progress_line(run), end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        run.request_stop()
        run.wait()
    print(_progress_line(run), file=sys.stderr)
    results = run.results or {}
    report = {
        "run_id": run.id,
        "status": run.status,
        "message": run.message,
        "dataset": run.dataset,
        "params": run.params,
        "hyperparameters": hp.to_dict(),
        "spec": spec,
        "history": run.epoch_history(),
        "test_accuracy": results.get("test_accuracy"),
        "test_loss": results.get("test_loss"),
        "results": results,
    }
    Path(args.out).write_text(json.dumps(report, indent=2))
    if run.message:
        print(run.message, file=sys.stderr)
    if results and run.task.is_regression:
        print(f"Test MAE {results['test_mae']:.4g}, RMSE {results['test_rmse']:.4g}; wrote {args.out}", file=sys.stderr)
    elif results:
        print(
            f"Test accuracy {results['test_accuracy']:.4f}, test loss {results['test_loss']:.4f}; wrote {args.out}",
            file=sys.stderr,
        )
    return 1 if run.status == "failed" else 0


def _experiment_progress(done: int, total: int, runs: dict) -> str:
    training = sum(1 for run in runs.values() if run.status in ("running", "stopping", "paused"))
    waiting = total - done - training  # queued, or not yet fed into the queue
    return (
        f"\r{_bar(done / total if total else 1.0)} {done}/{total} runs done, {training} training, {waiting} waiting   "
    )


def cmd_experiment(args) -> int:
    from core.experiments.engine import start_experiment, wait_for_experiment
    from core.experiments.estimate import estimate_plan, measured_speeds
    from core.experiments.factors import FactorError, parse_factor
    from core.experiments.plan import manager_check, plan_experiment

    spec, title = _read_spec(args)
    hp = _hyperparameters(args)
    manager = _manager(args)
    try:
        factors = [parse_factor(text, spec) for text in args.vary]
        plan = plan_experiment(
            spec,
            hp,
            args.dataset,
            factors,
            check=manager_check(manager, args.dataset),
            mode="random" if args.random else "grid",
            sample=args.random,
            repeats=args.repeats,
        )
    except FactorError as err:
        raise UserError(str(err)) from None
    for variant in plan.broken:
        print(
            f"Variant {variant.index} ({variant.describe(plan.factors)}) breaks a limit and is left out: "
            + " ".join(variant.problems),
            file=sys.stderr,
        )
    if not plan.runnable:
        raise UserError("No variant of this experiment can train: see the reasons above.")
    size = len(load_dataset(args.dataset).x_train)
    speeds = measured_speeds(manager.store, args.dataset, size)
    estimate = estimate_plan(plan.runnable, size, speeds, manager.runner.slots)
    print(
        f"{len(plan.runnable)} runs; estimated time: "
        + (estimate.text() if estimate else "unknown (no past runs on this data set to measure from)"),
        file=sys.stderr,
    )
    experiment = start_experiment(
        manager,
        plan,
        owner="cli",
        name=f"{title}: " + ", ".join(f.key for f in factors),
        estimate_seconds=estimate.wall_seconds if estimate else None,
    )
    began = time.time()

    def progress(done, total, runs):
        print(_experiment_progress(done, total, runs), end="", file=sys.stderr, flush=True)

    try:
        table = wait_for_experiment(manager, experiment, on_progress=progress)
    except KeyboardInterrupt:
        from core.experiments.engine import stop_experiment

        stop_experiment(manager, experiment)
        table = wait_for_experiment(manager, experiment)
    print(file=sys.stderr)
    table.to_csv(args.out, index=False)
    failed = table[table["status"] == "failed"]
    for _, row in failed.iterrows():
        print(f"Variant {row['variant']} failed (run {row['run_id']}).", file=sys.stderr)
    print(
        f"Experiment {experiment.id}: {len(experiment.run_ids)} runs in {time.time() - began:.0f} s; wrote {args.out}",
        file=sys.stderr,
    )
    return 1 if len(failed) else 0


def cmd_lr_find(args) -> int:
    from core.training.lr_finder import lr_range_test

    spec, _ = _read_spec(args)
    hp = _hyperparameters(args)
    from core.model.spec import analyze_for

    try:
        data = load_dataset(args.dataset)
    except DatasetUnavailable as err:
        raise UserError(str(err)) from None
    problems = [p.text() for p in analyze_for(spec, data).problems]
    if problems:
        raise UserError("The model cannot be trained:\n- " + "\n- ".join(problems))
    print(
        f"Range test: learning rate from 1e-5 to 1 over up to {args.steps} batches of {hp.batch_size}…", file=sys.stderr
    )
    finding = lr_range_test(spec, args.dataset, hp, steps=args.steps)
    print(f"{len(finding.losses)} batches in {finding.seconds:.1f} s.", file=sys.stderr)
    print(finding.reason)
    if finding.suggestion is None:
        return 1
    print(f"Suggested learning rate: {finding.suggestion:g}")
    return 0


def cmd_bundle(args) -> int:
    from core.export import build_bundle, bundle_folder
    from core.runs.store import RunStore

    store = RunStore(args.home) if args.home else RunStore()
    run = store.load(args.run_id)
    if run is None:
        raise UserError(f"There is no run {args.run_id!r} in {store.home} (list them with: python -m core runs).")
    out = Path(args.out or f"{bundle_folder(run)}.zip")
    bundle = build_bundle(run, store)
    out.write_bytes(bundle.content)
    print(f"Wrote {out}", file=sys.stderr)
    if bundle.no_phone_files:  # the rest of the bundle is fine: a warning, not a failure
        print(f"Warning: the bundle has no .tflite files: {bundle.no_phone_files}", file=sys.stderr)
    return 0


def cmd_notebook(args) -> int:
    """The run as a Jupyter notebook. A data set imported in the app travels as a data file: beside the
    .ipynb (same folder), or with it in the zip when --out ends in .zip."""
    from core.notebook import NotebookUnavailable, run_notebook
    from core.runs.store import RunStore

    store = RunStore(args.home) if args.home else RunStore()
    run = store.load(args.run_id)
    if run is None:
        raise UserError(f"There is no run {args.run_id!r} in {store.home} (list them with: python -m core runs).")
    try:
        notebook = run_notebook(run)
    except NotebookUnavailable as err:
        raise UserError(str(err)) from None
    out = Path(args.out or notebook.filename)
    if out.suffix == ".zip":
        out.write_bytes(notebook.zip_bytes())
        print(f"Wrote {out}", file=sys.stderr)
        return 0
    if out.suffix != ".ipynb":
        raise UserError(f"--out must end in .ipynb (the notebook, its data file beside it) or .zip, not {out.name!r}.")
    out.write_text(notebook.text)
    if notebook.data is not None:
        data_path = out.parent / notebook.data_filename
        data_path.write_bytes(notebook.data)
        print(f"Wrote {out} and its data file {data_path} (keep them in one folder)", file=sys.stderr)
    else:
        print(f"Wrote {out}", file=sys.stderr)
    return 0


def cmd_import_images(args) -> int:
    from core.config import SettingsError
    from core.data.image_import import ImageImportError, ImportLimits, import_image_folders
    from core.data.user_datasets import UserDatasetStore

    try:
        limits = ImportLimits.from_env()
    except SettingsError as err:
        raise UserError(str(err)) from None
    store = UserDatasetStore(args.home)
    try:
        name, report = import_image_folders(
            args.archive,
            title=args.name,
            owner=args.owner,
            store=store,
            size=args.size,
            grey=COLOUR_CHOICES[args.colour],
            limits=limits,
        )
    except ImageImportError as err:
        report = getattr(err, "report", None)
        if report is not None and (report.skipped or report.classes or report.left_out_classes):
            print(report.text(), file=sys.stderr)
        raise UserError(str(err)) from None
    print(report.text())
    print(f"Imported as data set {name} ({args.name.strip()!r}, owner {args.owner}) in {store.dir}.")
    return 0


_OWNER = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _owner(args) -> str:
    if _OWNER.fullmatch(args.owner or "") is None:
        raise UserError(
            f"{args.owner!r} is not a user id: use the value of the cnn_playground_user cookie of that browser "
            "(or its recovery code without the dashes)."
        )
    return args.owner


def cmd_work_save(args) -> int:
    from core.data.user_datasets import UserDatasetStore
    from core.runs.store import RunStore
    from core.work import WorkFileError, save_work

    owner = _owner(args)
    store = RunStore(args.home) if args.home else RunStore()
    try:
        saved = save_work(store, UserDatasetStore(store.home), owner, include_datasets=args.with_datasets)
    except WorkFileError as err:
        raise UserError(str(err)) from None
    Path(args.out).write_bytes(saved.data)
    print(f"{saved.text()} Wrote {args.out}", file=sys.stderr)
    return 0


def cmd_work_open(args) -> int:
    from core.data.user_datasets import UserDatasetStore
    from core.runs.store import RunStore
    from core.work import WorkFileError, open_work

    owner = _owner(args)
    store = RunStore(args.home) if args.home else RunStore()
    try:
        opened = open_work(args.file, store=store, datasets=UserDatasetStore(store.home), owner=owner)
    except WorkFileError as err:
        raise UserError(str(err)) from None
    print(opened.text())
    return 0


def cmd_runs(args) -> int:
    from core.runs.store import RunStore

    store = RunStore(args.home) if args.home else RunStore()
    runs = store.list()
    if not runs:
        print("No runs stored yet.")
    for run in runs:
        acc = f"{run.test_accuracy:.4f}" if run.test_accuracy is not None else "—"
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(run.created))
        print(f"{run.id}  {when}  {run.status:11} {run.dataset:14} {run.params:>9,} params  test acc {acc}  {run.name}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core", description="CNN Playground engine.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("presets", help="list the preset models").set_defaults(func=cmd_presets)
    sub.add_parser("datasets", help="list the data sets").set_defaults(func=cmd_datasets)

    p = sub.add_parser("summary", help="layer, output shape and params of a model")
    _add_model_source(p)
    p.add_argument("--dataset", choices=list(DATASETS), help="check against this data set's shape and classes")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("validate", help="check a spec; exit 2 with its problems")
    _add_model_source(p)
    p.add_argument("--dataset", choices=list(DATASETS), help="check against this data set's shape and classes")
    p.add_argument(
        "--param-budget",
        type=int,
        default=DEFAULT_PARAM_BUDGET,
        help=f"most parameters allowed (default {DEFAULT_PARAM_BUDGET:,})",
    )
    p.set_defaults(func=cmd_validate)

    def add_hyperparameters(p):
        p.add_argument(
            "--dataset",
            type=_dataset_name,
            default="fashion_mnist",
            metavar="NAME",
            help=f"{', '.join(DATASETS)}, or an imported data set's name (own-…, as import-images prints it; "
            "looked for in $CNN_PLAYGROUND_HOME) (default: fashion_mnist)",
        )
        for f in CLI_FIELDS:  # one --flag per training setting of the field table
            p.add_argument(
                "--" + f.name.replace("_", "-"),
                type=None if f.kind is str else f.kind,
                choices=list(f.choices) or None,
                help=f.help.replace("%", "%%"),
            )

    p = sub.add_parser("export", help="print a runnable Keras script that builds and trains the model")
    _add_model_source(p)
    add_hyperparameters(p)
    p.add_argument("--out", metavar="FILE.py", help="write the script here instead of printing it")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("train", help="train a model with a progress bar and write the results as JSON")
    _add_model_source(p)
    add_hyperparameters(p)
    p.add_argument("--out", metavar="FILE.json", required=True)
    p.add_argument("--home", help="run store folder (default: $CNN_PLAYGROUND_HOME or the user data dir)")
    p.add_argument(
        "--owner",
        default="cli",
        help="whose run it is (an imported data set trains only as its owner's): the value of the "
        "cnn_playground_user cookie in their browser (default: cli)",
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser(
        "experiment",
        help="train every combination of some factors' values and write one CSV row per variant",
        description="Vary up to three factors: --vary layerN.SETTING=V1,V2 (layerN as numbered on Build, e.g. "
        "layer3.filters=16,32), --vary layerN=keep,remove, --vary addN=none,Dropout (a new layer at position N), "
        "or a training setting: optimizer, learning_rate, batch_size, epochs (e.g. --vary optimizer=adam,sgd).",
    )
    _add_model_source(p)
    add_hyperparameters(p)
    p.add_argument("--vary", action="append", required=True, metavar="KEY=V1,V2", help="a factor and its values")
    p.add_argument("--random", type=int, metavar="N", help="train a random sample of N combinations, not all")
    p.add_argument("--repeats", type=int, default=1, help="seeds per variant, 1 to 3 (default 1)")
    p.add_argument("--out", metavar="FILE.csv", required=True)
    p.add_argument("--home", help="run store folder (default: $CNN_PLAYGROUND_HOME or the user data dir)")
    p.set_defaults(func=cmd_experiment)

    p = sub.add_parser("lr-find", help="a learning-rate range test on a fresh copy of the model, with a suggestion")
    _add_model_source(p)
    add_hyperparameters(p)
    p.add_argument("--steps", type=int, default=200, help="batches at most (default 200)")
    p.set_defaults(func=cmd_lr_find)

    p = sub.add_parser(
        "bundle",
        help="write a run's zip bundle: training script, model, history, metrics, model card, architecture "
        "picture (SVG, PNG), TensorFlow Lite float32 and int8",
    )
    p.add_argument("run_id")
    p.add_argument("--out", metavar="FILE.zip", help="default: cnn-playground-RUN_ID.zip")
    p.add_argument("--home", help="run store folder (default: $CNN_PLAYGROUND_HOME or the user data dir)")
    p.set_defaults(func=cmd_bundle)

    p = sub.add_parser(
        "notebook",
        help="write a run as a Jupyter notebook (.ipynb) that loads its data, builds, trains and tests its model",
        description="Writes the run's notebook. For a data set imported in the app the notebook reads a data file: "
        "it is written beside the .ipynb, or put with it in a zip when --out ends in .zip.",
    )
    p.add_argument("run_id")
    p.add_argument("--out", metavar="FILE.ipynb|FILE.zip", help="default: cnn-playground-RUN_ID.ipynb")
    p.add_argument("--home", help="run store folder (default: $CNN_PLAYGROUND_HOME or the user data dir)")
    p.set_defaults(func=cmd_notebook)

    p = sub.add_parser("import-images", help="import a zip of image folders (one per class) as a data set")
    p.add_argument("archive", metavar="ARCHIVE.zip")
    p.add_argument("--name", required=True, help="the data set's name, as the app shows it")
    p.add_argument(
        "--size",
        type=int,
        choices=IMAGE_SIZES,
        default=DEFAULT_IMAGE_SIZE,
        help=f"pixels per side (default {DEFAULT_IMAGE_SIZE})",
    )
    colour = p.add_mutually_exclusive_group()
    colour.add_argument(
        "--colour",
        choices=list(COLOUR_CHOICES),
        default=DEFAULT_COLOUR,
        help=f"store the images grey, in colour, or grey exactly when every image is grey (default {DEFAULT_COLOUR})",
    )
    colour.add_argument("--grey", dest="colour", action="store_const", const="grey", help="the same as --colour grey")
    p.add_argument(
        "--owner",
        default="cli",
        help="the app user who may use it: the value of the cnn_playground_user cookie in their browser (default: cli)",
    )
    p.add_argument("--home", help="store folder (default: $CNN_PLAYGROUND_HOME or the user data dir)")
    p.set_defaults(func=cmd_import_images)

    owner_help = "the app user: the value of the cnn_playground_user cookie in their browser"
    work = sub.add_parser("work", help="save or open a file of work: one user's runs (and data sets) as one zip")
    work_sub = work.add_subparsers(dest="work_command", required=True, metavar="ACTION")
    p = work_sub.add_parser("save", help="write a user's ended runs (models, histories, results) into one zip")
    p.add_argument("--owner", required=True, help=owner_help)
    p.add_argument("--out", metavar="FILE.zip", required=True)
    p.add_argument("--with-datasets", action="store_true", help="include the user's imported data sets")
    p.add_argument("--home", help="store folder (default: $CNN_PLAYGROUND_HOME or the user data dir)")
    p.set_defaults(func=cmd_work_save)
    p = work_sub.add_parser("open", help="open a file of work as a user's runs (new ids; nothing else is touched)")
    p.add_argument("file", metavar="FILE.zip")
    p.add_argument("--owner", required=True, help=owner_help)
    p.add_argument("--home", help="store folder (default: $CNN_PLAYGROUND_HOME or the user data dir)")
    p.set_defaults(func=cmd_work_open)

    p = sub.add_parser("runs", help="list the stored runs")
    p.add_argument("--home", help="run store folder (default: $CNN_PLAYGROUND_HOME or the user data dir)")
    p.set_defaults(func=cmd_runs)
    return parser


def main(argv=None) -> int:
    from core.runs.store import StoreError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UserError, StoreError) as err:  # a StoreError: the run store is damaged, read-only or its disk full
        print(f"Error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        plain = disk_problem(err)
        print(f"Error: {plain or err.strerror or err} ({getattr(err, 'filename', '') or ''})", file=sys.stderr)
        return 2
