"""The upload page's preview of a dossier file, validated once: the mapping (the one drawn by
hand, else the preset saved for the file's headers, else matching by name) is chosen from
the headers as they are read, then the file is validated with it. No Streamlit.

Rows are named everywhere by their spreadsheet row number, the one an officer sees at the
left of Excel (the header row is row 1 when it is the first line; title lines above it
count too): the preview's "Dòng" column, the rejected rows, the loaders' messages and the
stored rejected rows (loaders.files numbers them when reading)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path

import polars as pl

from loaders import history
from loaders.dossiers import Repeats, check_dossier_file
from loaders.files import EXTRA, ROW, RawTable

ROW_LABEL = "Dòng"


@dataclass(frozen=True)
class Preview:
    table: RawTable
    fields: dict[str, str]   # field -> header, as used
    frame: pl.DataFrame      # the prepared rows, with `_reason`
    preset: bool             # a saved mapping preset was applied

    @cached_property
    def duplicates(self) -> pl.DataFrame:
        """The valid rows the load will skip because a later valid row of the file has the
        same dossier id (the last one wins, dossiers.Repeats): "Dòng", the id, the row kept."""
        return in_file_duplicates(self.frame)

    @property
    def rejected(self) -> int:
        return self.frame["_reason"].is_not_null().sum()

    @property
    def to_load(self) -> int:
        """The rows the load will write: the valid ones less the repeats (its `loaded`)."""
        return self.frame.height - self.rejected - self.duplicates.height

    def head(self, n: int = 20) -> pl.DataFrame:
        """The file's first `n` rows as read, with their row number first ("Dòng")."""
        return sample_rows(self.table, n)

    def rejected_rows(self) -> pl.DataFrame:
        """The rows the load will refuse: row number, column and reason."""
        return self.frame.filter(pl.col("_reason").is_not_null()).select(
            pl.col(ROW).alias(ROW_LABEL), pl.col("_column").alias("Cột"), pl.col("_reason").alias("Lý do"))


def in_file_duplicates(frame: pl.DataFrame) -> pl.DataFrame:
    """Of prepared rows (with `_reason`), the valid ones a later valid row with the same dossier
    id replaces within the file, by the load's own rule (dossiers.Repeats.dropped)."""
    valid = frame.filter(pl.col("_reason").is_null()).select(
        "dossier_id", pl.col(ROW).cast(pl.Int32).alias("source_row"))
    candidates = valid.filter(pl.col("dossier_id").is_duplicated())
    kept = candidates.group_by("dossier_id").agg(pl.col("source_row").max().alias("Dòng được dùng"))
    return (Repeats.dropped(candidates).join(candidates, on="source_row")
            .join(kept, on="dossier_id").sort("source_row")
            .select(pl.col("source_row").alias(ROW_LABEL), pl.col("dossier_id").alias("Mã hồ sơ"),
                    "Dòng được dùng"))


def sample_rows(table: RawTable, n: int = 20) -> pl.DataFrame:
    """The first `n` rows of `table` as read, "Dòng" first, a CSV row's extra field under
    its column's number (dossiers._extra_label), empty cells as null."""
    from loaders.dossiers import _extra_label

    try:
        rows = table.frame.head(n).collect()
    except (pl.exceptions.PolarsError, OSError):  # a converted copy (UTF-16, Windows-1258) already removed
        return pl.DataFrame(schema={h: pl.String for h in table.headers})
    if EXTRA in rows.columns:
        rows = (rows.rename({EXTRA: _extra_label(table)}) if rows[EXTRA].is_not_null().any()
                else rows.drop(EXTRA))
    # A file may have a "Dòng" column of its own (the rejected-rows file, fixed and uploaded again).
    label = ROW_LABEL if ROW_LABEL not in rows.columns else f"{ROW_LABEL} trong tệp này"
    return rows.rename({ROW: label}).select(label, pl.exclude(label))


def preview_dossier_file(con, path: str | Path, province: str | None, *, name: str | None = None,
                         user: str | None = None, manual: dict[str, str] | None = None,
                         today: date | None = None) -> Preview:
    """Read and validate a dossier file once (check_dossier_file) with the hand-made mapping
    when given, else the preset `user` may apply for these headers (history.find_preset),
    else the headers matched by name."""
    applied: list[bool] = [False]

    def choose(headers: list[str]) -> dict[str, str] | None:
        if manual is not None:
            return manual
        preset = history.find_preset(con, headers, user)
        applied[0] = bool(preset)
        return preset

    table, fields, frame = check_dossier_file(con, path, province, name=name, mapping=choose, today=today)
    return Preview(table, fields, frame, applied[0])
