"""AppTest: augmentation on Build (the 8-image preview, the flip warning), and the map of what a run learned
on Results and Compare."""

from helpers import rerun


def _images(app) -> list:
    """Every image URL st.image put on the page, by the element's captions."""
    return [image for image in app.get("image")]


def add_first_layer(app, kind: str):
    app.selectbox(key="add_layer_type").select(kind)
    app.selectbox(key="add_layer_position").select(0)
    app.button(key="add_layer").click()
    return rerun(app)


def test_adding_augmentation_shows_one_training_image_eight_times(app):
    assert not [s for s in app.subheader if s.value == "Augmentation preview"]
    add_first_layer(app, "RandomRotation")
    assert "Augmentation preview" in [s.value for s in app.subheader]
    grids = [image for image in _images(app) if len(image.value) == 8]
    assert len(grids) == 1, [len(i.value) for i in _images(app)]
