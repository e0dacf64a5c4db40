"""paid_online_rate, "Tỷ lệ hồ sơ thanh toán trực tuyến" = received dossiers paid online /
received dossiers whose payment flag is known: golden values computed by hand from
tests/fixtures/golden_paid.csv, and the KPI reaching every door from its one declaration.

A = 16969 Xã Nghĩa Thọ, B = 17611 Xã Vân Tụ (Nghệ An, 40). «Thanh toán trực tuyến» (an empty
cell is Không, the "x or empty" convention; a file without the column leaves it unknown):
September: A P01 Có (02/09), P02 Có (05/09), P03 Không (20/09), P04 empty (21/09);
           B P05 Không (03/09), P06 empty (25/09).
October:   A P07 Có; B P08 empty.
golden.csv (no such column) is loaded too: its dossiers count as received, never in the rate.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kpi import drill
from kpi.definitions import KPIS
from kpi.engine import compute
from kpi.periods import parse
from loaders.dossiers import load_dossier_file
from reports import builder

from .conftest import TODAY

A, B, PROVINCE = "16969", "17611", "40"
KPI = "paid_online_rate"

EXPECTED = {
    "2025-09": {A: (2, 4), B: (0, 2), PROVINCE: (2, 6)},
    "2025-Q3": {A: (2, 4), B: (0, 2), PROVINCE: (2, 6)},
    "2025-10": {A: (1, 1), B: (0, 1), PROVINCE: (1, 2)},
    "2025-09-01..2025-09-15": {A: (2, 2), B: (0, 1), PROVINCE: (2, 3)},  # a date range reads the rows
    "2025": {A: (3, 5), B: (0, 3), PROVINCE: (3, 8)},
}


@pytest.fixture
def paid(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    result = load_dossier_file(con, fixtures / "golden_paid.csv", province=PROVINCE, today=TODAY)
    assert (result.loaded, result.rejected) == (8, [])
    return con


def figures(con, period):
    return {r.unit_code: r for r in compute(con, parse(period), PROVINCE, by="commune", today=TODAY, kpis=[KPI])}


@pytest.mark.parametrize("period", list(EXPECTED))
def test_golden(paid, period):
    got = figures(paid, period)
    for unit, (num, den) in EXPECTED[period].items():
        r = got[unit]
        assert (r.numerator, r.denominator) == (num, den), (period, unit)
        assert r.value == pytest.approx(num / den), (period, unit)
    received = {r.unit_code: r.numerator for r in compute(paid, parse(period), PROVINCE, by="commune", today=TODAY,
                                                            kpis=["received"])}
    if period == "2025-09":
        assert received[PROVINCE] == 11  # golden.csv's 5 have no payment flag: not in the denominator 6


def test_a_file_without_the_column_is_no_data(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province=PROVINCE, today=TODAY)
    r = figures(con, "2025-09")[PROVINCE]
    assert (r.numerator, r.denominator, r.value, r.status) == (0, 0, None, "no_data")


def test_drill_down_lists_the_counted_dossiers(paid):
    assert KPI in drill.DRILL_KPIS
    node = drill.Node(PROVINCE, parse("2025-09"), TODAY)
    ids = {part: sorted(drill.dossiers(paid, node, KPI, part, limit=None)["dossier_id"])
           for part in drill.parts(KPI)}
    assert ids == {"numerator": ["P01", "P02"], "denominator": ["P01", "P02", "P03", "P04", "P05", "P06"],
                   "gap": ["P03", "P04", "P05", "P06"]}
    assert drill.describe_part(KPI, "numerator", TODAY).startswith("hồ sơ tiếp nhận trong kỳ đã thanh toán trực tuyến")


def test_cli_reports_it(tmp_path, fixtures):
    db = str(tmp_path / "kpi.duckdb")

    def run(*args):
        return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, check=True)
    run("loaders", str(fixtures / "golden_paid.csv"), "--db", db, "--province", PROVINCE)
    out = run("kpi", "--db", db, "--period", "2025-09", "--unit", PROVINCE, "--format", "json", "--today", "2025-11-15")
    record = next(r for r in json.loads(out.stdout) if r["kpi"] == KPI)
    assert (record["numerator"], record["denominator"]) == (2, 6) and record["value"] == pytest.approx(2 / 6)


def test_reports_list_it(paid):
    report = builder.build(paid, PROVINCE, parse("2025-09"), TODAY)
    line = next(k for k in report.kpis if k.kpi == KPI)
    assert (line.label, line.numerator, line.denominator) == ("Tỷ lệ hồ sơ thanh toán trực tuyến", 2, 6)


def test_declared_once():
    defn = KPIS[KPI]
    assert (defn.numerator, defn.denominator, defn.kind, defn.source) == ("paid_online", "paid_online_known", "rate",
                                                                          "dossier")
