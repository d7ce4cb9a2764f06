"""Predict: the user's own image — uploaded or drawn — through one of their trained networks."""

import numpy as np
import streamlit as st

from core.insight.inspection import predict_probabilities
from dashboard.charts import inspection as charts
from dashboard.components.own_image import drawn_image, show_prepared, uploaded_image
from dashboard.components.regression import not_for_regression
from dashboard.components.trained_models import class_names_or_stop, pick_trained_run, session_model
from dashboard.components.user_text import markdown_literal

SOURCES = {"Upload an image": uploaded_image, "Draw one": drawn_image}

st.title("Predict on your own image")
st.caption("Give a trained network an image it has never seen and see what it thinks it is.")
run = pick_trained_run("predict_run")
if run is None or not_for_regression(run, "Predicting on your own image"):
    st.stop()
class_names = class_names_or_stop(run)
st.caption(f"This network knows {len(class_names)} classes: {', '.join(map(markdown_literal, class_names))}.")
source = st.radio("Your image", list(SOURCES), horizontal=True, key="predict_source")
input_col, seen_col, answer_col = st.columns([1.3, 1, 1.5], gap="large")
with input_col:
    prepared = SOURCES[source](run, "predict")
if prepared is None:
    st.stop()
model = session_model(run)
if model is None:
    st.stop()
probabilities = predict_probabilities(model, prepared.array)
best = int(np.argmax(probabilities))
with seen_col:
    st.header("As the network sees it")
    show_prepared(prepared)
with answer_col:
    st.header("Its answer")
    st.metric(
        "Prediction",
        markdown_literal(class_names[best]),
        f"{100 * probabilities[best]:.1f} % sure",
        delta_color="off",
        delta_arrow="off",
    )
    st.plotly_chart(charts.probability_figure(probabilities, class_names), key="predict_probs")
    st.caption(
        "The network's probability for each class (they add up to 100 %). It can only choose among the "
        "classes it was trained on, so an image of something else still gets one of them."
    )
