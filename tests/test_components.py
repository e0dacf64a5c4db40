"""Components as values: each count is declared once (store.components.Component) and its SQL,
the fact tables' columns, the drill-down's conditions and the descriptions come from it."""

from __future__ import annotations

from kpi import drill
from kpi.definitions import KPIS
from loaders.dossiers import load_dossier_file
from store import components
from store.components import BY_NAME, COMPONENTS, FACT_KEYS, FACT_TABLES, Component, fact_components

from .conftest import TODAY


def test_sql_and_descriptions_come_from_the_declaration():
    c = Component("x", "received_date", "channel = 'post'", "hồ sơ gửi qua bưu chính")
    assert c.sql == "count(*) FILTER (WHERE channel = 'post')"
    assert c.where == "channel = 'post'"
    assert Component("y", "finished_date", None, "…").sql == "count(*)"
    assert Component("z", "finished_date", "e_result IS NOT NULL", "…").sql == "count(e_result)"
    assert components.RECEIVED_COMPONENTS["received_online"] == "count(*) FILTER (WHERE channel = 'online')"
    assert set(drill.COMPONENT_VI) == set(BY_NAME)
    assert all(c.description.startswith("hồ sơ") for c in BY_NAME.values())
    assert len({c.name for c in COMPONENTS}) == len(COMPONENTS)
    assert all(c.date_column in FACT_TABLES.values() for c in COMPONENTS)


def test_every_dossier_kpi_counts_declared_components():
    for kid, defn in KPIS.items():
        if defn.source == "dossier":
            assert defn.numerator in BY_NAME, kid
            assert defn.denominator is None or defn.denominator in BY_NAME, kid


def test_fact_tables_have_a_column_per_component(con):
    for table in FACT_TABLES:
        columns = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
        assert columns == [*FACT_KEYS, *(c.name for c in fact_components(table))]


def test_facts_are_written_by_column_name(con, fixtures):
    # A store whose fact table lists its counts in another order (as an older store may) is
    # filled by name: each count lands in its own column.
    columns = [*FACT_KEYS, *reversed([c.name for c in fact_components("fact_received")])]
    con.execute("DROP TABLE fact_received")
    con.execute(f"CREATE TABLE fact_received ({', '.join(f'{c} BIGINT' if c not in FACT_KEYS else f'{c} VARCHAR' for c in columns)})")
    con.execute("ALTER TABLE fact_received ALTER month TYPE DATE")
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    got = con.execute("SELECT sum(received), sum(received_online), sum(fully_online_known) FROM fact_received "
                      "WHERE month = DATE '2025-09-01'").fetchall()[0]
    raw = con.execute("""SELECT count(*), count(*) FILTER (WHERE channel = 'online'), count(fully_online)
                         FROM dossiers WHERE date_trunc('month', received_date) = DATE '2025-09-01'""").fetchall()[0]
    assert got == raw
    assert got[0] == 5
