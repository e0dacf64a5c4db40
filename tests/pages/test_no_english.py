"""Acceptance test of issue 16 item 5 ("nothing English, nothing raw"): every page, run as each
role on a store with uploads, rejected rows, targets and audit entries, shows no English UI
word, no Python repr, no ISO timestamp and no number over 999 without its thousands dots, in
any text it renders: Markdown, captions, headings, alerts, metrics, widget labels and options,
buttons, expanders and tabs, table headers (as the column configuration labels them) and cells
(an empty cell as the table shows it), chart titles, legends and axis labels."""

from __future__ import annotations

import html
import json
import math
import re
from datetime import date, datetime, time

import pytest

from kpi.definitions import KPIS, STATUS_LABELS
from loaders import limits
from loaders.dossiers import FIELDS
from store import accounts
from store import db as store

from .conftest import FIXTURES, app, login, run
from .test_upload_page import FakeUpload

PROVINCE, A = "40", "16969"

# English a Vietnamese official must not see: Streamlit's own words, Python's values, and the
# code's names for columns, fields, KPIs and statuses.
ENGLISH = {
    "None", "True", "False", "nan", "NaN", "NaT", "null", "undefined", "Upload", "Submit", "Error", "Traceback",
    "Exception", "Deploy", "Rerun", "Browse", "Drag", "per file", "Loading", "Warning", "Download",
    "username", "full_name", "unit_code", "unit_name", "plan_slug", "logged_at", "action", "detail", "kpi",
    "value", "op", "deadline", "from_date", "note", "batch_id", "file_name", "loaded_at", "loaded_by",
    "rows_read", "row_no", "column_name", "reason", "status", "active", "undone", "admin", "leader", "officer",
    "analyst", "max_upload_bytes", *FIELDS, *KPIS, *STATUS_LABELS, *limits.LABELS,
}
WORD = re.compile(r"(?<![\w.@/-])(" + "|".join(sorted(map(re.escape, ENGLISH), key=len, reverse=True))
                  + r")(?![\w@/-]|\.\w)")
REPRS = ("{'", "{\"", "['", "[\"", "datetime.", "Timestamp(", "date(", "object at 0x", "<built-in", "Decimal(",
         "[dossier_id]", "\\n")
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2})?")
# Four or more digits in a row that are not part of a formatted number (1.234,5), a date
# (31/12/2025), a time or a dotted code (procedure 1.001612): they must have been grouped.
LONG = re.compile(r"(?<![\d.,/:#-])\d{4,}(?![\d/:-]|[.,]\d)")
RAW_UNIT = re.compile(r"(tỉnh/thành phố|xã/phường|đơn vị) mã \d")  # a unit named by its code alone
YEAR = re.compile(r"(19|20)\d\d")
DOT_DECIMAL = re.compile(r"(?<![\d.,])\d+\.\d{1,2}(?![\d.,])")  # 0.3, 12.5: English decimals (1.234 is a thousand)


def _problems(text: str, where: str, codes: frozenset[str] = frozenset()) -> list[str]:
    found = [f"{where}: English «{m.group(1)}» in {text!r}" for m in WORD.finditer(text) if m.group(1) not in codes]
    found += [f"{where}: Python repr {r!r} in {text!r}" for r in REPRS if r in text]
    found += [f"{where}: unit named by its code in {text!r}" for _ in RAW_UNIT.finditer(text)]
    found += [f"{where}: ISO date in {text!r}" for _ in ISO.finditer(text)][:1]
    for m in LONG.finditer(text):
        digits = m.group(0)
        if (len(digits) == 4 and YEAR.fullmatch(digits)) or digits in codes:
            continue
        found.append(f"{where}: unformatted number {digits} in {text!r}")
    found += [f"{where}: decimal point in {text!r}" for m in DOT_DECIMAL.finditer(text) if m.group(0) not in codes]
    return found


def _plain_markdown(text: str) -> str:
    """Markdown as the reader sees it: escapes and emphasis markers gone, HTML tags stripped."""
    text = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return re.sub(r"\\(.)", r"\1", text).replace("**", "")


