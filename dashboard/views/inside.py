"""Inside the network: for one image, where the model looked (Grad-CAM), what each layer made of it
(feature maps), how one of its numbers was computed, and the filters it learned."""

import hashlib

import numpy as np
import streamlit as st

from core.data.datasets import load_dataset
from core.data.pixels import as_float_input
from core.insight.inspection import NotInspectable, conv_filters, feature_maps, grad_cam, predict_probabilities
from core.insight.mistakes import PredictionsUnavailable, evaluated_test_count, load_predictions, mistake_indices
from dashboard import session
from dashboard.charts import inspection as charts
from dashboard.components.arithmetic import how_this_number_was_computed
from dashboard.components.own_image import uploaded_image
from dashboard.components.regression import not_for_regression
from dashboard.components.trained_models import class_names_or_stop, pick_trained_run, session_model
from dashboard.components.user_text import markdown_literal

LAYER_WORDS = {
    "Conv2D": "Each square is what one filter found: bright where its pattern appears in the image.",
    "MaxPooling2D": "The maps of the layer above, shrunk by keeping the strongest value in each window.",
    "AveragePooling2D": "The maps of the layer above, shrunk by averaging each window.",
}


class Chosen:
    """The image to look inside with: its pixels (0..1), its true class if known, and where it came from."""

    def __init__(self, image: np.ndarray, true_class: int | None, description: str, notes: str = ""):
        self.image, self.true_class, self.description, self.notes = image, true_class, description, notes


def _test_images(run):
    """The run's test images, as many as it was evaluated on, and its predictions (or None)."""
    data = load_dataset(run.dataset)
    try:
        predictions = load_predictions(session.manager().store, run.id)
    except PredictionsUnavailable:
        predictions = None
    return data, evaluated_test_count(predictions, run.hyperparameters.limit_test, len(data.x_test)), predictions


def from_test_set(run) -> Chosen | None:
    data, count, _ = _test_images(run)
    index = st.number_input(f"Test image number (0 to {count - 1})", 0, count - 1, 0, key=f"inside_index_{run.id}")
    label = int(data.y_test[index])
    return Chosen(
        as_float_input(data.x_test[index]),
        label,
        f"Test image {index}, of the class **{markdown_literal(data.class_names[label])}**.",
    )


def from_mistakes(run) -> Chosen | None:
    data, count, predictions = _test_images(run)
    if predictions is None:
        st.info("This run has no saved test predictions, so its mistakes are unknown: pick a test image instead.")
        return None
    wrong = mistake_indices(predictions).tolist()
    if not wrong:
        st.success("This network got every test image right: there is no mistake to look at.")
        return None
    if (
        st.button("Show another mistake", key="inside_next_mistake", icon=":material/shuffle:")
        or session.shown_mistake(run.id) not in wrong
    ):
        session.show_mistake(run.id, int(np.random.default_rng().choice(wrong)))
    index = session.shown_mistake(run.id)
    true, predicted = int(predictions.y_true[index]), int(predictions.predicted[index])
    return Chosen(
        as_float_input(data.x_test[index]),
        true,
        # Class names are nouns of any kind ("Ankle boot", "squares"): no article that could be wrong.
        f"Test image {index}: of the class **{markdown_literal(data.class_names[true])}**, taken by the network for "
        f"**{markdown_literal(data.class_names[predicted])}** ({len(wrong)} mistakes in {count} test images).",
    )


def from_upload(run) -> Chosen | None:
    prepared = uploaded_image(run, "inside_upload")
    if prepared is None:
        return None
    return Chosen(prepared.array, None, "Your image.", " ".join(prepared.steps))


SOURCES = {"A test image": from_test_set, "A random mistake": from_mistakes, "Your own image": from_upload}


