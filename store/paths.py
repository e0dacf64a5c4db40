"""Where the store is (standard library only: the command-line tools read it before deciding
whether to import DuckDB at all)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = ROOT / "data" / "kpi.duckdb"


def db_path(path: str | os.PathLike | None = None) -> Path:
    """`path`, else `$KPI_DB`, else data/kpi.duckdb."""
    return Path(path or os.environ.get("KPI_DB") or DEFAULT_DB)