def _cell(value, placeholder: str) -> str:
    """A cell as st.dataframe shows it (the empty-cell placeholder, or "None")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return placeholder
    if type(value).__name__ in ("NaTType",):
        return placeholder
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return str(bool(value))
    if isinstance(value, datetime | date | time) or hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return str(value)


def _table_texts(element, codes: frozenset[str]) -> list[tuple[str, str, frozenset[str]]]:
    """(where, text, allowed codes) of a table's visible headers and cells."""
    frame = element.value
    config = {}
    if element.type == "dataframe" and element.proto.columns:
        config = json.loads(element.proto.columns)
    order = list(element.proto.column_order) if element.type == "dataframe" else []
    placeholder = element.proto.placeholder if element.type == "dataframe" and element.proto.HasField(
        "placeholder") else "None"
    texts = []
    for column in frame.columns:
        conf = config.get(f"name:{column}") or config.get(str(column)) or {}
        if conf.get("hidden") or (order and column not in order):
            continue
        header = conf.get("label") or str(column)
        if element.type == "table":  # st.table renders Markdown: shown as the reader sees it
            header = _plain_markdown(header)
        texts.append(("table header", header, codes))
        # A column of codes (Mã …) or of account names may show them as they are.
        identifiers = header.startswith("Mã") or header in ("Tên đăng nhập", "Tài khoản")
        allowed = codes | ({str(v) for v in frame[column]} if identifiers else set())
        for value in frame[column].tolist()[:200]:
            text = _cell(value, placeholder)
            texts.append((f"table cell «{header}»", _plain_markdown(text) if element.type == "table" else text,
                          frozenset(allowed)))
    return texts


_VISIBLE = {"label", "body", "help", "placeholder", "options", "caption", "text", "value", "delta",
            "default_text", "title", "alt", "exception_type", "message", "stack_trace"}


def _proto_strings(proto) -> list[str]:
    """The visible strings of a widget or element proto (labels, options, bodies...)."""
    out = []
    for descriptor, value in proto.ListFields():
        if descriptor.name not in _VISIBLE:
            continue
        values = [value] if isinstance(value, str) else list(value) if hasattr(value, "__iter__") else []
        out.extend(v for v in values if isinstance(v, str))
    return out


def _chart_texts(spec: str) -> list[str]:
    """A Plotly figure's words: trace and legend names, titles, axis and colour bar labels."""
    figure = json.loads(spec)
    out = []

    def walk(node, key=""):
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            if key in ("ticktext",):
                out.extend(str(v) for v in node)
        elif isinstance(node, str) and key in ("name", "text", "title") and not node.startswith("%{"):
            out.append(node)

    for trace in figure.get("data", []):
        if trace.get("showlegend", True) is not False and trace.get("name"):
            out.append(trace["name"])
        for part in ("colorbar", "marker"):
            walk(trace.get(part, {}))
    walk(figure.get("layout", {}))
    return [_plain_markdown(t) for t in out]


def rendered_texts(at, codes: frozenset[str]) -> list[tuple[str, str, frozenset[str]]]:
    """Every text the page shows, as (kind of element, text, codes allowed in it)."""
    texts: list[tuple[str, str, frozenset[str]]] = []

    def visit(node):
        children = getattr(node, "children", None)
        if children is not None:  # a block
            label = getattr(node, "label", None)
            if isinstance(label, str):
                texts.append((node.type, _plain_markdown(label), codes))
            for child in children.values():
                visit(child)
            return
        kind = node.type
        if kind in ("dataframe", "table"):
            texts.extend(_table_texts(node, codes))
            return
        if kind == "plotly_chart":
            texts.extend(("chart", t, codes) for t in _chart_texts(node.proto.spec))
            return
        if kind == "html":
            texts.append(("html", _plain_markdown(node.proto.body), codes))
            return
        texts.extend((kind, _plain_markdown(s), codes) for s in _proto_strings(node.proto))

    visit(at._tree)
    return texts


