"""Data: choose the data set and look at it — samples per class, class balance, one image's pixels."""
import numpy as np
import streamlit as st

from core.datasets import DATASETS, DatasetUnavailable, load_dataset
from dashboard import charts, state

SAMPLES_PER_CLASS = 8
THUMBNAIL = 84  # pixels: small images are upscaled without smoothing so pixels stay visible


@st.cache_data(show_spinner=False)
def sample_indices(name: str, per_class: int) -> dict[int, list[int]]:
    """The first few training images of each class (stable between reruns)."""
    labels = load_dataset(name).y_train
    return {c: np.flatnonzero(labels == c)[:per_class].tolist() for c in np.unique(labels).tolist()}


def upscale(image: np.ndarray) -> np.ndarray:
    factor = max(1, THUMBNAIL // image.shape[0])
    image = image.repeat(factor, axis=0).repeat(factor, axis=1)
    return image[..., 0] if image.shape[-1] == 1 else image


def choose_dataset() -> None:
    # In the widget's callback, so the sidebar (drawn before the page) already shows the new data set.
    name = st.session_state["dataset_choice"]
    try:
        load_dataset(name)
    except DatasetUnavailable:
        return  # the page explains it
    state.set_dataset(name)
    st.session_state["dataset_switched"] = True


pg = state.playground()
st.title("Look at the data")

names = list(DATASETS)
in_challenge = state.active_challenge() is not None
chosen = st.selectbox("Data set", names, index=names.index(pg.dataset), format_func=state.dataset_title,
                      key="dataset_choice", on_change=choose_dataset, disabled=in_challenge,
                      help="Set by your teacher for this challenge." if in_challenge else
                      "The model's input shape and output layer follow the data set.")
st.caption(DATASETS[chosen].description)
if chosen != pg.dataset:  # the choice could not be loaded: say why, keep the model as it was
    try:
        load_dataset(chosen)
    except DatasetUnavailable as error:
        st.error(str(error), icon=":material/cloud_off:")
        st.info(f"Your model still uses {state.dataset_title(pg.dataset)}. **Shapes (synthetic)** needs no "
                "download.")
        st.stop()
data = load_dataset(pg.dataset)
if st.session_state.pop("dataset_switched", False):
    st.toast(f"Model adapted to {data.title}: input {'×'.join(map(str, data.input_shape))}, "
             f"{data.num_classes} output units.")

c1, c2, c3, c4 = st.columns(4)
c1.metric("Training images", f"{len(data.x_train):,}")
c2.metric("Test images", f"{len(data.x_test):,}")
c3.metric("Image size", "×".join(map(str, data.input_shape)))
c4.metric("Classes", data.num_classes)
st.caption(f"Loaded from: {data.source}")

st.subheader("Samples from each class")
for label, indices in sample_indices(pg.dataset, SAMPLES_PER_CLASS).items():
    name_col, images_col = st.columns([1, 6], vertical_alignment="center")
    name_col.markdown(f"**{data.class_names[label]}**")
    images_col.image([upscale(data.x_train[i]) for i in indices], width=THUMBNAIL)

st.subheader("Class balance")
train_counts = np.bincount(data.y_train, minlength=data.num_classes)
test_counts = np.bincount(data.y_test, minlength=data.num_classes)
st.plotly_chart(charts.class_balance_figure(train_counts, test_counts, data.class_names), key="balance")
if train_counts.max() > 2 * max(train_counts.min(), 1):
    st.warning("Some classes have more than twice as many images as others: accuracy alone can mislead; "
               "check the per-class accuracy on Results.")
else:
    st.caption("The classes are balanced: each has about the same number of images.")

st.subheader("One image, pixel by pixel")
st.caption("This is what the network receives: a grid of numbers from 0 (black) to 255 (white). "
           "Before training they are divided by 255, so every input is between 0 and 1.")
index = st.number_input("Training image number", 0, len(data.x_train) - 1, 0, key="pixel_index")
st.plotly_chart(charts.pixel_heatmap(data.x_train[index],
                                     f"Image {index}: {data.class_names[data.y_train[index]]}"), key="pixels")
