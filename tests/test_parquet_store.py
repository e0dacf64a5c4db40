"""The store exported to Hive-partitioned Parquet gives the same KPIs as the store itself;
re-exports rewrite only the partitions that changed; provinces' lakes merge by copying."""

from __future__ import annotations

import shutil

import pytest

from kpi.engine import compute
from kpi.periods import parse
from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file
from store import db as store
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


def _public(con, period: str, unit: str) -> list[dict]:
    return [r.public() for r in compute(con, parse(period), unit, by="commune", today=TODAY)]


def _files(lake) -> dict[str, tuple[int, int]]:
    """relative path -> (inode, mtime_ns) of every Parquet file of the lake's dossiers."""
    return {p.relative_to(lake).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
            for p in (lake / "dossiers").rglob("*.parquet")}


def _same_as_store(con, lake) -> None:
    opened = open_store(lake)
    for period in ("2025-09", "2025-Q4", "2025"):
        assert _public(opened, period, "40") == _public(con, period, "40"), period


def test_reexport_rewrites_only_the_changed_partitions(con, fixtures, tmp_path):
    lake = tmp_path / "lake"
    first = load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    counts = export(con, lake)
    assert (counts["partitions_written"], counts["partitions_removed"]) == (3, 0)
    before = _files(lake)
    assert {k.rsplit("/", 1)[0] for k in before} == {
        "dossiers/province_code=40/year=2025/month=9", "dossiers/province_code=40/year=2025/month=10",
        "dossiers/province_code=40/year=2025/month=11"}

    # nothing new: nothing rewritten, the very same files
    again = export(con, lake)
    assert (again["partitions_written"], again["partitions_removed"]) == (0, 0)
    assert _files(lake) == before

    # golden_update.csv replaces G03 (received in September) and G07 (October): those two
    # partitions are written again, November's file is untouched
    update = load_dossier_file(con, fixtures / "golden_update.csv", province="40", today=TODAY)
    counts = export(con, lake)
    assert (counts["partitions_written"], counts["partitions_removed"]) == (2, 0)
    after = _files(lake)
    november = [k for k in before if "month=11/" in k]
    assert november and all(after[k] == before[k] for k in november)
    assert all(after.get(k) != before[k] for k in before if k not in november)
    _same_as_store(con, lake)

    # an undo brings back the earlier versions: the same two partitions again
    undo_batch(con, update.batch_id)
    counts = export(con, lake)
    assert (counts["partitions_written"], counts["partitions_removed"]) == (2, 0)
    _same_as_store(con, lake)

    # every dossier undone: the partitions go, and the lake has no data, as the store
    undo_batch(con, first.batch_id)
    counts = export(con, lake)
    assert (counts["partitions_written"], counts["partitions_removed"]) == (0, 3)
    assert not list((lake / "dossiers").rglob("*.parquet"))
    _same_as_store(con, lake)


def _other_province(con) -> tuple[str, list[str]]:
    """A province other than Nghệ An and two of its communes."""
    province = con.execute("SELECT min(code) FROM units WHERE level = 'province' AND code <> '40'").fetchall()[0][0]
    communes = [r[0] for r in con.execute(
        "SELECT code FROM units WHERE province_code = ? AND level = 'commune' ORDER BY code LIMIT 2",
        [province]).fetchall()]
    return province, communes


def test_lakes_of_two_provinces_merge_by_copying_folders(fixtures, tmp_path):
    a = store.connect(":memory:")
    load_dossier_file(a, fixtures / "golden.csv", province="40", today=TODAY)
    b = store.connect(":memory:")
    province, (c1, c2) = _other_province(b)
    # the same rows for two communes of another province (golden.csv's 16969 and 17611)
    text = (fixtures / "golden.csv").read_text(encoding="utf-8").replace(",16969,", f",{c1},").replace(
        ",17611,", f",{c2},")
    (tmp_path / "other.csv").write_text(text, encoding="utf-8")
    assert load_dossier_file(b, tmp_path / "other.csv", province=province, today=TODAY).loaded == 10
    export(a, tmp_path / "lake_a")
    export(b, tmp_path / "lake_b")

    files_a = {p.relative_to(tmp_path / "lake_a") for p in (tmp_path / "lake_a").rglob("*") if p.is_file()}
    files_b = {p.relative_to(tmp_path / "lake_b") for p in (tmp_path / "lake_b").rglob("*") if p.is_file()}
    assert files_a and files_b and not files_a & files_b  # copying one onto the other overwrites nothing

    merged = tmp_path / "national"
    shutil.copytree(tmp_path / "lake_a", merged)
    shutil.copytree(tmp_path / "lake_b", merged, dirs_exist_ok=True)
    lake = open_store(merged)
    assert lake.execute("SELECT count(*) FROM dossiers").fetchall() == [(20,)]
    # reference tables that both stores carry are read once
    assert (lake.execute("SELECT count(*) FROM units").fetchall()
            == a.execute("SELECT count(*) FROM units").fetchall())
    assert (lake.execute("SELECT count(*) FROM targets").fetchall()
            == a.execute("SELECT count(*) FROM targets").fetchall())
    for period in ("2025-09", "2025-Q4", "2025-09-01..2025-10-15"):
        assert _public(lake, period, "40") == _public(a, period, "40"), period
        assert _public(lake, period, province) == _public(b, period, province), period
    # each province's lake alone knows only its own dossiers
    assert _public(open_store(tmp_path / "lake_a"), "2025-Q4", province) != _public(b, "2025-Q4", province)

    # re-exporting one province into the merged lake leaves the other's files alone
    others = {p: p.stat().st_mtime_ns for p in merged.rglob("*") if p.is_file() and province in p.as_posix()}
    load_dossier_file(a, fixtures / "golden_update.csv", province="40", today=TODAY)
    export(a, merged)
    assert {p: p.stat().st_mtime_ns for p in others} == others
    assert _public(open_store(merged), "2025-Q4", "40") == _public(a, "2025-Q4", "40")


def test_duckdb_sql_is_unchanged_by_the_dialects():
    from store.components import COMPONENTS, DUCKDB, SPARK, DialectError

    sql = ("SELECT unit_code, " + ", ".join(c.sql for c in COMPONENTS) + " FROM dossiers WHERE province_code = "
           "$province AND unit_code IN (SELECT unnest($units)) AND month < date_trunc('month', $asof)")
    assert DUCKDB.render(sql) == sql
    spark = SPARK.render(sql)
    assert spark.endswith("province_code = :province AND unit_code IN (SELECT explode(:units)) "
                          "AND month < trunc(:asof, 'MM')")
    assert "count(*) FILTER (WHERE channel = 'online')" in spark and "count(fully_online)" in spark
    with pytest.raises(DialectError):
        SPARK.render("SELECT date_trunc('year', received_date) FROM dossiers")
