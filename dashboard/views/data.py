"""Data: choose the data set (built in or your own) and look at it — samples per class, class balance, one
image's pixels — or import or record your own images."""

import time

import numpy as np
import streamlit as st

from core.data.datasets import DATASETS, DatasetUnavailable, load_dataset
from dashboard import session
from dashboard.charts import training as charts
from dashboard.charts.inspection import THUMBNAIL, enlarge, png_bytes
from dashboard.components.csv_import import import_csv_section, show_table
from dashboard.components.image_import import delete_dataset_button, import_images_section, stored_report
from dashboard.components.recording import record_dataset_section
from dashboard.components.user_text import markdown_literal as md
from dashboard.session import keys

SAMPLES_PER_CLASS = 8
CHANNELS = {"red": "Reds", "green": "Greens", "blue": "Blues"}  # a colour channel and its heatmap colours


@st.cache_data(show_spinner=False)
def class_samples(name: str, per_class: int) -> dict[int, list[tuple[int, bytes]]]:
    """The first few training images of each class, with their PNGs (made once, not at every rerun)."""
    data = load_dataset(name)
    labels = data.y_train
    return {
        c: [(i, png_bytes(data.x_train[i])) for i in np.flatnonzero(labels == c)[:per_class].tolist()]
        for c in np.unique(labels).tolist()
    }


def choose_dataset() -> None:
    # In the widget's callback, so the sidebar (drawn before the page) already shows the new data set.
    name = session.widget_value(keys.Data.DATASET_CHOICE)
    try:
        load_dataset(name)
    except DatasetUnavailable as error:
        session.set_unavailable_dataset((name, str(error)))  # the page explains it
        return
    session.set_unavailable_dataset(None)
    session.set_dataset(name)
    session.leave_message(keys.Data.SWITCHED)


def describe(name: str) -> str:
    """The registry's description, or what the user imported and when."""
    if name in DATASETS:
        return DATASETS[name].description
    meta = session.user_datasets().meta(name)
    if meta is None:
        return ""
    when = time.strftime("%d %b %Y, %H:%M", time.localtime(meta["created"]))
    return (
        f"Imported by you on {when}: {meta['train_size']:,} examples to train on and {meta['test_size']:,} "
        "to test. Only you can see and use it."
    )


def show_choice(data) -> str:
    """The data set selectbox (and Delete for your own); returns the name chosen."""
    names = session.dataset_options()
    choice = session.widget_value(keys.Data.DATASET_CHOICE)
    failed = (session.unavailable_dataset() or ("", ""))[0]  # kept chosen, so the page can say why
    if choice not in names or choice not in (data.name, failed):
        session.set_widget_value(
            keys.Data.DATASET_CHOICE, data.name
        )  # the model's (it may have changed on another page)
    in_challenge = session.active_challenge() is not None
    own = data.name not in DATASETS and not in_challenge
    choice_col, delete_col = st.columns([6, 1], vertical_alignment="bottom") if own else (st.container(), None)
    chosen = choice_col.selectbox(
        "Data set",
        names,
        format_func=session.dataset_title,
        key=keys.Data.DATASET_CHOICE,
        on_change=choose_dataset,
        disabled=in_challenge,
        help="Set by your teacher for this challenge."
        if in_challenge
        else "The model's input shape and output layer follow the data set.",
    )
    if own:
        with delete_col:
            delete_dataset_button(data.name)
    st.caption(describe(chosen))
    return chosen


def show_images(data) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Training images", f"{len(data.x_train):,}")
    c2.metric("Test images", f"{len(data.x_test):,}")
    c3.metric("Image size", "×".join(map(str, data.input_shape)))
    c4.metric("Classes", data.num_classes)
    if data.owner and data.owner != session.user_id():
        # A teacher's data set in a challenge: learners train on it and see samples, nothing more
        # (no import report with its file names, no download).
        st.caption("Your teacher's data set for this challenge.")
    else:
        st.caption(f"Loaded from: {md(data.source)}")
        if data.owner:
            stored_report(data.name)

    st.header("Samples from each class")
    for label, samples in class_samples(data.name, SAMPLES_PER_CLASS).items():
        name_col, images_col = st.columns([1, 6], vertical_alignment="center")
        name_col.markdown(f"**{md(data.class_names[label])}**")
        images_col.image(
            [png for _, png in samples],
            width=THUMBNAIL,
            alt=[f"Training image {i}, of the class {data.class_names[label]}" for i, _ in samples],
        )

    st.header("Class balance")
    train_counts = np.bincount(data.y_train, minlength=data.num_classes)
    test_counts = np.bincount(data.y_test, minlength=data.num_classes)
    st.plotly_chart(charts.class_balance_figure(train_counts, test_counts, data.class_names), key="balance")
    if train_counts.max() > 2 * max(train_counts.min(), 1):
        st.warning(
            "Some classes have more than twice as many images as others: accuracy alone can mislead; "
            "check the per-class accuracy on Results."
        )
    else:
        st.caption("The classes are balanced: each has about the same number of images.")

    st.header("One image, pixel by pixel")
    if data.input_shape[-1] == 3:
        show_colour_pixels(data)
    else:
        st.caption(
            "This is what the network receives: a grid of numbers from 0 to 255, one per pixel, drawn "
            "here from white (0) to black (255) as in the original notebook. Before training they are "
            "divided by 255, so every input is between 0 and 1."
        )
        index = st.number_input("Training image number", 0, len(data.x_train) - 1, 0, key="pixel_index")
        st.plotly_chart(
            charts.pixel_heatmap(data.x_train[index], f"Image {index}: {data.class_names[data.y_train[index]]}"),
            key="pixels",
        )


def show_colour_pixels(data) -> None:
    st.caption(
        "A colour image reaches the network as three grids of numbers from 0 to 255, one each for its red, "
        "green and blue light. Before training they are divided by 255, so every input is between 0 and 1."
    )
    image_col, chart_col = st.columns([1, 3])
    index = image_col.number_input("Training image number", 0, len(data.x_train) - 1, 0, key="pixel_index")
    image = data.x_train[index]
    label = data.class_names[data.y_train[index]]
    image_col.image(
        enlarge(image), caption=md(label), width=2 * THUMBNAIL, alt=f"Training image {index}, of the class {label}"
    )
    channel = image_col.segmented_control("Colour channel", list(CHANNELS), default="red", key="pixel_channel") or "red"
    chart_col.plotly_chart(
        charts.pixel_heatmap(
            image,
            f"Image {index}: {label} ({channel} channel)",
            channel=list(CHANNELS).index(channel),
            colorscale=CHANNELS[channel],
        ),
        key="pixels",
    )


pg = session.playground()
st.title("Look at the data")
data = session.current_data()  # before the choice: an imported set deleted elsewhere falls back first
chosen = show_choice(data)
unavailable = session.unavailable_dataset()
if unavailable and unavailable[0] == chosen != pg.dataset:  # say why, keep the model as it was
    st.error(md(unavailable[1]), icon=":material/cloud_off:")
    st.info(f"Your model still uses {md(session.dataset_title(pg.dataset))}. **Shapes (synthetic)** needs no download.")
    st.stop()
if session.take_message(keys.Data.SWITCHED):
    st.toast(
        f"Model adapted to {md(data.title)}: input {'×'.join(map(str, data.input_shape))}, "
        f"{data.output_units} output unit(s)."
    )
if session.active_challenge() is None:
    import_images_section()
    record_dataset_section()
    import_csv_section()
if data.is_images:
    show_images(data)
else:
    show_table(data)
