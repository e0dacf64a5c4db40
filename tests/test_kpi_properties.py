"""Property tests: for any set of dossiers, a province's figures are the pooled figures of
its communes, the monthly facts agree with the raw rows, and both agree with a plain
Python count of the rows that went in."""

from __future__ import annotations

import contextlib
import csv
import io
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi.engine import compute
from kpi.periods import parse
from loaders.dossiers import load_dossier_file
from store import db as store

COMMUNES = ["16969", "17611", "16681"]
TODAY = date(2025, 12, 31)
START = date(2025, 7, 1)

dossier = st.fixed_dictionaries({
    "unit": st.sampled_from(COMMUNES),
    "received": st.integers(0, 150).map(lambda d: START + timedelta(days=d)),
    "due_in": st.one_of(st.none(), st.integers(0, 20)),
    "done_in": st.one_of(st.none(), st.integers(0, 30)),
    "channel": st.sampled_from(["1", "2", "3"]),
    "fully_online": st.booleans(),
    "e_result": st.booleans(),
})


def to_csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Mã hồ sơ", "Mã xã", "Kênh nộp", "Ngày tiếp nhận", "Hạn xử lý", "Ngày có kết quả",
                     "Toàn trình", "Kết quả điện tử"])
    for i, r in enumerate(rows):
        due = r["received"] + timedelta(days=r["due_in"]) if r["due_in"] is not None else None
        done = r["received"] + timedelta(days=r["done_in"]) if r["done_in"] is not None else None
        writer.writerow([f"P{i}", r["unit"], r["channel"], f"{r['received']:%d/%m/%Y}",
                         f"{due:%d/%m/%Y}" if due else "", f"{done:%d/%m/%Y}" if done else "",
                         "Có" if r["fully_online"] else "Không", "Có" if r["e_result"] else "Không"])
    return out.getvalue()


def expected(rows, period, unit=None):
    rows = [r for r in rows if unit is None or r["unit"] == unit]
    received = [r for r in rows if period.start <= r["received"] <= period.end]
    finished = [r for r in rows if r["done_in"] is not None
                and period.start <= r["received"] + timedelta(days=r["done_in"]) <= period.end]
    asof = period.as_of(TODAY)
    overdue = [r for r in rows if r["received"] <= asof and r["due_in"] is not None
               and r["received"] + timedelta(days=r["due_in"]) < asof
               and (r["done_in"] is None or r["received"] + timedelta(days=r["done_in"]) > asof)]
    with_due = [r for r in finished if r["due_in"] is not None]
    return {
        "received": len(received),
        "online": sum(r["channel"] == "2" for r in received),
        "fully_online": sum(r["fully_online"] for r in received),
        "finished": len(finished),
        "e_result": sum(r["e_result"] for r in finished),
        "with_due": len(with_due),
        "on_time": sum(r["done_in"] <= r["due_in"] for r in with_due),
        "overdue": len(overdue),
    }


def observed(rows_by_key, unit):
    def nd(kpi):
        return rows_by_key[(unit, kpi)]
    return {
        "received": nd("received").numerator or 0,
        "online": nd("online_submission_rate").numerator or 0,
        "fully_online": nd("full_online_rate").numerator or 0,
        "finished": nd("e_result_rate").denominator or 0,
        "e_result": nd("e_result_rate").numerator or 0,
        "with_due": nd("on_time_rate").denominator or 0,
        "on_time": nd("on_time_rate").numerator or 0,
        "overdue": nd("overdue_open").numerator or 0,
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(dossier, min_size=1, max_size=40), period_text=st.sampled_from(["2025-08", "2025-Q3", "2025",
                                                                                       "2025-08-10..2025-10-05"]))
def test_province_is_pooled_communes_and_matches_rows(tmp_path_factory, rows, period_text):
    path = tmp_path_factory.mktemp("prop") / "export.csv"
    path.write_text(to_csv(rows), encoding="utf-8")
    con = store.connect(":memory:")
    result = load_dossier_file(con, path, province="40", today=TODAY)
    assert result.rejected == [] and result.loaded == len(rows)
    period = parse(period_text)
    for use_facts in (True, False):
        got = {(r.unit_code, r.kpi): r for r in compute(con, period, "40", by="commune", today=TODAY,
                                                       use_facts=use_facts)}
        assert observed(got, "40") == expected(rows, period)
        for unit in COMMUNES:
            assert observed(got, unit) == expected(rows, period, unit)
        rate = got[("40", "full_online_rate")]
        members = [got[(u, "full_online_rate")] for u in COMMUNES]
        assert rate.denominator == (sum(m.denominator or 0 for m in members) or None)
    con.close()


def _derived_tables_match_dossiers(con) -> None:
    """The store's derived tables equal what a full rebuild from `dossiers` gives."""
    from store.components import FACT_KEYS, FACT_TABLES, fact_components, overdue_candidates_select

    def rows(sql):
        return sorted(map(repr, con.execute(sql).fetchall()))

    assert rows("SELECT * FROM overdue_candidates") == rows(overdue_candidates_select())
    for table, date_col in FACT_TABLES.items():
        comps = fact_components(table)
        keys, names = ", ".join(FACT_KEYS), ", ".join(c.name for c in comps)
        rebuilt = (f"SELECT unit_code, province_code, date_trunc('month', {date_col})::DATE AS month, procedure_code, "
                   f"field, {', '.join(c.sql for c in comps)} FROM dossiers WHERE {date_col} IS NOT NULL GROUP BY ALL")
        assert rows(f"SELECT {keys}, {names} FROM {table}") == rows(rebuilt), table


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(uploads=st.lists(st.lists(st.tuples(st.integers(0, 12), dossier), min_size=1, max_size=15),
                        min_size=1, max_size=4),
       undo=st.lists(st.integers(0, 3), max_size=3),
       period_text=st.sampled_from(["2025-08", "2025-Q3", "2025", "2025-08-10..2025-10-05"]))
def test_reuploads_and_undos_keep_derived_tables_and_overdue_counts_right(tmp_path_factory, uploads, undo,
                                                                         period_text):
    """Uploads that replace each other's dossiers (same ids: another unit, month, due or
    finish date) and undos in any order: the monthly facts and the overdue candidates the
    loads and undos maintain cell by cell stay what a rebuild from `dossiers` gives, and the
    KPIs from them equal the KPIs from the rows."""
    from loaders.batches import UndoError, undo_batch

    con = store.connect(":memory:")
    folder = tmp_path_factory.mktemp("seq")
    batch_ids = []
    for n, upload in enumerate(uploads):
        unique = {dossier_no: row for dossier_no, row in upload}  # one row per id within a file
        text = to_csv(list(unique.values()))
        lines = text.splitlines()
        ids = list(unique)
        lines = [lines[0]] + [line.replace(f"P{i},", f"P{ids[i]},", 1) for i, line in enumerate(lines[1:])]
        path = folder / f"u{n}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        batch_ids.append(load_dossier_file(con, path, province="40", today=TODAY).batch_id)
        _derived_tables_match_dossiers(con)
    for index in undo:
        if index < len(batch_ids):
            with contextlib.suppress(UndoError):  # undone already
                undo_batch(con, batch_ids[index])
            _derived_tables_match_dossiers(con)
    period = parse(period_text)
    by_facts, by_rows = (
        {(r.unit_code, r.kpi): (r.numerator, r.denominator)
         for r in compute(con, period, "40", by="commune", today=TODAY, use_facts=use_facts)}
        for use_facts in (True, False))
    assert by_facts == by_rows
    con.close()
