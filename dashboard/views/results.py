"""Results: a run's test accuracy, model summary, history, confusion matrix; past runs to open or delete."""

import time

import pandas as pd
import streamlit as st

from core.data.datasets import CLASSIFICATION, REGRESSION
from core.model.spec import analyze
from core.runs.manager import RunRejected
from core.timing import format_duration
from core.training.evaluation import r2_caution
from core.training.hyperparams import LOSSES
from core.training.target import format_target, reached_text
from core.training.tasks import TASKS, task_of_results
from dashboard import session
from dashboard.charts import training as charts
from dashboard.components import coaching, mistakes, regression, sharing
from dashboard.components.diagram import architecture_picture
from dashboard.components.embedding_map import EXPLANATION, embedding_map_section
from dashboard.components.labels import number, run_label
from dashboard.components.model_export import model_card_section, notebook_download, phone_model_section
from dashboard.components.run_status import run_status
from dashboard.components.shape_table import show_shape_table
from dashboard.components.user_text import markdown_literal
from dashboard.components.your_work import your_work_section
from dashboard.session import keys


def delete_run(run_id: str) -> None:
    try:
        session.delete_run(run_id)
    except RunRejected as rejected:
        session.leave_message(keys.Results.DELETED, " ".join(rejected.problems))
        return
    if session.playground().run_id == run_id:
        session.follow_run(None)
    session.leave_message(keys.Results.DELETED, "Run deleted.")


def runs_table(runs) -> pd.DataFrame:
    """The user's runs; a run's test result in the column of its task, "—" in the other (a blank cell
    would read "None")."""

    def accuracy(r) -> str:
        return "—" if r.test_accuracy is None else f"{100 * r.test_accuracy:.2f}"

    def mae(r) -> str:
        value = TASKS[REGRESSION].headline_value(r.results)
        return number(value)

    read_as = {task_of_results(r.results).name for r in runs if r.results}  # each run's results, by their task
    regressions = REGRESSION in read_as
    classifications = CLASSIFICATION in read_as or not regressions
    return pd.DataFrame(
        [
            {
                "Run": r.id,
                "Started": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)),
                "Name": r.name,
                "Data set": session.dataset_title(r.dataset),
                "Status": r.status,
                "Params": f"{r.params:,}",
                "Epochs": r.epoch,
                **({"Test accuracy (%)": accuracy(r)} if classifications else {}),
                **({"Test MAE": mae(r)} if regressions else {}),
            }
            for r in runs
        ]
    )


st.title("Results")
if message := session.take_message(keys.Results.DELETED):
    st.toast(markdown_literal(message))
runs = session.own_runs()
if not runs:
    st.info(
        "No runs yet: build a model and press **Train**. Your finished runs are listed here. Runs from "
        "another browser or server: open your file of work or use your recovery code below."
    )
    your_work_section()
    st.stop()

followed = session.followed_run()
ids = [r.id for r in runs]
by_id = {r.id: r for r in runs}
default = ids.index(followed.id) if followed is not None and followed.id in ids else 0
chosen = st.selectbox("Run", ids, index=default, format_func=lambda i: run_label(by_id[i]), key="results_run")
if followed is None or chosen != followed.id:
    session.follow_run(chosen)
run = session.own_run(chosen)

run_status(run)
results = run.results or {}
hp = run.hyperparameters
is_regression = run.task.is_regression
racing = not is_regression and hp.target_accuracy is not None  # a race to a target accuracy
columns = st.columns(5 if is_regression or racing else 4)
if is_regression:  # test MAE, RMSE and R²
    regression.test_metrics(columns[:3], results)
else:
    columns[0].metric("Test accuracy", f"{100 * results['test_accuracy']:.2f} %" if results else "—")
    columns[1].metric("Test loss", f"{results['test_loss']:.4f}" if results else "—")
    if racing:
        reached = results.get("target_reached")
        columns[2].metric(
            f"Time to {format_target(hp.target_accuracy)}",
            reached_text(reached).capitalize() if reached else "Not reached",
            help="Training time (validation included) until the validation accuracy first reached the target; "
            "the run stopped there.",
        )
