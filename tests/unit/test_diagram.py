"""The architecture picture: drawn for every preset and for tables, as SVG and PNG, sized by the shapes."""

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from core.model.diagram import Polygon, Text, build_diagram, to_png, to_svg
from core.training.presets import PRESETS, TABLE_PRESETS


def texts(diagram) -> list[str]:
    return [item.text for item in diagram.items if isinstance(item, Text)]


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_image_preset_is_drawn_with_its_shapes(name):
    spec = PRESETS[name].spec()
    diagram = build_diagram(spec, name)
    assert diagram.blocks[0] == "Input 28×28×1"
    assert diagram.blocks[-1] == "Dense 10 10 values"
    svg = to_svg(diagram)
    root = ET.fromstring(svg)  # well-formed XML
    assert root.tag.endswith("svg") and float(root.get("width")) == pytest.approx(diagram.width, abs=1)
    png = Image.open(io.BytesIO(to_png(diagram)))
    assert png.size == (pytest.approx(2 * diagram.width, abs=2), pytest.approx(2 * diagram.height, abs=2))


def test_model1_blocks_follow_the_model_summary():
    diagram = build_diagram(PRESETS["model1"].spec())
    assert diagram.blocks == [
        "Input 28×28×1",
        "Conv 16 × 3×3 26×26×16",
        "Max pool 2×2 13×13×16",
        "Conv 32 × 3×3 11×11×32",
        "Max pool 2×2 5×5×32",
        "Flatten 800 values",
        "Dense 128 128 values",
        "Dense 10 10 values",
    ]


def test_block_height_follows_the_map_size_and_dropout_is_a_tag():
    diagram = build_diagram(PRESETS["model2"].spec())
    fronts = [item for item in diagram.items if isinstance(item, Polygon) and len(item.points) == 4]
    heights = [max(y for _, y in p.points) - min(y for _, y in p.points) for p in fronts]
    assert max(heights) > 2 * min(heights)
    assert "+ Dropout 0.25" in texts(diagram)
    assert not any(b.startswith("Dropout") for b in diagram.blocks)


@pytest.mark.parametrize("name", list(TABLE_PRESETS))
def test_tabular_models_are_bars(name):
    diagram = build_diagram(TABLE_PRESETS[name].spec((8,), 1))
    assert diagram.blocks[0] == "Input 8 values"
    assert diagram.blocks[-1] == "Dense 1 1 values"
    ET.fromstring(to_svg(diagram))


def test_an_invalid_model_is_still_drawn_with_unknown_shapes():
    spec = {
        "input_shape": [4, 4, 1],
        "layers": [{"type": "Conv2D", "filters": 2, "kernel_size": 7}, {"type": "Flatten"}],
    }
    diagram = build_diagram(spec)
    assert diagram.blocks[1].endswith("shape unknown")
    to_png(diagram)


def test_special_characters_in_the_title_stay_valid_svg():
    root = ET.fromstring(to_svg(build_diagram(PRESETS["blank"].spec(), 'Mine <"&">')))
    assert 'Mine <"&">' in [t.text for t in root.iter() if t.tag.endswith("text")]