def show_prediction_and_grad_cam(model, chosen: Chosen, class_names) -> None:
    probabilities = predict_probabilities(model, chosen.image)
    predicted = int(np.argmax(probabilities))
    image_col, cam_col, prob_col = st.columns([1, 1.3, 1.3], gap="medium")
    with image_col:
        st.subheader("The image")
        st.image(
            charts.enlarge(chosen.image, 168), caption="What the network receives", alt="The image the network receives"
        )
        st.markdown(chosen.description)
        if chosen.notes:
            st.caption(chosen.notes)
    with prob_col:
        st.subheader("Its answer")
        st.plotly_chart(charts.probability_figure(probabilities, class_names, chosen.true_class), key="inside_probs")
        st.caption(
            f"The network says **{markdown_literal(class_names[predicted])}** with {100 * probabilities[predicted]:.1f} % "
            "certainty. The bars are its probability for every class; they add up to 100 %."
        )
    with cam_col:
        st.subheader("Where it looked")
        options = list(range(len(class_names)))
        image_id = hashlib.md5(chosen.image.tobytes()).hexdigest()[:12]  # a new image starts at its answer
        explained = st.selectbox(
            "Explain the class",
            options,
            index=predicted,
            key=f"inside_cam_class_{image_id}",
            format_func=lambda c: class_names[c] + (" (its answer)" if c == predicted else ""),
        )
        try:
            cam = grad_cam(model, chosen.image, explained)
        except NotInspectable as error:
            st.info(markdown_literal(error))
            return
        st.plotly_chart(charts.grad_cam_figure(chosen.image, cam.heatmap), key="inside_cam")
        if cam.found_evidence:
            st.caption(
                f"Grad-CAM: warm colours mark the parts of the image that pushed the network towards "
                f"**{markdown_literal(class_names[explained])}** in its last convolution layer ({cam.layer}); blue parts "
                "did not count for it."
            )
        else:
            st.caption(
                f"No part of the image speaks for **{markdown_literal(class_names[explained])}**: the network found no "
                "evidence for this class here."
            )


def in_two_columns(items):
    """Each item with the column it goes in: two side by side, row after row."""
    for start in range(0, len(items), 2):
        yield from zip(st.columns(2, gap="large"), items[start : start + 2])


def show_feature_maps(model, image: np.ndarray) -> None:
    st.header("What each layer makes of the image")
    st.caption(
        "Feature maps: every convolution filter produces its own image, bright where it found its "
        "pattern. Early layers react to edges and strokes, later ones to larger parts — and each pooling "
        "layer makes the maps smaller. Only the first channels of each layer are shown."
    )
    maps = feature_maps(model, image)
    if not maps:
        st.info("This model has no convolution or pooling layer, so there are no feature maps to show.")
        return
    for column, layer in in_two_columns(maps):
        with column:
            height, width, channels = layer.shape
            st.markdown(
                f"**{layer.layer}** ({layer.type}) → {height}×{width}, {channels} channels"
                + (f" (first {len(layer.maps)} shown)" if len(layer.maps) < channels else "")
            )
            st.plotly_chart(charts.feature_maps_figure(layer.maps), key=f"inside_maps_{layer.layer}")
            st.caption(LAYER_WORDS.get(layer.type, ""))


def show_filters(model) -> None:
    st.header("The filters it learned")
    st.caption(
        "Each small square is one filter of a convolution layer: the pattern of weights it slides over "
        "its input. Light cells are positive weights, dark ones negative — a filter with a light and a "
        "dark side detects an edge in that direction. Deeper filters look at many channels at once; "
        "here they are shown averaged over those channels."
    )
    grids = conv_filters(model)
    if not grids:
        st.info("This model has no convolution layer, so it has no filters to show.")
        return
    for column, grid in in_two_columns(grids):
        with column:
            height, width = grid.filters.shape[1:]
            shown = f" (first {len(grid.filters)} shown)" if len(grid.filters) < grid.total else ""
            st.markdown(f"**{grid.layer}**: {grid.total} filters of {height}×{width}{shown}")
            st.plotly_chart(charts.filters_figure(grid.filters), key=f"inside_filters_{grid.layer}")


st.title("Inside the network")
st.caption(
    "Look at what your trained network does with one image: where it looked to decide, what each layer "
    "saw, and the patterns it learned."
)
run = pick_trained_run("inside_run")
if run is None or not_for_regression(run, "Inside the network"):
    st.stop()
model = session_model(run)
if model is None:
    st.stop()
class_names = class_names_or_stop(run)
source = st.radio("Image", list(SOURCES), horizontal=True, key="inside_source")
chosen = SOURCES[source](run)
if chosen is None:
    if source == "Your own image":
        st.caption("Upload a picture to see how the network handles it.")
    st.stop()
show_prediction_and_grad_cam(model, chosen, class_names)
show_feature_maps(model, chosen.image)
how_this_number_was_computed(model, chosen.image, class_names)
show_filters(model)
