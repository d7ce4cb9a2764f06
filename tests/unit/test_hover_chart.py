"""The hover chart (dashboard/components/hover_chart.py): the map's figure, unchanged, with a small thumbnail
per dot and the words its card shows, in a payload of bounded size; Plotly.js from the plotly package; the
ring of the dot opened sent apart, as a small overlay."""

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from core.data.datasets import make_shapes
from core.insight.embedding_map import EmbeddingMap
from dashboard.charts.embedding_map import RING_NAME, embedding_figure, selected_ring
from dashboard.components.hover_chart import (
    PLOTLY_JS_DIR,
    THUMBNAIL_PIXELS,
    Card,
    overlay_payload,
    payload,
    thumbnail_url,
)

HOSTILE = '<img src=x onerror=alert(1)> **cat** & "co"'


def decoded(url: str) -> tuple[str, Image.Image]:
    head, _, body = url.partition(",")
    assert head.startswith("data:image/") and head.endswith(";base64")
    picture = Image.open(io.BytesIO(base64.b64decode(body)))
    picture.load()
    return head[len("data:image/") : -len(";base64")], picture


def test_a_grey_thumbnail_is_a_small_4_bit_png_of_the_image():
    image = np.zeros((28, 28, 1), np.uint8)
    image[7:21, 7:21] = 255  # a white square on black
    kind, picture = decoded(thumbnail_url(image))
    assert kind == "png" and picture.size == (28, 28) and picture.mode == "P"
    grey = np.asarray(picture.convert("L"))
    assert grey[14, 14] == 255 and grey[0, 0] == 0  # the square, still white on black


def test_a_bigger_colour_image_is_shrunk_to_28_pixels_keeping_its_shape_and_colour():
    image = np.zeros((48, 64, 3), np.float32)
    image[..., 0] = 1.0  # red, as 0..1 floats
    kind, picture = decoded(thumbnail_url(image))
    assert kind in {"webp", "jpeg"} and picture.size == (THUMBNAIL_PIXELS, 21)
    red, green, blue = np.asarray(picture.convert("RGB"), dtype=int)[10, 14]
    assert red > 200 and green < 60 and blue < 60


def test_thumbnails_of_noisy_images_stay_under_a_kilobyte_each():
    """2,000 dots (the most a map has) stay near a megabyte of thumbnails: measured on 200 noisy images."""
    grey = make_shapes(200, seed=3)[0]  # noisy drawings: the hard case for compression
    colour = (np.random.default_rng(0).random((200, 32, 32, 3)) * 255).astype(np.uint8)
    assert np.mean([len(thumbnail_url(i)) for i in grey]) < 700
    assert np.mean([len(thumbnail_url(i)) for i in colour]) < 1_100


def tiny_map() -> EmbeddingMap:
    return EmbeddingMap(
        "dense",
        "pca",
        np.array([3, 5, 8]),
        np.array([[0, 0], [1, 1], [2, 0]], np.float32),
        np.array([0, 0, 1]),
        np.array([0, 1, 1]),
        np.array([0.9, 0.6, 0.8], np.float32),
        (0.4, 0.2),
    )


def test_the_payload_is_the_same_figure_with_a_card_per_dot_and_names_kept_literal():
    figure = embedding_figure(tiny_map(), [HOSTILE, "dog"])
    cards = [
        Card((f"#{i} · class: {HOSTILE}",), src="data:image/png;base64,AA==", alt=f"Test image #{i}") for i in (3, 5, 8)
    ]
    given = payload(figure, cards, revision="map_x_chart")
    assert given["figure"] == json.loads(figure.to_json())  # the figure function's own figure, not a second one
    assert len(given["cards"]) == 3 and given["cards"][1] == {
        "lines": [f"#5 · class: {HOSTILE}"],  # as typed: the script shows it with textContent
        "src": "data:image/png;base64,AA==",
        "alt": "Test image #5",
    }
    positions = sorted({row[0] for trace in given["figure"]["data"] for row in trace.get("customdata") or []})
    assert positions == [0, 1, 2]  # every dot names its card
    assert given["plotly"].endswith("/plotly.min.js") and (PLOTLY_JS_DIR / "plotly.min.js").is_file()
    json.dumps(given)  # what Streamlit sends: plain JSON


def test_the_ring_of_the_dot_opened_is_a_small_overlay_apart_from_the_figure():
    found = tiny_map()
    figure = embedding_figure(found, [HOSTILE, "dog"])
    assert embedding_figure(found, [HOSTILE, "dog"], selected=1).data[:-1] == figure.data  # only the ring added
    assert all(t.name != RING_NAME for t in figure.data)
    (ring,) = selected_ring(found, 1)
    given = overlay_payload("map_x_chart", [ring])
    assert given["chart"] == "map_x_chart" and given["traces"][0]["name"] == RING_NAME
    assert [given["traces"][0]["x"][0], given["traces"][0]["y"][0]] == pytest.approx(list(found.coords[1]))
    assert given["traces"][0]["hoverinfo"] == "skip"  # hovering or clicking the ring reaches the dot under it
    assert len(json.dumps(given)) < 500  # what a click sends, instead of the figure and every thumbnail
    assert selected_ring(found, None) == [] and selected_ring(found, len(found)) == []
    assert overlay_payload("map_x_chart", []) == {"chart": "map_x_chart", "traces": []}