def _store(golden_db, tmp_path) -> dict[str, str]:
    """Accounts of every role, an upload of 1.234 dossiers (numbers that need their dots), a
    messy upload with rejected rows, a saved column mapping, a target and a changed cap."""
    from loaders import history
    from loaders.dossiers import load_dossier_file
    from tests.pages.test_map import people

    tokens = people(golden_db)
    big = tmp_path / "nhieu_ho_so.csv"
    lines = ["Mã hồ sơ,Mã xã,Mã thủ tục,Tên TTHC,Lĩnh vực,Hình thức nộp,Ngày tiếp nhận,Hạn xử lý,Ngày trả kết quả"]
    lines += [f"NT-{i:05d},{A},1.001193,Đăng ký khai sinh,Hộ tịch,Trực tuyến,0{1 + i % 9}/09/2025,"
              f"2{i % 9}/09/2025,1{i % 9}/09/2025" for i in range(1234)]
    big.write_text("\n".join(lines) + "\n", encoding="utf-8")
    con = store.connect(golden_db)
    try:
        load_dossier_file(con, big, PROVINCE, user="admin")
        load_dossier_file(con, FIXTURES / "messy.csv", PROVINCE, user="canbo")
        history.save_preset(con, ["Mã hồ sơ", "Mã xã"], {"Mã hồ sơ": "dossier_id", "Mã xã": "unit_code"},
                            "mau.csv", "admin")
        limits.set_limit(con, next(iter(limits.LABELS)), 123_456_789)
        accounts.log(con, "admin", "set_limit", f"{next(iter(limits.LABELS))} = 123456789")
        con.execute("INSERT INTO targets (unit_code, kpi, value, op, deadline) "
                    "VALUES ('40', 'full_online_rate', 0.3, '>=', DATE '2025-12-31')")
    finally:
        con.close()
    tokens["admin"] = login(golden_db)
    return tokens


def _codes(db_path) -> frozenset[str]:
    """Unit codes, procedure codes and account names: identifiers, shown as they are next to
    the name they identify (and tolerated in words only there)."""
    con = store.connect(db_path)
    try:
        codes = {c for (c,) in con.execute("SELECT code FROM units UNION SELECT username FROM users "
                                           "UNION SELECT DISTINCT procedure_code FROM dossiers").fetchall() if c}
    finally:
        con.close()
    return frozenset(codes)


PAGES = {
    "admin": ["overview", "map", "drilldown", "tasks", "reports", "upload", "admin", "connections"],
    "lanhdao": ["overview", "map", "drilldown", "tasks", "reports"],
    "canbo": ["overview", "map", "drilldown", "tasks", "reports", "upload"],
    "phantich": ["overview", "map", "drilldown", "tasks", "reports"],
}


@pytest.mark.parametrize("person", list(PAGES))
def test_no_english_nor_raw_text_on_any_page(golden_db, tmp_path, monkeypatch, person):
    import streamlit as st

    tokens = _store(golden_db, tmp_path)
    codes = _codes(golden_db)
    # The upload page with a file chosen: its preview, mapping and rejected rows are shown too.
    monkeypatch.setattr(st, "file_uploader", lambda *a, **k: [FakeUpload(FIXTURES / "messy.csv")])
    problems: list[str] = []
    for page in PAGES[person]:
        at = run(app(page, token=tokens[person], tinh=PROVINCE, ky="2025-09"))
        for where, text, allowed in rendered_texts(at, codes):
            problems += [f"{page}: {p}" for p in _problems(text, where, allowed)]
    assert not problems, "\n".join(dict.fromkeys(problems))


def test_the_scanner_finds_what_it_looks_for():
    """The checks themselves, on texts a page must not show and on texts it may."""
    bad = ["None", "Trạng thái: True", "{'loaded': 3}", "Mã hồ sơ [dossier_id]", "2025-12-07 14:05",
           "46230 dòng", "Mục tiêu 0.3", "không tìm thấy đơn vị «X» trong tỉnh/thành phố mã 40", "Đã hoàn tác 07/12/202 username", "datetime.date(2025, 1, 1)", "Upload"]
    for text in bad:
        assert _problems(text, "test"), text
    good = ["1.234 dòng", "30%", "31/12/2025 14:05", "Năm 2025", "Thủ tục 1.001612", "81,2%",
            "Xã Nghĩa Thọ (16969)", "#2 · 1.234,5", "Quý 3/2025", "messy.csv"]
    for text in good:
        assert not _problems(text, "test", frozenset({"16969"})), text
    assert _cell(None, "None") == "None" and _cell(float("nan"), "") == ""
