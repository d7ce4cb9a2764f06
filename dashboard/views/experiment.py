"""Experiment: many variants of the current model in one click, trained side by side, and what mattered."""

import time

import pandas as pd
import streamlit as st

from core.data.datasets import CLASSIFICATION
from core.experiments.analysis import findings, finished, metric_of
from core.experiments.engine import results_table
from core.experiments.factors import FactorError, format_value, log_spaced, make_factor, parse_value, short_label
from core.experiments.plan import MAX_FACTORS, MAX_RUNS, MAX_SEEDS, plan_experiment
from core.messages import counted
from core.runs.record import Status
from core.timing import format_duration
from core.training.hyperparams import Hyperparameters
from core.training.tasks import TASKS
from dashboard import session
from dashboard.charts.experiments import effects_figure, parallel_coordinates_figure, small_multiples_figure
from dashboard.components.experiments import pareto_views, readable_table
from dashboard.components.labels import STATUS_LABELS
from dashboard.components.number_field import number_field
from dashboard.components.user_text import markdown_literal

POLL_SECONDS = 2.0
NONE = ""


# --- setting one up --------------------------------------------------------------------------------


def pick_values(option, slot: int) -> list:
    """The values of one factor: chips (a multiselect that also takes typed values), or a log-spaced range."""
    key = f"xp_values_{slot}_{option.key}"
    if option.kind == "log":
        low, high, count = st.columns(3)
        start = low.number_input(
            "From", 1e-6, 10.0, float(option.suggested[0]), format="%.6g", key=f"{key}_from", help="The lowest value."
        )
        stop = high.number_input("To", 1e-6, 10.0, float(option.suggested[-1]), format="%.6g", key=f"{key}_to")
        n = count.number_input("Values", 2, 8, len(option.suggested), key=f"{key}_count")
        values = log_spaced(min(start, stop), max(start, stop), int(n))
        st.caption("Log-spaced: " + ", ".join(f"{v:g}" for v in values))
        return values
    if option.kind == "choice":
        return st.multiselect("Values", option.choices, default=list(option.suggested), key=key)
    shown = [format_value(v) for v in option.suggested]
    return st.multiselect(
        "Values",
        shown,
        default=shown,
        key=key,
        accept_new_options=True,
        help="Remove a value with its ×; type a new one and press Enter.",
    )


def chosen_factors(pg) -> list:
    """Up to three factors picked from lists built from the model, each with its values (checked)."""
    options = {o.key: o for o in session.experiments.factor_options()}
    keys = [NONE, *options]
    defaults = session.experiments.default_factors(options)
    factors, columns = [], st.columns(MAX_FACTORS, gap="medium")
    for slot, column in enumerate(columns):
        with column, st.container(border=True):
            key = st.selectbox(
                f"Factor {slot + 1}",
                keys,
                index=keys.index(defaults[slot]) if slot < len(defaults) else 0,
                format_func=lambda k: "— none —" if k == NONE else options[k].label,
                key=f"xp_factor_{slot}",
            )
            if key == NONE:
                continue
            raw = pick_values(options[key], slot)
            try:
                values = [parse_value(key, str(v), pg.spec) if isinstance(v, str) else v for v in raw]
                factors.append(make_factor(key, values, pg.spec))
            except FactorError as error:
                st.error(markdown_literal(error))
                return []
    return factors


def run_settings(hp: Hyperparameters, factors: list) -> tuple[str, int | None, int, Hyperparameters]:
    """How the combinations are picked, seeds, training images and (unless a factor) epochs per run."""
    mode_col, sample_col, seeds_col, subset_col, epochs_col = st.columns(5)
    mode = mode_col.radio(
        "Which combinations",
        ["grid", "random"],
        format_func={"grid": "Every combination (grid)", "random": "A random sample"}.get,
        key="xp_mode",
    )
    sample = None
    if mode == "random":
        sample = int(sample_col.number_input("How many combinations", 1, MAX_RUNS, 4, key="xp_sample"))
    repeats = int(
        seeds_col.selectbox(
            "Seeds per variant",
            list(range(1, MAX_SEEDS + 1)),
            key="xp_repeats",
            help="Train each variant with 2 or 3 seeds to see how much results vary by chance alone, and "
            "whether a difference is larger than that.",
        )
    )
    examples = "images" if session.current_data().is_images else "rows"  # a table's examples are its rows
    limit = subset_col.number_input(
        f"Training {examples} per run (0 = all)",
        0,
        10**7,
        hp.limit_train or 0,
        step=1000,
        key="xp_limit_train",
        help=f"Every variant trains on the same first {examples} and is tested on the same test set.",
    )
    changes = {"limit_train": int(limit) or None}
    if not any(f.key == "epochs" for f in factors):
        with epochs_col:
            changes["epochs"] = number_field(
                "Epochs per run", hp.epochs, key="xp_epochs", help="Every variant trains this many epochs."
            )
    hp = Hyperparameters.from_dict({**hp.to_dict(), **changes})
    return mode, sample, repeats, hp


