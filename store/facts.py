"""The monthly fact tables and the overdue candidates, recomputed from the dossiers: for the
(unit, month) cells a load or an undo touched, or all of them when the component declarations
changed (store.migrations). Their columns come from store.components, written by name."""

from __future__ import annotations

import duckdb

from store.components import FACT_KEYS, FACT_TABLES, OVERDUE_CANDIDATES, fact_components, overdue_candidates_select


def refresh_facts(con: duckdb.DuckDBPyConnection, everything: bool = False) -> None:
    """Recompute the monthly facts of the (unit, month) cells listed in temp table `touched`
    (dropped afterwards), or with `everything` all of them (the rebuild after the component
    declarations changed, store.migrations). Columns are written by name, from store.components."""
    if not everything:
        con.execute("CREATE OR REPLACE TEMP TABLE touched_cells AS SELECT DISTINCT * FROM touched")
    for table, date_col in FACT_TABLES.items():
        comps = fact_components(table)
        columns = ", ".join((*FACT_KEYS, *(c.name for c in comps)))
        counts = ", ".join(f"{c.sql} AS {c.name}" for c in comps)
        if everything:
            con.execute(f"DELETE FROM {table}")
            only = ""
        else:
            con.execute(
                f"""DELETE FROM {table} f USING touched_cells t
                    WHERE f.unit_code = t.unit_code AND f.month = t.month"""
            )
            only = f"""SEMI JOIN touched_cells t
                  ON d.unit_code = t.unit_code AND date_trunc('month', d.{date_col})::DATE = t.month"""
        con.execute(
            f"""INSERT INTO {table} ({columns})
                SELECT d.unit_code, d.province_code, date_trunc('month', d.{date_col})::DATE AS month,
                       d.procedure_code, d.field, {counts}
                FROM dossiers d
                {only}
                WHERE d.{date_col} IS NOT NULL
                GROUP BY ALL"""
        )
    _refresh_overdue_candidates(con, everything)
    if not everything:
        con.execute("DROP TABLE touched_cells")
        con.execute("DROP TABLE touched")


def _refresh_overdue_candidates(con: duckdb.DuckDBPyConnection, everything: bool) -> None:
    """The candidates of the touched cells, by each dossier's (unit, month received): every
    dossier a load or an undo added, removed or replaced has its cell there (loaders.batches
    marks the received month of each), and a cell's other dossiers are written back as they
    were."""
    if everything:
        con.execute(f"DELETE FROM {OVERDUE_CANDIDATES}")
        con.execute(f"INSERT INTO {OVERDUE_CANDIDATES} {overdue_candidates_select('d')}")
        return
    con.execute(
        f"""DELETE FROM {OVERDUE_CANDIDATES} c USING touched_cells t
            WHERE c.unit_code = t.unit_code AND date_trunc('month', c.received_date)::DATE = t.month"""
    )
    join = ("SEMI JOIN touched_cells t "
            "ON d.unit_code = t.unit_code AND date_trunc('month', d.received_date)::DATE = t.month")
    con.execute(f"INSERT INTO {OVERDUE_CANDIDATES} {overdue_candidates_select('d', join)}")
