"""The report's trend chart (monthly full-online rate and the target line), drawn without
a browser: one layout function over a tiny canvas interface, with a Pillow canvas (PNG
for Word and the page) and an fpdf2 canvas (vector lines in the PDF).

Sizes are given in points; each canvas converts them to its own units.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Protocol

from PIL import Image, ImageDraw, ImageFont

from kpi import format as fmt
from kpi.definitions import KPIS
from reports.builder import TREND_KPI, TrendPoint

FONTS = Path(__file__).resolve().parent.parent / "reference" / "fonts"
FONT_REGULAR = FONTS / "DejaVuSans.ttf"
FONT_BOLD = FONTS / "DejaVuSans-Bold.ttf"
FONT_ITALIC = FONTS / "DejaVuSans-Oblique.ttf"

LINE = (9, 105, 218)      # #0969da
TARGET = (207, 34, 46)    # #cf222e
GRID = (216, 222, 228)
AXIS = (87, 96, 106)
TEXT = (31, 35, 40)


class Canvas(Protocol):
    def line(self, points: list[tuple[float, float]], color, width: float, dash: bool = False) -> None: ...
    def dot(self, x: float, y: float, radius: float, color) -> None: ...
    def text(self, x: float, y: float, text: str, size: float, color, anchor: str = "la",
             bold: bool = False) -> None: ...
    def text_width(self, text: str, size: float, bold: bool = False) -> float: ...
    def pt(self, size: float) -> float: ...


def draw_trend(canvas: Canvas, box: tuple[float, float, float, float], points: list[TrendPoint],
               target: float | None, unit_name: str) -> None:
    """Lay the chart out in `box` (x, y, width, height in canvas units)."""
    x0, y0, width, height = box
    pt = canvas.pt
    title = f"{KPIS[TREND_KPI].label} theo tháng — {unit_name}"
    canvas.text(x0, y0, title, 10.5, TEXT, "la", bold=True)
    left = x0 + canvas.text_width("100%", 8) + pt(8)
    right = x0 + width - pt(6)
    top = y0 + pt(26)
    bottom = y0 + height - pt(40)
    plot_h = bottom - top

    def y_of(value: float) -> float:
        return bottom - max(0.0, min(1.0, value)) * plot_h

    for tick in range(0, 101, 20):
        y = y_of(tick / 100)
        canvas.line([(left, y), (right, y)], GRID if tick else AXIS, 0.6 if tick else 0.9)
        canvas.text(left - pt(4), y, f"{tick}%", 8, AXIS, "rm")
    if not any(p.value is not None for p in points):
        canvas.text((left + right) / 2, (top + bottom) / 2, fmt.NO_DATA, 11, AXIS, "mm", bold=True)
        return
    step = (right - left) / len(points)
    xs = [left + (i + 0.5) * step for i in range(len(points))]
    label_size = 8 if step > canvas.text_width("00/0000", 8) + pt(3) else 6.5
    for x, p in zip(xs, points, strict=True):
        canvas.line([(x, bottom), (x, bottom + pt(3))], AXIS, 0.6)
        canvas.text(x, bottom + pt(5), p.label, label_size, AXIS, "ma")
    if target is not None:
        ty = y_of(target)
        canvas.line([(left, ty), (right, ty)], TARGET, 1.4, dash=True)
        # At the left end, where a rising series is usually still under the line.
        canvas.text(left + pt(3), ty - pt(3), f"Chỉ tiêu {KPIS[TREND_KPI].format_target(target)}", 8.5, TARGET, "ld", bold=True)
    run: list[tuple[float, float]] = []
    for x, p in [*zip(xs, points, strict=True), (None, None)]:
        if p is not None and p.value is not None:
            run.append((x, y_of(p.value)))
            continue
        if len(run) > 1:
            canvas.line(run, LINE, 2.2)
        run = []
    values = [p.value for p in points]
    target_y = y_of(target) if target is not None else None
    for i, (x, p) in enumerate(zip(xs, points, strict=True)):
        if p.value is None:
            continue
        y = y_of(p.value)
        canvas.dot(x, y, pt(2.6), LINE)
        dx, dy, anchor = _label_place(values, i, pt(4), pt(label_size), y, target_y)
        canvas.text(x + dx, y + dy, KPIS[TREND_KPI].format(p.value), label_size, LINE, anchor, bold=True)
    # Legend under the month labels.
    ly = bottom + pt(26)
    canvas.line([(left, ly), (left + pt(18), ly)], LINE, 2.2)
    canvas.text(left + pt(22), ly, "Tỷ lệ thực hiện", 8, TEXT, "lm")
    if target is not None:
        lx = left + pt(22) + canvas.text_width("Tỷ lệ thực hiện", 8) + pt(16)
        canvas.line([(lx, ly), (lx + pt(18), ly)], TARGET, 1.4, dash=True)
        canvas.text(lx + pt(22), ly, "Chỉ tiêu", 8, TEXT, "lm")


def _label_place(values: list[float | None], i: int, gap: float, size: float, y: float,
                 target_y: float | None) -> tuple[float, float, str]:
    """Where a point's value label goes (offset and anchor): on the side the line does not
    pass through (above a peak, below a trough, upper-left on a rise, upper-right on a fall),
    flipped vertically if it would sit on the target line."""
    here = values[i]
    before = values[i - 1] if i > 0 else None
    after = values[i + 1] if i + 1 < len(values) else None
    rises_in = before is not None and before < here
    rises_out = after is not None and after > here
    falls_in = before is not None and before > here
    falls_out = after is not None and after < here
    if rises_in and rises_out:
        horizontal, up = "r", True
    elif falls_in and falls_out:
        horizontal, up = "l", True
    elif (falls_in or before is None) and (rises_out or after is None) and (falls_in or rises_out):
        horizontal, up = "m", False   # a trough: below
    else:
        horizontal, up = "m", True    # a peak, a flat stretch or a lone point: above
    def hits_target(up_side: bool) -> bool:
        if target_y is None:
            return False
        top, bottom = (y - gap - size * 1.1, y) if up_side else (y, y + gap + size * 1.1)
        return top <= target_y <= bottom
    if hits_target(up) and not hits_target(not up):
        up = not up
        horizontal = {"r": "l", "l": "r", "m": "m"}[horizontal]
    dx = {"r": -gap, "l": gap, "m": 0.0}[horizontal]
    return dx, (-gap if up else gap), horizontal + ("d" if up else "a")


class PillowCanvas:
    def __init__(self, image: Image.Image, px_per_pt: float):
        self.draw = ImageDraw.Draw(image)
        self.scale = px_per_pt
        self._fonts: dict[tuple[float, bool], ImageFont.FreeTypeFont] = {}

    def pt(self, size: float) -> float:
        return size * self.scale

    def font(self, size: float, bold: bool) -> ImageFont.FreeTypeFont:
        key = (size, bold)
        if key not in self._fonts:
            self._fonts[key] = ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), round(self.pt(size)))
        return self._fonts[key]

    def line(self, points, color, width, dash=False):
        w = max(1, round(self.pt(width)))
        if not dash:
            self.draw.line(points, fill=color, width=w, joint="curve")
            return
        (xa, ya), (xb, yb) = points[0], points[-1]
        length = max(1.0, ((xb - xa) ** 2 + (yb - ya) ** 2) ** 0.5)
        on, off = self.pt(5), self.pt(3)
        pos = 0.0
        while pos < length:
            end = min(length, pos + on)
            self.draw.line([(xa + (xb - xa) * pos / length, ya + (yb - ya) * pos / length),
                            (xa + (xb - xa) * end / length, ya + (yb - ya) * end / length)], fill=color, width=w)
            pos = end + off

    def dot(self, x, y, radius, color):
        self.draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=color, outline="white")

    def text(self, x, y, text, size, color, anchor="la", bold=False):
        # Pillow anchors: l/m/r horizontally; a (top), m (middle), d (baseline) vertically.
        self.draw.text((x, y), text, fill=color, font=self.font(size, bold), anchor=anchor.replace("d", "s"))

    def text_width(self, text, size, bold=False):
        return self.draw.textlength(text, font=self.font(size, bold))


def trend_png(points: list[TrendPoint], target: float | None, unit_name: str,
              width_pt: float = 480, height_pt: float = 250, dpi: int = 200) -> bytes:
    """The chart as PNG bytes (480 x 250 pt at 200 dpi by default: sharp on paper)."""
    scale = dpi / 72
    image = Image.new("RGB", (round(width_pt * scale), round(height_pt * scale)), "white")
    canvas = PillowCanvas(image, scale)
    margin = canvas.pt(8)
    draw_trend(canvas, (margin, margin, image.width - 2 * margin, image.height - 2 * margin), points, target,
               unit_name)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=True)
    return out.getvalue()