if is_regression and (caution := r2_caution(results)):
    st.warning(caution, icon=":material/warning:")
columns[-2].metric("Parameters", f"{run.params:,}")
columns[-1].metric("Training time", format_duration(results.get("train_seconds")))
sharing.run_actions(run)  # Clone and edit; download the run as a zip bundle

summary_col, settings_col = st.columns([3, 2], gap="large")
with summary_col:
    st.header("Model summary")
    show_shape_table(analyze(run.spec, task=run.task.name), key="results_shapes")
with settings_col:
    st.header("Settings used")
    settings = {
        "Data set": session.dataset_title(run.dataset),
        "Optimizer": hp.optimizer,
        "Learning rate": f"{hp.effective_learning_rate:g}",
        "Epochs": run.epoch if run.epoch == hp.epochs else f"{run.epoch} of {hp.epochs} planned",
        "Batch size": hp.batch_size,
        "Learning-rate schedule": hp.learning_rate_schedule,
        "Validation split": hp.validation_split,
        "Seed": hp.seed,
        f"Training {'rows' if is_regression else 'images'}": f"{results['train_examples']:,}"
        if results.get("train_examples")
        else hp.limit_train or "all",
    }
    if is_regression:
        settings["Loss"] = LOSSES[hp.loss].title if hp.loss in LOSSES else hp.loss
    else:
        settings["Label smoothing"] = hp.label_smoothing or "off"
        settings["Target accuracy"] = format_target(hp.target_accuracy) if racing else "off"
    st.dataframe(
        pd.DataFrame({"Setting": settings.keys(), "Value": [str(v) for v in settings.values()]}),
        hide_index=True,
        width="stretch",
        key="results_settings",
    )
    model_file = session.manager().store.model_path(run.id)
    if model_file.exists():
        st.download_button(
            "Download the trained model (.keras)",
            model_file.read_bytes(),
            file_name=f"cnn-playground-{run.id}.keras",
            mime="application/octet-stream",
            key="download_model",
            icon=":material/download:",
            on_click="ignore",
        )
    notebook_download(run)  # the lesson's steps for this run, as a Jupyter notebook

picture_box = st.expander(
    "The architecture as a picture", icon=":material/account_tree:", key="results_picture_open", on_change="rerun"
)
if picture_box.open:  # lazy: drawn for whoever opens it, not at every rerun of the page
    with picture_box:
        architecture_picture(
            run.spec, run.name or f"Run {run.id}", key="results_diagram", file_stem=f"architecture-{run.id}"
        )
if not run.active:
    model_card_section(run)

st.header(f"{run.task.metric_title} and loss during training")
coaching.coached_history(run, key="results_history")  # the chart, marked, with what the curves say

if results and is_regression:
    regression.results_section(run, results)  # predicted against actual, residuals; no confusion matrix
elif results:
    names = results["class_names"]
    st.header("Confusion matrix")
    st.caption(
        "Each row is the true class, each column what the network predicted: the diagonal holds the "
        "correct answers, everything else shows which classes it mixes up."
    )
    mistakes.confusion_matrix_section(run, results)  # clickable: shows the images of a cell
    st.header("Accuracy per class")
    st.plotly_chart(charts.per_class_accuracy_figure(results["per_class_accuracy"], names), key="per_class")

if results and not run.active:
    # Lazy: the map needs the model (TensorFlow) the first time, so it is made only once opened.
    map_box = st.expander(
        "A map of what the network learned", key="results_map", on_change="rerun", icon=":material/scatter_plot:"
    )
    if map_box.open:
        with map_box:
            st.caption(EXPLANATION)
            embedding_map_section(run, key=f"map_{run.id}")
    phone_model_section(run)

st.divider()
st.header("All your runs")
st.dataframe(runs_table(runs), hide_index=True, width="stretch", key="runs_table")
st.button(
    "Delete the selected run",
    key="delete_run",
    icon=":material/delete:",
    disabled=run.active,
    on_click=delete_run,
    args=(run.id,),
    help="Stop it first if it is still training." if run.active else "Removes the run and its saved model.",
)
your_work_section()
