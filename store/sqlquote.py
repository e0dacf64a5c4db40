"""Quoting for the few SQL statements that cannot take a parameter.

DuckDB binds values with `?` wherever it can (`COPY ... TO ?` included); `EXPORT DATABASE`,
`IMPORT DATABASE` and the text of a `CREATE VIEW` cannot be prepared, so a path or a name that
reaches them goes through `literal` / `identifier` here and nowhere else: never an f-string
around raw text. Both refuse control characters (a NUL ends the statement early in C, a
newline or escape hides what runs in logs) instead of trying to quote them.
"""

from __future__ import annotations

import os
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class UnsafeSQLText(ValueError):
    """A path or name that cannot be put into SQL (Vietnamese message)."""


def check(text: str | os.PathLike, what: str = "Đường dẫn") -> str:
    text = os.fspath(text)
    if not isinstance(text, str):
        raise UnsafeSQLText(f"{what} phải là văn bản.")
    bad = _CONTROL.search(text)
    if bad:
        raise UnsafeSQLText(f"{what} «{text!r}» chứa ký tự điều khiển (mã U+{ord(bad.group()):04X} "
                            f"ở vị trí {bad.start() + 1}): hãy đặt một tên không có ký tự đó.")
    return text


def literal(text: str | os.PathLike, what: str = "Đường dẫn") -> str:
    """A single-quoted SQL string literal: quotes doubled, control characters refused."""
    return "'" + check(text, what).replace("'", "''") + "'"


def identifier(name: str, what: str = "Tên bảng") -> str:
    """A double-quoted SQL identifier: quotes doubled, control characters refused."""
    if not name:
        raise UnsafeSQLText(f"{what} không được để trống.")
    return '"' + check(name, what).replace('"', '""') + '"'
