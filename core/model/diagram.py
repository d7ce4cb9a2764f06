"""The architecture as a picture: the classic figure of stacked feature-map blocks, then dense bars.

Built from the spec alone (shapes from :func:`core.model.spec.analyze`, no Keras), so it can be redrawn
on every edit. Each image-shaped tensor (the input, each convolution or pooling output) is a box whose
height follows the map's height, whose depth follows its width and whose thickness follows its number of
channels (on a log scale, so 8 and 256 channels both stay readable); each flat vector (Flatten, a Dense
layer, a table's inputs) is a bar whose height follows its length. Layers that keep the shape
(BatchNormalization, Dropout, the augmentation layers) are small tags between the blocks. A skip connection (a
residual block's, or an Add or Concatenate of an earlier layer's output) is an arc over the blocks from where it
starts to where it joins.

One drawing (:class:`Diagram`: polygons, lines and texts) is rendered twice: :func:`to_svg` and
:func:`to_png` (Pillow), so both files show the same figure.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from core.model.augmentation import AUGMENTATION_TYPES, short_tag
from core.model.spec import analyze, merge_number

COLOURS = {
    "Input": "#cfd8dc",
    "Conv2D": "#64b5f6",
    "MaxPooling2D": "#ffb74d",
    "AveragePooling2D": "#ffcc80",
    "GlobalAveragePooling2D": "#ba68c8",
    "GlobalMaxPooling2D": "#ba68c8",
    "Flatten": "#b0bec5",
    "Dense": "#81c784",
    "ResidualBlock": "#4db6ac",
    "Add": "#fff176",
    "Concatenate": "#fff176",
    "Output": "#e57373",
    "Unknown": "#eeeeee",
}
PASS_THROUGH = frozenset({"BatchNormalization", "Dropout"}) | AUGMENTATION_TYPES
TEXT = "#263238"
EDGE = "#37474f"
MARGIN = 24
GAP = 34  # between two blocks
BASELINE = 250  # the y where block fronts' bottoms sit
MAX_SIDE = 150  # pixels of the tallest map (and longest bar)
MIN_SIDE = 14
BAR_WIDTH = 16
LABEL_SIZE = 11
SHORTCUT = "#00897b"
ARC_RISE = 34  # how far an arc's middle rises above the taller of its two blocks


@dataclass(frozen=True)
class Polygon:
    points: tuple[tuple[float, float], ...]
    fill: str
    stroke: str = EDGE


@dataclass(frozen=True)
class Line:
    start: tuple[float, float]
    end: tuple[float, float]
    colour: str = EDGE
    dashed: bool = False


@dataclass(frozen=True)
class Arc:
    """A skip connection: a curve (a quadratic Bézier through ``control``) from one block's top to another's."""

    start: tuple[float, float]
    control: tuple[float, float]
    end: tuple[float, float]
    colour: str = SHORTCUT

    def points(self, steps: int = 24) -> list[tuple[float, float]]:
        """The curve as a polyline (for Pillow, which draws no curves)."""
        (x0, y0), (cx, cy), (x1, y1) = self.start, self.control, self.end
        return [
            ((1 - t) ** 2 * x0 + 2 * (1 - t) * t * cx + t**2 * x1, (1 - t) ** 2 * y0 + 2 * (1 - t) * t * cy + t**2 * y1)
            for t in (i / steps for i in range(steps + 1))
        ]


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: int = LABEL_SIZE
    bold: bool = False
    colour: str = TEXT


@dataclass
class Diagram:
    """A picture in pixel coordinates (y down); ``blocks`` names what each drawn block stands for."""

    width: float
    height: float
    items: list = field(default_factory=list)
    blocks: list[str] = field(default_factory=list)  # e.g. "Input 28×28×1", "conv2d 26×26×16"
    shortcuts: list[str] = field(default_factory=list)  # e.g. "Max pool 2×2 → Residual 16 × 3×3"


@dataclass(frozen=True)
class _Stage:
    """One drawn tensor: what made it, its shape, and the text under it."""

    kind: str  # a colour key
    shape: tuple | None
    title: str
    detail: str
    tags: tuple[str, ...] = ()
    shortcut_from: int | None = None  # the stage a skip connection into this one starts from


def shape_text(shape) -> str:
    """28×28×1 for a map, 800 values for a vector."""
    if shape is None:
        return "shape unknown"
    if len(shape) == 1:
        return f"{shape[0]:,} values"
    return "×".join(str(v) for v in shape)


def _layer_title(layer: dict) -> str:
    kind = layer.get("type", "?")
    if kind == "Conv2D":
        k = layer.get("kernel_size", 3)
        k = f"{k[0]}×{k[1]}" if isinstance(k, (list, tuple)) else f"{k}×{k}"
        stride = layer.get("strides", 1)
        stride = "" if stride in (1, [1, 1]) else f", stride {stride}"
        return f"Conv {layer.get('filters', '?')} × {k}{stride}"
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        p = layer.get("pool_size", 2)
        p = f"{p[0]}×{p[1]}" if isinstance(p, (list, tuple)) else f"{p}×{p}"
        return f"{'Max' if kind.startswith('Max') else 'Avg'} pool {p}"
    if kind == "Dense":
        return f"Dense {layer.get('units', '?')}"
    if kind.startswith("Global"):
        return "Global avg pool" if "Average" in kind else "Global max pool"
    if kind == "ResidualBlock":
        k = layer.get("kernel_size", 3)
        k = f"{k[0]}×{k[1]}" if isinstance(k, (list, tuple)) else f"{k}×{k}"
        stride = layer.get("strides", 1)
        stride = "" if stride in (1, [1, 1]) else f", stride {stride}"
        return f"Residual {layer.get('filters', '?')} × {k}{stride}"
    if kind in ("Add", "Concatenate"):
        return f"{'Add' if kind == 'Add' else 'Concat'} layer {layer.get('with', '?')}"
    return kind


def _pass_tag(layer: dict) -> str:
    if layer.get("type") in AUGMENTATION_TYPES:
        return short_tag(layer)
    if layer.get("type") == "Dropout":
        return f"Dropout {layer.get('rate', 0.5):g}"
    return "BatchNorm"


def stages(spec: dict) -> list[_Stage]:
    """The tensors to draw, in order: the input, then each layer that changes the shape."""
    analysis = analyze(spec)
    layers = spec.get("layers") or [] if isinstance(spec, dict) else []
    result = [_Stage("Input", analysis.input_shape, "Input", shape_text(analysis.input_shape))]
    stage_of = [0]  # stage_of[n]: the stage showing layer n's output (0: the input)
    for index, (layer, report) in enumerate(zip(layers, analysis.layers)):
        kind = layer.get("type") if isinstance(layer, dict) else None
        if kind in PASS_THROUGH:
            last = result[-1]
            result[-1] = _Stage(
                last.kind, last.shape, last.title, last.detail, last.tags + (_pass_tag(layer),), last.shortcut_from
            )
            stage_of.append(len(result) - 1)
            continue
        colour = kind if kind in COLOURS else "Unknown"
        if kind == "Dense" and index == len(layers) - 1:
            colour = "Output"
        shape = report.output_shape
        detail = shape_text(shape)
        source = merge_number(layer)
        if source is not None and source <= index:
            shortcut_from = stage_of[source]
        else:
            shortcut_from = len(result) - 1 if kind == "ResidualBlock" else None
        title = _layer_title(layer) if isinstance(layer, dict) else "?"
        result.append(_Stage(colour, shape, title, detail, shortcut_from=shortcut_from))
        stage_of.append(len(result) - 1)
    return result


def _scale(value: int, largest: int) -> float:
    """Pixels for a side: proportional to the largest, never below MIN_SIDE."""
    return max(MIN_SIDE, MAX_SIDE * value / max(largest, 1))


def _thickness(channels: int) -> float:
    return 6 + 7 * math.log2(max(channels, 1))


def _bar_height(length: int, longest: int) -> float:
    """Bars on a log scale: 10 and 10,000 values both fit."""
    return max(MIN_SIDE, MAX_SIDE * math.log10(length + 1) / math.log10(max(longest, 1) + 1))


def _shade(colour: str, factor: float) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "#{:02x}{:02x}{:02x}".format(*(max(0, min(255, int(v * factor))) for v in (r, g, b)))


def _box(x: float, height: float, thickness: float, depth: float, colour: str) -> list[Polygon]:
    """A block standing on the baseline: front face, top and right side in an oblique projection."""
    dx, dy = depth * 0.6, -depth * 0.45
    bottom, top = BASELINE, BASELINE - height
    front = ((x, bottom), (x + thickness, bottom), (x + thickness, top), (x, top))
    top_face = ((x, top), (x + thickness, top), (x + thickness + dx, top + dy), (x + dx, top + dy))
    side = (
        (x + thickness, bottom),
        (x + thickness + dx, bottom + dy),
        (x + thickness + dx, top + dy),
        (x + thickness, top),
    )
    return [Polygon(side, _shade(colour, 0.8)), Polygon(top_face, _shade(colour, 1.1)), Polygon(front, colour)]


def build_diagram(spec: dict, title: str | None = None) -> Diagram:
    """The drawing of a spec's architecture (also for an invalid spec: unknown shapes are grey stubs)."""
    drawn = stages(spec)
    maps = [s.shape for s in drawn if s.shape is not None and len(s.shape) == 3]
    vectors = [s.shape[0] for s in drawn if s.shape is not None and len(s.shape) == 1]
    largest = max((max(h, w) for h, w, _ in maps), default=1)
    longest = max(vectors, default=1)
    items: list = []
    blocks: list[str] = []
    diagram_shortcuts: list[str] = []
    previous_right = None
    tops: list[tuple[float, float]] = []  # each stage's (centre x, top y): where arcs start and end
    top_of_drawing = float(BASELINE)
    label_right = MARGIN - 10.0  # where the last label ends: labels never overlap
    for stage in drawn:
        colour = COLOURS[stage.kind]
        label_width = max(len(stage.title), len(stage.detail), *(len(t) + 2 for t in stage.tags)) * LABEL_SIZE * 0.66
        is_map = stage.shape is not None and len(stage.shape) == 3
        if is_map:
            h, w, c = stage.shape
            height, depth, thickness = _scale(h, largest), _scale(w, largest), _thickness(c)
        else:
            length = stage.shape[0] if stage.shape is not None else 1
            height = _bar_height(length, longest) if stage.shape is not None else MIN_SIDE * 2
            depth, thickness = 0.0, BAR_WIDTH
        x = max(
            MARGIN if previous_right is None else previous_right + GAP,
            label_right + 10 + label_width / 2 - thickness / 2,
        )
        if is_map:
            parts = _box(x, height, thickness, depth, colour)
            top_of_drawing = min(top_of_drawing, BASELINE - height - depth * 0.45)
        else:
            corners = (
                (x, BASELINE),
                (x + BAR_WIDTH, BASELINE),
                (x + BAR_WIDTH, BASELINE - height),
                (x, BASELINE - height),
            )
            parts = [Polygon(corners, colour)]
            top_of_drawing = min(top_of_drawing, BASELINE - height)
        right = x + thickness + depth * 0.6
        tops.append((x + thickness / 2 + depth * 0.3, BASELINE - height - depth * 0.45))
        if previous_right is not None:
            middle = BASELINE - MIN_SIDE / 2
            items.append(Line((previous_right + 3, middle), (x - 3, middle)))
            items.append(Polygon(((x - 3, middle), (x - 9, middle - 4), (x - 9, middle + 4)), EDGE, EDGE))
        items.extend(parts)
        centre = x + thickness / 2
        items.append(Text(centre, BASELINE + 18, stage.title, bold=True))
        items.append(Text(centre, BASELINE + 33, stage.detail))
        for i, tag in enumerate(stage.tags):
            items.append(Text(centre, BASELINE + 48 + 14 * i, f"+ {tag}", size=LABEL_SIZE - 1, colour="#607d8b"))
        blocks.append(f"{stage.title} {stage.detail}")
        previous_right, label_right = right, centre + label_width / 2
    for index, stage in enumerate(drawn):
        if stage.shortcut_from is None:
            continue
        (x0, y0), (x1, y1) = tops[stage.shortcut_from], tops[index]
        apex = min(y0, y1) - ARC_RISE
        arc = Arc((x0, y0 - 3), ((x0 + x1) / 2, 2 * apex - (y0 + y1) / 2), (x1, y1 - 3))
        items.append(arc)
        items.append(Polygon(((x1, y1 - 3), (x1 - 4, y1 - 10), (x1 + 4, y1 - 10)), SHORTCUT, SHORTCUT))
        items.append(Text((x0 + x1) / 2, apex - 4, "shortcut", size=LABEL_SIZE - 1, colour=SHORTCUT))
        top_of_drawing = min(top_of_drawing, apex - 4 - LABEL_SIZE)
        diagram_shortcuts.append(f"{drawn[stage.shortcut_from].title} → {stage.title}")
    most_tags = max((len(s.tags) for s in drawn), default=0)
    height = BASELINE + 45 + 14 * most_tags + MARGIN
    shift = max(0.0, MARGIN + (22 if title else 0) - top_of_drawing)
    diagram = Diagram(
        max(previous_right, label_right) + MARGIN, height + shift, blocks=blocks, shortcuts=diagram_shortcuts
    )
    if title:
        diagram.items.append(Text(MARGIN, MARGIN, title, size=14, bold=True))
    diagram.items.extend(_moved(item, shift) for item in items)
    return diagram


