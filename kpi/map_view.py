"""The map page's data (pages/map.py only lays it out): the KPIs it can colour by, the chosen
KPI's rows per commune and the province total, the target the colour scale uses, the scale's
floor and colours, the hover texts and the table under the map. Plain functions over the
engine's rows (dicts with unit_code, unit_name, kpi, value, numerator, denominator, target,
status); no Streamlit."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import polars as pl

from kpi import format as fmt
from kpi.definitions import KPIS, STATUS_LABELS

RATE_KPIS = [k for k, d in KPIS.items() if d.kind == "rate"]
# Units without data are drawn grey, never as 0%; the legend names the grey itself (issue 16
# item 11), next to the colour bar that explains the other colours.
NO_DATA_COLOR = "#d0d7de"
NO_DATA_LABEL = fmt.NO_DATA


def legend() -> dict:
    """Plotly layout of the map's legend: only the grey "no data" swatch is listed in it (the
    colour bar explains the rates), at the bottom left, over the map's empty corner."""
    return dict(x=0, y=0, xanchor="left", yanchor="bottom", bgcolor="rgba(255,255,255,0.85)",
                bordercolor="#d0d7de", borderwidth=1, font=dict(size=13), itemclick=False,
                itemdoubleclick=False)
DEFAULT_KPI = "full_online_rate"


def kpi_of(requested: str | None) -> str:
    """The URL's KPI when it is a rate the map can colour by, else the default."""
    return requested if requested in RATE_KPIS else DEFAULT_KPI


def target_of(rows: list[dict]) -> float | None:
    """The most common target among the rows (None when none has one)."""
    targets = [r["target"] for r in rows if r["target"] is not None]
    return Counter(targets).most_common(1)[0][0] if targets else None


@dataclass(frozen=True)
class ProvinceMap:
    """One KPI over a province: its communes' rows, the province's own row (None when the
    user may not see the province), the target the colours use and how many have data."""
    communes: list[dict]
    total: dict | None
    target: float | None

    @property
    def with_data(self) -> int:
        return sum(r["value"] is not None for r in self.communes)

    @property
    def names(self) -> dict[str, str]:
        return {r["unit_code"]: r["unit_name"] for r in self.communes}


def province_map(rows: list[dict], province: str, kpi: str) -> ProvinceMap:
    """The chosen KPI's rows split into communes and the province total; the target is the
    province's, else the communes' most common one."""
    communes = [r for r in rows if r["kpi"] == kpi and r["unit_code"] != province]
    total = next((r for r in rows if r["kpi"] == kpi and r["unit_code"] == province), None)
    return ProvinceMap(communes, total, total["target"] if total else target_of(communes))


def missing_shapes(rows: list[dict], geo: dict) -> int:
    """How many units of the rows have no boundary in the GeoJSON."""
    return len(rows) - len({r["unit_code"] for r in rows} & {f["properties"]["code"] for f in geo["features"]})


def color_floor(values: list[float], target: float | None) -> float:
    """Lower end of the colour scale: 0, or closer to the data when every value is high, so
    that communes a few points apart do not all get the same colour (the colour bar shows it)."""
    lowest = min(values)
    ceiling = target - 0.2 if target is not None else 0.8
    return max(0.0, min(math.floor(lowest * 10) / 10, ceiling))


def colorscale(target: float | None, zmin: float = 0.0) -> list:
    """Red -> yellow below the target, light -> dark green from the target up, on [zmin, 1]."""
    def at(v: float) -> float:
        return (v - zmin) / (1 - zmin)

    if target is None or not zmin < target <= 1:
        return [[0, "#cf222e"], [0.5, "#f2cc60"], [1, "#1a7f37"]]
    if target >= 1:
        return [[0, "#b42318"], [0.6, "#f0883e"], [1 - 1e-6, "#f7d774"], [1, "#1a7f37"]]
    return [[0, "#b42318"], [at(zmin + (target - zmin) * 0.6), "#f0883e"], [at(target) - 1e-6, "#f7d774"],
            [at(target), "#9bd99b"], [1, "#1a7f37"]]


def color_ticks(zmin: float, target: float | None) -> list[float]:
    """The colour bar's ticks: tenths from the floor (fifths below 50%), the target in place of
    a tick within 5 points of it."""
    ticks = sorted({t / 10 for t in range(round(zmin * 10), 11, 1 if zmin >= 0.5 else 2)} | {1.0})
    if target is not None:
        ticks = [t for t in ticks if abs(t - target) > 0.05] + [target]
    return ticks


def hover_data(rows: list[dict], kpi: str) -> list[list[str]]:
    """Per unit: name, value, numerator/denominator, status, code."""
    return [[r["unit_name"], KPIS[kpi].format(r["value"]),
             f"{fmt.number(r['numerator'])}/{fmt.number(r['denominator'])}" if r["denominator"] else "—",
             STATUS_LABELS[r["status"]], r["unit_code"]] for r in rows]


TABLE_SCHEMA = {"Mã": pl.String, "Xã/phường": pl.String, "Tỷ lệ": pl.Float64, "Tử số": pl.Int64,
                "Mẫu số": pl.Int64, "Đánh giá": pl.String}


def table(rows: list[dict]) -> pl.DataFrame:
    """The table under the map (and its Excel file): lowest rate first, units without data last."""
    ordered = sorted(rows, key=lambda r: (r["value"] is None, r["value"] or 0, r["unit_name"]))
    return pl.DataFrame([{
        "Mã": r["unit_code"], "Xã/phường": r["unit_name"], "Tỷ lệ": r["value"],
        "Tử số": r["numerator"] if r["denominator"] else None, "Mẫu số": r["denominator"],
        "Đánh giá": STATUS_LABELS[r["status"]]} for r in ordered], schema=TABLE_SCHEMA)


def table_text(frame: pl.DataFrame, kpi: str) -> pl.DataFrame:
    """The table as shown: the rate in the KPI's format, counts with thousands separators."""
    return frame.with_columns(
        pl.Series("Tỷ lệ", [KPIS[kpi].format(v) for v in frame["Tỷ lệ"]]),
        pl.Series("Tử số", [fmt.number(v) if v is not None else "" for v in frame["Tử số"]]),
        pl.Series("Mẫu số", [fmt.number(v) if v is not None else "" for v in frame["Mẫu số"]]),
    )
