"""At the current pace, will a unit reach a target by its deadline? A least-squares line
through the last months' values, extended to the deadline month. Plain and explainable:
leaders are shown the slope and the projected value, not a model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Projection:
    slope_per_month: float      # change of the value per month
    projected: float            # value expected in the deadline month
    months_left: int
    reaches: bool
    points: int                 # months the line was fitted on


def months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + (b.month - a.month)


def project(points: list[tuple[date, float]], deadline: date, target: float, higher_is_better: bool = True,
            window: int = 6) -> Projection | None:
    """`points`: (month start, value) with a value; None when fewer than 3 months."""
    usable = [(m, v) for m, v in points if v is not None][-window:]
    if len(usable) < 3:
        return None
    origin = usable[0][0]
    xs = [months_between(origin, m) for m, _ in usable]
    ys = [v for _, v in usable]
    n = len(xs)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    var = sum((x - mean_x) ** 2 for x in xs)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
    last_month = usable[-1][0]
    months_left = max(0, months_between(last_month, deadline))
    projected = ys[-1] + slope * months_left if months_left else ys[-1]
    if 0 <= target <= 1:
        projected = min(1.0, max(0.0, projected))
    reaches = projected >= target if higher_is_better else projected <= target
    return Projection(slope, projected, months_left, reaches, n)
