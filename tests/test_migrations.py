"""Named migrations (store/migrations.py): a store of the previous release (commit a31ef3a,
its schema kept in tests/fixtures/store_a31ef3a.sql) opens with this code, is migrated, gives
the same KPIs as the same files loaded fresh, and accepts new uploads; the monthly facts are
rebuilt when the component declarations change."""

from __future__ import annotations

import duckdb
import pytest

from kpi.engine import compute
from kpi.periods import parse
from loaders.dossiers import load_dossier_file
from store import components, migrations
from store import db as store
from store.components import FACT_KEYS, FACT_TABLES, Component

from .conftest import FIXTURES, TODAY

PROVINCE = "40"
PERIODS = ("2025-09", "2025-10", "2025-Q3", "2025-Q4", "2025", "2025-09-01..2025-10-15")


def figures(con) -> dict:
    out = {}
    for period in PERIODS:
        for r in compute(con, parse(period), PROVINCE, by="commune", today=TODAY):
            out[(period, r.unit_code, r.kpi)] = (r.numerator, r.denominator, r.value)
    return out


def columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND table_name = ? "
        "ORDER BY column_index", [table]).fetchall()]


def build_old_store(path, fresh_path) -> None:
    """A store as release a31ef3a left it: its schema, `schema_version` 1, no `migrations`
    table, and the rows of the fresh store (loaded with the same files) in the old tables'
    columns, so its fact tables hold the counts the old code computed."""
    con = duckdb.connect(str(path))
    con.execute((FIXTURES / "store_a31ef3a.sql").read_text(encoding="utf-8"))
    con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    con.execute(f"ATTACH '{fresh_path}' AS fresh (READ_ONLY)")
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()]
    for table in tables:
        if table == "meta":
            continue
        cols = ", ".join(columns(con, table))
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM fresh.{table}")
    last = con.execute("SELECT max(batch_id) FROM batches").fetchall()[0][0]
    con.execute(f"SELECT nextval('batch_seq') FROM range({last})")
    con.execute("DETACH fresh")
    con.close()


@pytest.fixture
def stores(tmp_path):
    """(old store path, fresh store path), both holding golden.csv and golden_paid.csv."""
    fresh = tmp_path / "fresh.duckdb"
    con = store.connect(fresh)
    load_dossier_file(con, FIXTURES / "golden.csv", province=PROVINCE, today=TODAY)
    load_dossier_file(con, FIXTURES / "golden_paid.csv", province=PROVINCE, today=TODAY)
    con.close()
    old = tmp_path / "old.duckdb"
    build_old_store(old, fresh)
    return old, fresh


def test_old_store_is_migrated_and_gives_the_same_kpis(stores):
    old, fresh = stores
    check = duckdb.connect(str(old), read_only=True)
    assert "procedures_added" not in [r[0] for r in check.execute("SHOW TABLES").fetchall()]
    old_facts = columns(check, "fact_received")
    check.close()
    assert set(old_facts) < set(components.RECEIVED_COMPONENTS) | set(FACT_KEYS)  # the old layout
    assert "paid_online" not in old_facts

    con = store.connect(old)
    names = migrations.applied(con)
    assert [n for n in names if not n.startswith("rebuild_facts")] == [name for name, _ in migrations.MIGRATIONS]
    assert f"rebuild_facts {components.fingerprint()}" in names
    assert migrations.pending(con) == []
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert {"procedures_added", "login_throttle", "migrations"} <= tables
    assert con.execute("SELECT count(*) FROM meta WHERE key = 'schema_version'").fetchall() == [(0,)]
    for table in FACT_TABLES:
        assert columns(con, table) == [*FACT_KEYS, *(c.name for c in components.fact_components(table))]

    new = store.connect(fresh)
    assert figures(con) == figures(new)
    assert (con.execute("SELECT sum(paid_online_known) FROM fact_received").fetchall()
            == con.execute("SELECT count(paid_online) FROM dossiers").fetchall())  # the new facts, from dossiers
    for table in FACT_TABLES:
        assert (con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()
                == new.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall())

    # It accepts new uploads (and their undo), giving what the fresh store gives.
    for c in (con, new):
        result = load_dossier_file(c, FIXTURES / "golden_update.csv", province=PROVINCE, today=TODAY)
        assert not result.rejected
    assert figures(con) == figures(new)
    assert (con.execute("SELECT max(batch_id) FROM batches").fetchall()
            == new.execute("SELECT max(batch_id) FROM batches").fetchall())
    con.close()
    new.close()

    again = store.connect(old)  # nothing left to do on the next open
    assert migrations.migrate(again) == []
    again.close()


def test_read_only_open_of_an_old_store_says_to_upgrade(stores):
    old, _ = stores
    with pytest.raises(store.StoreOutdated, match="cần được nâng cấp"):
        store.connect(old, read_only=True)
    store.connect(old).close()
    store.connect(old, read_only=True).close()


def test_each_migration_applies_once_in_order_in_a_transaction(tmp_path, monkeypatch):
    path = tmp_path / "kpi.duckdb"
    store.connect(path).close()
    calls = []

    def added(con):
        calls.append("added")
        con.execute("CREATE TABLE extra (x INTEGER)")

    def broken(con):
        con.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("0900_extra", added),
                                                   ("0901_broken", broken)])
    with pytest.raises(RuntimeError):
        store.connect(path)
    con = duckdb.connect(str(path))
    tables = {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    assert "extra" in tables and "half_done" not in tables  # the broken one rolled back whole
    assert "0900_extra" in migrations.applied(con) and "0901_broken" not in migrations.applied(con)
    con.close()
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS[:-1]])
    store.connect(path).close()
    assert calls == ["added"]


def test_facts_are_rebuilt_when_the_components_change(tmp_path, monkeypatch):
    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province=PROVINCE, today=TODAY)
    con.close()
    extra = Component("received_post", "received_date", "channel = 'post'", "hồ sơ tiếp nhận trong kỳ, gửi qua bưu chính")
    monkeypatch.setattr(components, "COMPONENTS", (*components.COMPONENTS, extra))
    check = duckdb.connect(str(path), read_only=True)
    assert migrations.pending(check) == ["rebuild_facts"]
    check.close()
    con = store.connect(path)
    assert "received_post" in columns(con, "fact_received")
    got = con.execute("SELECT sum(received_post) FROM fact_received").fetchall()[0][0]
    assert got == con.execute("SELECT count(*) FROM dossiers WHERE channel = 'post'").fetchall()[0][0]
    assert got > 0
    con.close()