def _moved(item, dy: float):
    """The item shifted down by dy (room for the tallest block and the title)."""
    if isinstance(item, Polygon):
        return Polygon(tuple((x, y + dy) for x, y in item.points), item.fill, item.stroke)
    if isinstance(item, Line):
        return Line((item.start[0], item.start[1] + dy), (item.end[0], item.end[1] + dy), item.colour, item.dashed)
    if isinstance(item, Arc):
        return Arc(*((x, y + dy) for x, y in (item.start, item.control, item.end)), item.colour)
    return Text(item.x, item.y + dy, item.text, item.size, item.bold, item.colour)


def to_svg(diagram: Diagram) -> str:
    """The diagram as a standalone SVG document."""
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{diagram.width:.0f}" height="{diagram.height:.0f}" '
        f'viewBox="0 0 {diagram.width:.0f} {diagram.height:.0f}" font-family="DejaVu Sans, Arial, sans-serif">',
        f'<rect width="{diagram.width:.0f}" height="{diagram.height:.0f}" fill="white"/>',
    ]
    for item in diagram.items:
        if isinstance(item, Polygon):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in item.points)
            out.append(f'<polygon points="{points}" fill="{item.fill}" stroke="{item.stroke}" stroke-width="1"/>')
        elif isinstance(item, Arc):
            (x0, y0), (cx, cy), (x1, y1) = item.start, item.control, item.end
            out.append(
                f'<path class="shortcut" d="M {x0:.1f} {y0:.1f} Q {cx:.1f} {cy:.1f} {x1:.1f} {y1:.1f}" fill="none" '
                f'stroke="{item.colour}" stroke-width="2" stroke-dasharray="6 3"/>'
            )
        elif isinstance(item, Line):
            dash = ' stroke-dasharray="4 3"' if item.dashed else ""
            out.append(
                f'<line x1="{item.start[0]:.1f}" y1="{item.start[1]:.1f}" x2="{item.end[0]:.1f}" '
                f'y2="{item.end[1]:.1f}" stroke="{item.colour}" stroke-width="1.5"{dash}/>'
            )
        else:
            anchor = "start" if item.size > LABEL_SIZE + 1 else "middle"
            weight = ' font-weight="bold"' if item.bold else ""
            out.append(
                f'<text x="{item.x:.1f}" y="{item.y:.1f}" font-size="{item.size}" text-anchor="{anchor}" '
                f'fill="{item.colour}"{weight}>{escape(item.text)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


def to_png(diagram: Diagram, scale: float = 2.0) -> bytes:
    """The same drawing as PNG bytes (Pillow), ``scale`` times the SVG's pixel size for sharp text."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(math.ceil(diagram.width * scale)), int(math.ceil(diagram.height * scale))
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    fonts: dict[tuple[int, bool], ImageFont.ImageFont] = {}

    def font(size: int, bold: bool):
        if (size, bold) not in fonts:
            name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
            try:
                fonts[size, bold] = ImageFont.truetype(name, int(size * scale))
            except OSError:  # no DejaVu on this machine: Pillow's own font
                fonts[size, bold] = ImageFont.load_default(size=int(size * scale))
        return fonts[size, bold]

    for item in diagram.items:
        if isinstance(item, Polygon):
            draw.polygon([(x * scale, y * scale) for x, y in item.points], fill=item.fill, outline=item.stroke)
        elif isinstance(item, Line):
            draw.line(
                [tuple(v * scale for v in item.start), tuple(v * scale for v in item.end)], fill=item.colour, width=2
            )
        elif isinstance(item, Arc):
            draw.line([(x * scale, y * scale) for x, y in item.points()], fill=item.colour, width=3)
        else:
            anchor = "ls" if item.size > LABEL_SIZE + 1 else "ms"  # left or middle, on the baseline (as SVG)
            draw.text(
                (item.x * scale, item.y * scale),
                item.text,
                fill=item.colour,
                font=font(item.size, item.bold),
                anchor=anchor,
            )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def diagram_svg(spec: dict, title: str | None = None) -> str:
    return to_svg(build_diagram(spec, title))


def diagram_png(spec: dict, title: str | None = None) -> bytes:
    return to_png(build_diagram(spec, title))