def learning_rate_caption(plan, hp: Hyperparameters) -> str:
    """What the variants really train with (core's rule for an optimizer factor: see with_optimizer)."""
    text = f"Each run trains {counted(hp.epochs, 'epoch')} at learning rate {plan.learning_rates()}"
    varied = {f.key for f in plan.factors}
    if "optimizer" in varied and "learning_rate" not in varied:
        text += (
            ": your own learning rate, for every optimizer."
            if session.learning_rate_chosen()
            else ": each optimizer's own usual rate, as on Train when you change the optimizer."
        )
    return text + ("" if text.endswith(".") else ".")


def setup_view() -> None:
    pg = session.playground()
    hp = pg.hyperparameters
    analysis = session.analysis()
    st.caption(
        f"Start from the model on **Build** ({analysis.total_params:,} parameters) and the settings on "
        f"**Train** ({hp.optimizer}, batch {hp.batch_size}) on {markdown_literal(session.dataset_title(pg.dataset))}. "
        "Pick up to three things to vary: every variant trains on the same images with the same seed, so only what "
        "you vary differs."
    )
    saved = session.experiments.own_experiments()
    if saved:
        with st.expander(f"Your saved experiments ({len(saved)})"):
            names = {e.id: e for e in saved}
            chosen = st.selectbox(
                "Experiment",
                list(names),
                format_func=lambda i: (
                    f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(names[i].created))} · "
                    f"{names[i].name} · {len(names[i].run_ids)} runs"
                ),
                key="xp_saved",
            )
            if st.button("Open it", key="xp_open_saved", icon=":material/folder_open:"):
                session.experiments.open_experiment(chosen)
                st.rerun()
    factors = chosen_factors(pg)
    mode, sample, repeats, hp = run_settings(hp, factors)
    if not factors:
        st.info("Choose at least one factor with two or more values.")
        return
    try:
        plan = plan_experiment(
            pg.spec,
            hp,
            pg.dataset,
            factors,
            check=session.experiments.check(),
            mode=mode,
            sample=sample,
            repeats=repeats,
            keep_learning_rate=session.learning_rate_chosen(),
        )
    except FactorError as error:
        st.error(markdown_literal(error))
        return
    estimate = session.experiments.estimate(plan)
    runs_col, time_col, broken_col = st.columns(3)
    runs_col.metric("Runs", len(plan.runnable), help="Variants × seeds that will train.")
    time_col.metric(
        "Estimated time",
        format_duration(estimate.wall_seconds, about=True) if estimate else "unknown",
        help=estimate.basis if estimate else "No past run on this data set to measure the speed from yet.",
    )
    broken_col.metric("Break a limit", len(plan.broken), help="These variants are left out.")
    st.caption(learning_rate_caption(plan, hp))
    if estimate:
        st.caption(f"Estimated {estimate.text()}.")
    else:
        st.caption("No run on this data set has finished on this server yet, so the time cannot be estimated.")
    if plan.broken:
        st.warning("These variants break a limit and will not train:", icon=":material/block:")
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Variant": v.index,
                        "Values": v.describe(plan.factors),
                        "Parameters": f"{v.params:,}",
                        "Why": " ".join(v.problems),
                    }
                    for v in plan.broken
                ]
            ),
            hide_index=True,
            width="stretch",
            key="xp_broken",
        )
    if st.button(
        f"Start {len(plan.runnable)} runs",
        key="xp_start",
        type="primary",
        icon=":material/play_arrow:",
        disabled=not plan.runnable,
    ):
        session.experiments.start(plan, estimate.wall_seconds if estimate else None)
        st.rerun()


# --- while it runs, and after ----------------------------------------------------------------------


def curves(experiment, runs: dict) -> list[dict]:
    entries = []
    for variant in experiment.variants:
        run = runs.get(variant.get("run_id"))
        if run is None:
            continue
        title = " · ".join(format_value(variant["values"][f.key]) for f in experiment.factors)
        if len(experiment.seeds) > 1:
            title += f" · seed {variant['seed']}"
        entries.append(
            {
                "title": f"#{variant['index']} {title}",
                "batches": run.batch_history(),
                "epochs": run.epoch_history(),
                "batches_per_epoch": run.batches_per_epoch,
                "status": STATUS_LABELS.get(run.status, run.status).split(" ")[0].lower(),
            }
        )
    return entries


@st.fragment(run_every=POLL_SECONDS)
def live_view(experiment_id: str) -> None:
    experiment = session.experiments.opened_experiment()
    if experiment is None or experiment.id != experiment_id:
        return
    experiment, runs, running = session.experiments.progress(experiment)
    total = sum(1 for v in experiment.variants if v.get("run_id") or v.get("pending"))
    done = sum(1 for r in runs.values() if r.status in Status.ENDED)
    training = sum(1 for r in runs.values() if r.status in (Status.RUNNING, Status.STOPPING, Status.PAUSED))
    waiting = total - done - training
    st.progress(done / max(total, 1), text=f"{done} of {total} runs done, {training} training, {waiting} waiting")
    # The runs of one experiment train on one data set: they share their task (its metric is charted).
    metric = next((r.task for r in runs.values()), TASKS[CLASSIFICATION]).metric
    st.plotly_chart(small_multiples_figure(curves(experiment, runs), metric), key="xp_live")
    if not running:
        st.rerun()  # all ended: draw the results once, which stops the polling


