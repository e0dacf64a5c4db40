"""Property tests: for any set of dossiers, a province's figures are the pooled figures of
its communes, the monthly facts agree with the raw rows, and both agree with a plain
Python count of the rows that went in."""

from __future__ import annotations

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
