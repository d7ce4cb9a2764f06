"""AppTest: the Data page's samples from each class — eight training images per class, each named for a screen
reader, the same pictures (the same files) after a rerun that changed something else on the page."""

from helpers import APP, open_page, rerun
from streamlit.testing.v1 import AppTest

from core.data.datasets import load_dataset

PER_CLASS = 8


def sample_lists(at: AppTest) -> list:
    """The page's image lists of one class each (the pixel-by-pixel image is a list of one)."""
    return [e.proto for e in at.get("image") if len(e.proto.imgs) == PER_CLASS]


def test_the_samples_show_eight_named_images_per_class_and_stay_the_same_files_across_reruns():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["_user_id"] = "d1d1d1d1d1d1d1d1"
    rerun(at)
    open_page(at, "data")  # the default data set: Fashion-MNIST's ten classes
    data = load_dataset("fashion_mnist")
    shown = sample_lists(at)
    assert len(shown) == len(data.class_names) == 10
    first = shown[0].imgs[0]
    assert first.alt == f"Training image {int((data.y_train == 0).argmax())}, of the class {data.class_names[0]}"
    urls = [img.url for lst in shown for img in lst.imgs]
    assert len(set(urls)) == 10 * PER_CLASS  # eighty different pictures

    at.number_input(key="pixel_index").set_value(5)  # another image pixel by pixel: the page runs again
    rerun(at)
    assert [img.url for lst in sample_lists(at) for img in lst.imgs] == urls
