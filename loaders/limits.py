"""Caps on an uploaded workbook, checked before any reader allocates (loaders/xlsx_guard.py).

| name | default | why |
|---|---|---|
| max_uncompressed_bytes | 2 000 000 000 | all parts of the .xlsx once unzipped: a full Excel sheet (1 048 576 rows) of 30 columns written with inline strings, the most verbose form exporters use (~60 bytes of XML a cell), is ~1.9 GB |
| max_rows | 1 048 576 | Excel's own limit for one sheet: no genuine workbook has more |
| max_columns | 200 | a province export has tens of columns |
| max_cells | 40 000 000 | rows × columns of the sheet's area (the reader holds ~32 bytes a cell of that area, 1.3 GB): a full sheet of 38 columns |
| max_ratio | 200 | unzipped / zipped size of a part over 1 MB: real exports compress 5-20×, repeated-row bombs 300-1000× |
| max_table_bytes | 1 000 000 000 | the sheet's text once read (each cell's value; a shared string counted once per cell that uses it): a full export of 1 048 576 rows × 30 columns of ~20-byte cells is ~630 MB; a 1-2 MB workbook whose cells all reference one huge shared string expands to hundreds of MB (1.35 GB and 22 s in the server before this cap) |
| max_members | 10 000 | parts in the archive: a workbook with charts and images has a few hundred |
| max_read_memory_bytes | 6 000 000 000 | address space of the child process that reads the workbook (a full 40 M-cell sheet needs ~4 GB) |
| max_read_seconds | 600 | time allowed to that child |

Besides these caps, a workbook holding a string (shared or inline) longer than 32 767 characters,
Excel's own limit for one cell, is refused: no workbook saved by Excel has one.

Each is overridden by the environment variable `KPI_` + its name in capitals
(`KPI_MAX_ROWS=500000`), then by the store's `meta` table, key `limits.` + its name, which
the admin page sets with `set_limit(con, name, value)` and shows with `get_limits(con)`.
Defaults < environment < store.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields, replace

META_PREFIX = "limits."
ENV_PREFIX = "KPI_"


@dataclass(frozen=True)
class Limits:
    max_uncompressed_bytes: int = 2_000_000_000
    max_rows: int = 1_048_576
    max_columns: int = 200
    max_cells: int = 40_000_000
    max_ratio: int = 200
    max_members: int = 10_000
    max_table_bytes: int = 1_000_000_000
    max_read_memory_bytes: int = 6_000_000_000
    max_read_seconds: int = 600

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


NAMES = tuple(f.name for f in fields(Limits))

# Vietnamese labels, for the admin page and the refusals.
LABELS = {
    "max_uncompressed_bytes": "Dung lượng tối đa khi giải nén (byte)",
    "max_rows": "Số dòng tối đa của trang tính",
    "max_columns": "Số cột tối đa của trang tính",
    "max_cells": "Số ô tối đa (dòng × cột) của trang tính",
    "max_ratio": "Tỷ lệ nén tối đa",
    "max_members": "Số thành phần tối đa trong tệp .xlsx",
    "max_table_bytes": "Dung lượng tối đa của dữ liệu các ô khi đọc (byte)",
    "max_read_memory_bytes": "Bộ nhớ tối đa của tiến trình đọc tệp (byte)",
    "max_read_seconds": "Thời gian đọc tệp tối đa (giây)",
}


def _positive(name: str, value) -> int:
    if name not in NAMES:
        raise ValueError(f"Không có giới hạn «{name}»; các giới hạn: {', '.join(NAMES)}.")
    try:
        number = int(str(value).strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"Giới hạn «{name}» phải là số nguyên dương, không phải «{value}».") from None
    if number <= 0:
        raise ValueError(f"Giới hạn «{name}» phải là số nguyên dương, không phải «{value}».")
    return number


def from_env(base: Limits | None = None) -> Limits:
    """The defaults (or `base`) with the `KPI_MAX_*` environment variables applied; a
    variable that is not a positive whole number is ignored."""
    base = base or Limits()
    changes = {}
    for name in NAMES:
        text = os.environ.get(ENV_PREFIX + name.upper())
        if text:
            try:
                changes[name] = _positive(name, text)
            except ValueError:
                continue
    return replace(base, **changes)


def get_limits(con=None) -> Limits:
    """The caps in force: defaults < environment < the store's `meta` (`limits.*`)."""
    limits = from_env()
    if con is None:
        return limits
    try:
        rows = con.execute("SELECT key, value FROM meta WHERE key LIKE 'limits.%'").fetchall()
    except Exception:  # noqa: BLE001 - a store without meta (or closed): the other sources
        return limits
    return _with_meta(limits, rows)


def _with_meta(limits: Limits, rows) -> Limits:
    changes = {}
    for key, value in rows:
        if not key.startswith(META_PREFIX):
            continue
        name = key[len(META_PREFIX):]
        try:
            changes[name] = _positive(name, value)
        except ValueError:
            continue
    return replace(limits, **changes)


def set_limit(con, name: str, value) -> Limits:
    """Store one cap in the store (admin); returns that store's caps, which this process
    uses from now on (set_meta updates the opened store's meta that `active` reads). Raises ValueError (Vietnamese) for an unknown name or a bad value."""
    number = _positive(name, value)
    from store import db

    db.set_meta(con, META_PREFIX + name, str(number))
    return get_limits(con)


def active() -> Limits:
    """The caps uploads are checked against: defaults and environment, then the `meta` of
    the store this process opened last (kept by store.db.connect and set_meta)."""
    from store import db

    return _with_meta(from_env(), db.opened_meta().items())
