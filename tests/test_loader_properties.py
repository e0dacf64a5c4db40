"""Property tests of the dossier loader on arbitrary text: whatever the cells and headers
say, the loader either loads (every row read is loaded, a repeat, or rejected with its row,
column and reason) or rejects the whole file with a LoadError that names it and leaves the
store unchanged; and uploading the same file again never changes a KPI count."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.engine import compute
from kpi.periods import parse
from loaders.dossiers import load_dossier_file
from loaders.files import LoadError
from store import db as store

from .conftest import db_state

TODAY = date(2025, 11, 15)
PERIOD = parse("2024-01-01..2025-11-15")
TABLES = ("dossiers", "dossier_history", "fact_received", "fact_finished", "batches", "rejected_rows",
          "batch_units", "procedures")

anything = st.text(st.characters(codec="utf-8"), max_size=24)      # NUL included: the file is then rejected
text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=24)  # newlines, quotes, RTL...
sheet_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=24)


def cell(valid: st.SearchStrategy, free: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(valid, valid, valid, free)


def dates() -> st.SearchStrategy:
    formats = st.sampled_from(["%d/%m/%Y", "%d/%m/%Y %H:%M", "%Y-%m-%d", "%d-%m-%Y"])
    return st.builds(lambda d, f: d.strftime(f), st.dates(date(2024, 1, 1), TODAY), formats)


def columns(free: st.SearchStrategy) -> dict[str, st.SearchStrategy]:
    return {
        "Mã hồ sơ": cell(st.sampled_from([f"D{i}" for i in range(8)]), free),   # few ids: repeats and replaces
        "Mã xã": cell(st.sampled_from(["16969", "17611", "16681", "16969.0", "99999"]), free),
        "Ngày tiếp nhận": cell(dates(), free),
        "Ngày hẹn trả": cell(dates(), free),
        "Ngày có kết quả": cell(st.sampled_from(["", "", "15/11/2025", "01/01/2024"]), free),
        "Kênh nộp": cell(st.sampled_from(["1", "2", "3", "Trực tuyến", "Trực tiếp", "BCCI", ""]), free),
        "Toàn trình": cell(st.sampled_from(["Có", "Không", "x", "", "1", "0"]), free),
        "Kết quả điện tử": cell(st.sampled_from(["Có", "Không", "Đã", "Chưa", ""]), free),
        "Tên TTHC": free,
    }


@st.composite
def exports(draw, free=text):
    """(header, rows): the required columns, some optional ones, arbitrary extra ones
    (arbitrary header texts too), in any order; 1-25 rows of mostly plausible, partly
    arbitrary cells."""
    known = columns(free)
    optional = draw(st.lists(st.sampled_from(list(known)[3:]), unique=True, max_size=6))
    extra = draw(st.lists(free, max_size=3))
    header = draw(st.permutations(["Mã hồ sơ", "Mã xã", "Ngày tiếp nhận", *optional, *extra]))
    row = st.tuples(*[known.get(h, free) for h in header])
    return header, [list(r) for r in draw(st.lists(row, min_size=1, max_size=25))]


def to_csv(header, rows, delimiter) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([header, *rows])
    return out.getvalue().encode("utf-8")


def to_xlsx(header, rows) -> bytes:
    book = openpyxl.Workbook()
    for row in [header, *rows]:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def shared():
    """One in-memory store for all examples (creating one takes longer than a load); each
    example starts from an empty set of uploads."""
    con = store.connect(":memory:")
    yield con
    con.close()


def reset(con) -> None:
    for table in TABLES:
        con.execute(f"DELETE FROM {table}")


def counts(con) -> list[tuple]:
    values = compute(con, PERIOD, "40", by="commune", today=TODAY)
    return sorted((v.unit_code, v.kpi, v.numerator, v.denominator) for v in values)


def check(con, path, n_rows: int) -> None:
    reset(con)
    before = db_state(con)
    try:
        first = load_dossier_file(con, path, province="40", today=TODAY)
    except LoadError as exc:                       # the only exception allowed
        assert f"«{path.name}»" in str(exc)
        assert db_state(con) == before
        return
    # Every input row is accounted for, once.
    assert first.rows_read == n_rows
    assert first.rows_read == first.loaded + first.duplicates + len(first.rejected)
    rejected_rows = [r["row"] for r in first.rejected]
    assert len(set(rejected_rows)) == len(rejected_rows) and all(2 <= r <= n_rows + 1 for r in rejected_rows)
    assert all(r["column"] and r["reason"] for r in first.rejected)
    stored = {r[0] for r in con.execute("SELECT source_row FROM dossiers").fetchall()}
    assert len(stored) == first.loaded and not stored & set(rejected_rows)
    # Uploading the same file again replaces every dossier and changes no count.
    once = counts(con)
    again = load_dossier_file(con, path, province="40", today=TODAY)
    assert (again.loaded, again.replaced, again.duplicates) == (first.loaded, first.loaded, first.duplicates)
    assert con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == first.loaded
    assert counts(con) == once


SETTINGS = settings(max_examples=40, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large])


@SETTINGS
@given(export=exports(), delimiter=st.sampled_from([",", ";"]))
def test_arbitrary_csv_is_loaded_or_rejected_whole(shared, tmp_path_factory, export, delimiter):
    header, rows = export
    path = tmp_path_factory.mktemp("csv") / "export.csv"
    path.write_bytes(to_csv(header, rows, delimiter))
    check(shared, path, len(rows))


@settings(SETTINGS, max_examples=15)
@given(export=exports(free=sheet_text))
def test_arbitrary_xlsx_is_loaded_or_rejected_whole(shared, tmp_path_factory, export):
    header, rows = export
    path = tmp_path_factory.mktemp("xlsx") / "export.xlsx"
    path.write_bytes(to_xlsx(header, rows))
    check(shared, path, len(rows))


@settings(SETTINGS, max_examples=30)
@given(header=st.lists(anything, min_size=1, max_size=6), rows=st.lists(st.lists(anything, max_size=7), max_size=6))
def test_arbitrary_headers_and_cells_never_crash(shared, tmp_path_factory, header, rows):
    """No required columns at all, ragged rows: still only loads or LoadError."""
    path = tmp_path_factory.mktemp("any") / "any.csv"
    path.write_bytes(to_csv(header, rows, ","))
    reset(shared)
    before = db_state(shared)
    try:
        result = load_dossier_file(shared, path, province="40", today=TODAY)
    except LoadError as exc:
        assert "«any.csv»" in str(exc) and db_state(shared) == before
        return
    assert result.rows_read == result.loaded + result.duplicates + len(result.rejected)
