"""Excel export of any table (xlsxwriter). Text cells that Excel would run as a formula
(=, +, -, @ at the start, or a tab/CR) are written as plain text with a leading
apostrophe, so an uploaded name like '=HYPERLINK(...)' can never execute on a
leader's machine."""

from __future__ import annotations

import io
from datetime import date, datetime

import polars as pl
import xlsxwriter

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_xlsx(sheets: dict[str, pl.DataFrame], percent_columns: set[str] | None = None,
            title: str | None = None) -> bytes:
    """Workbook bytes; `percent_columns` (by header) are shown as 0,0%."""
    percent_columns = percent_columns or set()
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                        "strings_to_urls": False, "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"})
    title_fmt = book.add_format({"bold": True, "font_size": 13})
    pct = book.add_format({"num_format": "0.0%"})
    integer = book.add_format({"num_format": "#,##0"})
    decimal = book.add_format({"num_format": "#,##0.0"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    stamp = book.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for sheet_name, frame in sheets.items():
        ws = book.add_worksheet(safe_sheet_name(sheet_name))
        top = 0
        if title:
            ws.write_string(0, 0, safe_text(title), title_fmt)
            top = 2
        for col, header in enumerate(frame.columns):
            ws.write_string(top, col, safe_text(str(header)), bold)
            ws.set_column(col, col, min(60, max(10, len(str(header)) + 2)))
        for r, row in enumerate(frame.iter_rows(), start=top + 1):
            for c, value in enumerate(row):
                header = frame.columns[c]
                if value is None:
                    ws.write_blank(r, c, None)
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
                    ws.write_string(r, c, safe_text(str(value)))
        ws.freeze_panes(top + 1, 0)
        if frame.height:
            ws.autofilter(top, 0, top + frame.height, max(0, frame.width - 1))
    book.close()
    return buffer.getvalue()


def safe_sheet_name(name: str) -> str:
    cleaned = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31]
    return cleaned or "Sheet1"
