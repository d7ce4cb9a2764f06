"""Build: stack layers, set their parameters, see shapes, params and problems as you go."""

import json

import streamlit as st

from core.messages import counted
from core.model.spec import LAYER_TYPES
from core.training.codegen import snippet
from core.training.presets import presets_for
from dashboard import session
from dashboard.components import sharing
from dashboard.components.augmentation_preview import augmentation_preview
from dashboard.components.diagram import architecture_picture
from dashboard.components.layer_card import layer_card, name_icon_buttons
from dashboard.components.shape_sandbox import shape_sandbox
from dashboard.components.shape_table import show_shape_table
from dashboard.components.user_text import markdown_literal
from dashboard.session import keys


def add_chosen_layer() -> None:
    # Read the choices at click time, not the values bound when the button was drawn.
    session.insert_layer(
        session.widget_value(keys.Build.ADD_LAYER_POSITION), session.widget_value(keys.Build.ADD_LAYER_TYPE)
    )


def preset_caption(fitting: dict, chosen: str, pg) -> str:
    """The chosen preset's description, unless the model in the builder is no longer that preset
    (edited, cloned from a run or opened from a share link): then the description would not be true."""
    preset = fitting[chosen]
    if chosen != pg.preset:
        return f"Load it to start from it: {preset.description}"
    if session.fit_spec_to_data(preset.spec(), pg.dataset)["layers"] == pg.spec["layers"]:
        return preset.description
    return (
        f"Your model started from {preset.title} and has changed since, so that preset's description no "
        "longer fits it. Load the preset to start again from it."
    )


def preset_picker(pg, data) -> None:
    """Preset choice and what the chosen preset is (with its measured accuracy and training time)."""
    fitting = presets_for(data.is_images)  # a table gets Dense-only starting points
    names = list(fitting)
    if session.control("preset") == "hidden":
        return
    preset_locked = session.control("preset") == "locked"
    preset_col, button_col, about_col = st.columns([3, 1, 4], vertical_alignment="bottom")
    chosen = preset_col.selectbox(
        "Preset",
        names,
        index=names.index(pg.preset) if pg.preset in names else 0,
        format_func=lambda n: fitting[n].title,
        key="preset_choice",
        disabled=preset_locked,
    )
    button_col.button(
        "Load preset",
        key="load_preset",
        on_click=session.load_preset,
        args=(chosen,),
        disabled=preset_locked,
        help="Set by your teacher for this challenge."
        if preset_locked
        else "Replace the current layers and training settings with this preset.",
    )
    about_col.caption(preset_caption(fitting, chosen, pg))
    if not data.is_images:
        st.caption(
            "The image presets are not offered: their convolutions and pooling need images, and "
            "this data set is a table."
        )


def add_layer_box(data, layers: list) -> None:
    with st.container(border=True):
        st.markdown("**Add a layer**")
        kinds = [name for name, kind in LAYER_TYPES.items() if data.is_images or not kind.image_only]
        c1, c2 = st.columns(2)
        kind = c1.selectbox(
            "Layer type",
            kinds,
            key=keys.Build.ADD_LAYER_TYPE,
            help="Each type's purpose is shown on its card once added.",
        )
        positions = list(range(len(layers) + 1))
        c2.selectbox(
            "Position",
            positions,
            index=len(positions) - 1 if len(layers) == 0 else max(len(layers) - 1, 0),
            key=keys.Build.ADD_LAYER_POSITION,
            format_func=lambda p: (
                "at the top"
                if p == 0
                else ("at the end" if p == len(layers) else f"after layer {p} ({layers[p - 1]['type']})")
            ),
        )
        st.caption(LAYER_TYPES[kind].summary)
        if not data.is_images:
            st.caption(
                "Convolution, pooling and Flatten layers need images, so a table is offered only the "
                "layers that fit its rows."
            )
        st.button("Add layer", key="add_layer", type="primary", icon=":material/add:", on_click=add_chosen_layer)


def next_step(analysis) -> None:
    """Above the fold: what to do next, with the way there."""
    if not analysis.ok:
        st.error(
            f"{counted(len(analysis.problems), 'problem')} to fix before training: each is explained at its layer "
            "below, with the fix.",
            icon=":material/error:",
        )
        return
    text_col, link_col = st.columns([3, 1], vertical_alignment="center")
    text_col.success(
        f"Ready to train: {analysis.total_params:,} parameters. Change a layer below, or train it as it is.",
        icon=":material/check_circle:",
    )
    link_col.page_link("views/train.py", label="Next: Train", icon=":material/play_circle:")


def model_summary(pg, analysis) -> None:
    st.header("Model summary")
    show_shape_table(analysis, key="build_shapes")
    if analysis.ok:
        st.success("Ready to train — go to **Train**.", icon=":material/check_circle:")
    else:
        st.error(f"{counted(len(analysis.problems), 'problem')} to fix before training:", icon=":material/error:")
        for problem in analysis.problems:
            st.markdown(f"- {markdown_literal(problem.text())}")
    # Lazy expanders: their code is made and sent only while open (highlighted code is many elements).
    code_box = st.expander("Keras code for this model", key="build_code", on_change="rerun")
    if code_box.open:
        try:
            code_box.code(snippet(pg.spec), language="python", wrap_lines=True)
        except ValueError as error:  # a layer or setting Keras does not have: no code is written for it
            code_box.caption(f"The code appears once every layer is valid. {markdown_literal(error)}")
    json_box = st.expander("Architecture as JSON", key="build_json", on_change="rerun")
    if json_box.open:
        with json_box:
            text = json.dumps(pg.spec, indent=2)
            st.code(text, language="json", wrap_lines=True)
            st.download_button(
                "Download spec.json",
                text,
                file_name="spec.json",
                mime="application/json",
                key="download_spec",
                on_click="ignore",
            )
    sharing.share_expander()


# Not a fragment: measured side by side (bench/page_speed.py --baseline), an edit reran no faster in one
# and the sidebar would go stale.
def model_editor() -> None:
    """Layer cards, Add a layer and the summary."""
    pg, data = session.playground(), session.current_data()
    left, right = st.columns([1, 1], gap="large")
    analysis = session.analysis()
    with left:
        data_shape = "×".join(map(str, pg.spec["input_shape"]))
        inputs = f"images of {data_shape}" if data.is_images else f"table rows of {data_shape} numbers"
        st.markdown(
            f"**Input**: {inputs} from {markdown_literal(session.dataset_title(pg.dataset))} (change the data set on the **Data** page)"
        )
        layers = pg.spec["layers"]
        for index, layer in enumerate(layers):
            layer_card(index, layer, analysis, pg.builder_version, len(layers))
        name_icon_buttons()
        if not layers:
            st.info("The model has no layers yet: add some below, ending with a Dense output layer.")
        add_layer_box(data, layers)
    with right:
        model_summary(pg, analysis)
        augmentation_preview(pg.spec, data, pg.dataset)
        st.header("Your network as a picture")
        architecture_picture(pg.spec, "Your network", key="build_diagram")
        if data.is_images:  # kernels and pooling windows slide over images only
            shape_sandbox()


st.title("Build your network")
sharing.build_banner()  # an opened share link, or the run this model is a copy of
st.caption(
    "Start from a preset, then add, remove, move and tune layers. Shapes and parameter counts "
    "update as you edit; problems are explained at the layer that has them."
)
preset_picker(session.playground(), session.current_data())
next_step(session.analysis())
model_editor()
