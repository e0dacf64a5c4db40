"""Excel export of any table (xlsxwriter). Every text is written as a string cell, never
a formula; text that Excel would run as a formula once someone edits the cell (=, +, -,
@ at the start, or a tab/CR) also gets Excel's hidden quote prefix, so an uploaded name
like '=HYPERLINK(...)' can never execute on a leader's machine, while the text itself is
kept exactly (the rejected-rows file is fixed and uploaded again). Excel holds at most
32,767 characters in a cell: longer text is cut with a visible note."""

from __future__ import annotations

import io
import math
from datetime import date, datetime

import polars as pl
import xlsxwriter

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


MAX_CELL = 32_767


def safe_text(value: str) -> str:
    """With a visible apostrophe, for writers that cannot set a cell format (reports)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _fit(value: str) -> str:
    if len(value) <= MAX_CELL:
        return value
    note = f"… [đã cắt bớt: ô gốc dài {len(value):,} ký tự, Excel chỉ chứa {MAX_CELL:,}]".replace(",", ".")
    return value[: MAX_CELL - len(note)] + note


def to_xlsx(sheets: dict[str, pl.DataFrame], percent_columns: set[str] | None = None,
            title: str | None = None) -> bytes:
    """Workbook bytes; `percent_columns` (by header) are shown as 0,0%."""
    percent_columns = percent_columns or set()
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    header_style = {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
    title_style = {"bold": True, "font_size": 13}
    # (plain, with Excel's quote prefix) per text style
    body = (None, book.add_format({"quote_prefix": True}))
    bold = (book.add_format(header_style), book.add_format({**header_style, "quote_prefix": True}))
    title_fmt = (book.add_format(title_style), book.add_format({**title_style, "quote_prefix": True}))
    pct = book.add_format({"num_format": "0.0%"})
    integer = book.add_format({"num_format": "#,##0"})
    decimal = book.add_format({"num_format": "#,##0.0"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    stamp = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})

    def text(ws, r: int, c: int, value: str, style=body) -> None:
        value = _fit(value)
        ws.write_string(r, c, value, style[1] if value.startswith(_FORMULA_START) else style[0])

    for sheet_name, frame in sheets.items():
        ws = book.add_worksheet(safe_sheet_name(sheet_name))
        top = 0
        if title:
            text(ws, 0, 0, title, title_fmt)
            top = 2
        columns = frame.columns  # a new list on every access: read it once (10,000-column files)
        for col, header in enumerate(columns):
            text(ws, top, col, str(header), bold)
            ws.set_column(col, col, min(60, max(10, len(str(header)) + 2)))
        for r, row in enumerate(frame.iter_rows(), start=top + 1):
            for c, value in enumerate(row):
                header = columns[c]
                if value is None or (isinstance(value, float) and not math.isfinite(value)):
                    ws.write_blank(r, c, None)  # NaN/inf would need an error formula: no data instead
                elif isinstance(value, bool):
                    ws.write_string(r, c, "Có" if value else "Không")
                elif isinstance(value, int | float):
                    fmt = pct if header in percent_columns else (integer if float(value).is_integer() else decimal)
                    ws.write_number(r, c, value, fmt)
                elif isinstance(value, datetime):
                    ws.write_datetime(r, c, value, stamp)
                elif isinstance(value, date):
                    ws.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
                else:
                    text(ws, r, c, str(value))
        ws.freeze_panes(top + 1, 0)
        if frame.height:
            ws.autofilter(top, 0, top + frame.height, max(0, frame.width - 1))
    book.close()
    return buffer.getvalue()


def safe_sheet_name(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31]
    return cleaned or "Sheet1"