def timing_caption(experiment, runs: dict, table) -> str:
    started = [r.started for r in runs.values() if r.started]
    ended = [r.ended for r in runs.values() if r.ended]
    if not started or not ended:
        return ""
    wall = max(ended) - experiment.created
    own = table["train_seconds"].dropna().sum()
    text = f"Took {format_duration(wall)} from start to end; the runs' own training times add up to {format_duration(own)}."
    if experiment.estimate_seconds:
        text += f" Estimated before the start: {format_duration(experiment.estimate_seconds, about=True)}."
    return text


def results_view(experiment, runs: dict, table) -> None:
    done = finished(table)
    if done.empty:
        st.warning("No run of this experiment has a test result (they were stopped or failed).")
        st.dataframe(readable_table(table, experiment.factors), hide_index=True, width="stretch", key="xp_table")
        return
    metric = metric_of(table)
    sentences = findings(table, experiment.factors)
    st.subheader("What mattered")
    st.markdown("\n".join(f"- {s}" for s in sentences))
    st.caption(timing_caption(experiment, runs, table))
    st.subheader("Pareto view")
    clicked = pareto_views(experiment, table, key=f"xp_pareto_{experiment.id}")
    if session.experiments.new_click(clicked) and session.experiments.open_run(clicked):
        st.switch_page("views/results.py")
    st.caption("Click a point to open that run on Results.")
    best = done.sort_values(metric.column, ascending=not metric.higher_is_better).iloc[0]
    if st.button(
        f"Open the best (#{best['variant']}, {metric.fmt(best[metric.column])}) in Build",
        key="xp_open_best",
        icon=":material/construction:",
    ):
        if session.experiments.open_in_build(best["run_id"]):
            st.switch_page("views/build.py")
    st.subheader("Every variant, from its values to its result")
    st.plotly_chart(parallel_coordinates_figure(table, experiment.factors), key="xp_parallel")
    st.subheader("Effect of each factor")
    st.caption(
        "Each dot is one run; the red diamonds are the mean for each value"
        + (", with the seed spread (standard deviation between seeds)." if len(experiment.seeds) > 1 else ".")
    )
    st.plotly_chart(effects_figure(table, experiment.factors), key="xp_effects")
    st.subheader("All variants")
    st.dataframe(readable_table(table, experiment.factors), hide_index=True, width="stretch", key="xp_table")
    st.download_button(
        "Download all variants (CSV)",
        table.to_csv(index=False).encode(),
        file_name=f"experiment-{experiment.id}.csv",
        mime="text/csv",
        key="xp_csv",
        icon=":material/download:",
        on_click="ignore",
    )


def rejected_frame(experiment) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Variant": v["index"],
                "Values": " · ".join(
                    f"{f.label or short_label(f.key)} {format_value(v['values'][f.key])}" for f in experiment.factors
                ),
                "Why": " ".join(v["problems"]),
            }
            for v in experiment.rejected
        ]
    )


def experiment_view(experiment) -> None:
    experiment, runs, running = session.experiments.progress(experiment)
    table = results_table(experiment, runs)
    st.header(markdown_literal(experiment.name))
    st.caption(
        f"{markdown_literal(session.dataset_title(experiment.dataset))} · {counted(len(experiment.training), 'run')} · "
        + ("every combination" if experiment.mode == "grid" else "a random sample")
        + f" · {'seed' if len(experiment.seeds) == 1 else 'seeds'} {', '.join(map(str, experiment.seeds))}"
        + f" · saved as {experiment.id}"
    )
    new_col, stop_col = st.columns([1, 1])
    if new_col.button("Set up a new experiment", key="xp_new", icon=":material/add:"):
        session.experiments.open_experiment(None)
        st.rerun()
    if running and stop_col.button("Stop all its runs", key="xp_stop", icon=":material/stop:"):
        stopped = session.experiments.stop(experiment)
        st.toast(f"Stopping {stopped} run(s).")
    if experiment.rejected:
        st.warning(
            f"{len(experiment.rejected)} of {len(experiment.variants)} variants broke a limit and did not train:",
            icon=":material/block:",
        )
        st.dataframe(rejected_frame(experiment), hide_index=True, width="stretch", key="xp_rejected")
    if running:
        live_view(experiment.id)
    else:
        results_view(experiment, runs, table)


st.title("Experiment")
opened = session.experiments.opened_experiment()
if opened is None:
    setup_view()
else:
    experiment_view(opened)
