"""The upload page's preview of a dossier file, validated once: the mapping (the one drawn by
hand, else the preset saved for the file's headers, else matching by name) is chosen from
the headers as they are read, then the file is validated with it. No Streamlit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from loaders import history
from loaders.dossiers import check_dossier_file
from loaders.files import RawTable


@dataclass(frozen=True)
class Preview:
    table: RawTable
    fields: dict[str, str]   # field -> header, as used
    frame: pl.DataFrame      # the prepared rows, with `_reason`
    preset: bool             # a saved mapping preset was applied


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
