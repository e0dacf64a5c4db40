"""The store exported to Hive-partitioned Parquet gives the same KPIs as the store itself."""

from __future__ import annotations

from kpi.engine import compute
from kpi.periods import parse
from loaders.dossiers import load_dossier_file
from store.lake import export, open_store

from .conftest import TODAY


def test_kpis_identical_on_partitioned_parquet(con, fixtures, tmp_path):
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    load_dossier_file(con, fixtures / "golden_update.csv", province="40", today=TODAY)
    counts = export(con, tmp_path / "lake")
    assert counts["dossiers"] == 10
    partitions = sorted(p.relative_to(tmp_path / "lake" / "dossiers").as_posix()
                        for p in (tmp_path / "lake" / "dossiers").glob("*/*/*"))
    assert partitions == ["province_code=40/year=2025/month=10", "province_code=40/year=2025/month=11",
                          "province_code=40/year=2025/month=9"]
    lake = open_store(tmp_path / "lake")
    for period in ("2025-09", "2025-Q4", "2025", "2025-09-01..2025-10-15"):
        for unit in ("40", "16969"):
            original = [r.public() for r in compute(con, parse(period), unit, by="commune", today=TODAY)]
            from_parquet = [r.public() for r in compute(lake, parse(period), unit, by="commune", today=TODAY)]
            assert from_parquet == original, (period, unit)
