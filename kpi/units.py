"""What the store holds, for any door (pages, CLI, the coming API): the units to pick from
(provinces, a province's communes, a unit's name, the provinces some units belong to), the
months that have facts, and the data version (last batch, undo count) that caches key on.

Plain functions over a DuckDB connection or cursor, no Streamlit; `ui/data.py` wraps them in
`st.cache_data` keyed by `data_version`.
"""

from __future__ import annotations

from datetime import date

import duckdb


def data_version(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """(last batch id, number of undone batches): changes with every upload and every undo."""
    return tuple(con.execute(
        "SELECT coalesce(max(batch_id), 0), count(*) FILTER (WHERE status = 'undone') FROM batches"
    ).fetchall()[0])


def province_versions(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str, int, int]]:
    """Per province, what data_version is for the whole store: ("tỉnh", code, last batch id that
    touched it, undone batches that touched it). A batch touches the provinces of the units it
    wrote and its own province; one that names neither counts for every province. A figure of
    one province cached under its version stays valid while other provinces upload (the tag
    keeps these keys apart from data_version's)."""
    rows = con.execute(
        """WITH touched AS (
               SELECT b.batch_id, b.status, u.province_code AS p FROM batches b
               JOIN batch_units bu ON bu.batch_id = b.batch_id JOIN units u ON u.code = bu.unit_code
               UNION SELECT batch_id, status, province_code FROM batches WHERE province_code IS NOT NULL
               UNION SELECT b.batch_id, b.status, NULL FROM batches b WHERE b.province_code IS NULL
                     AND NOT EXISTS (SELECT 1 FROM batch_units bu WHERE bu.batch_id = b.batch_id))
           SELECT pr.code, coalesce(max(t.batch_id), 0), count(t.batch_id) FILTER (WHERE t.status = 'undone')
           FROM units pr LEFT JOIN touched t ON t.p = pr.code OR t.p IS NULL
           WHERE pr.level = 'province' GROUP BY pr.code""").fetchall()
    return {code: ("tỉnh", code, last, undone) for code, last, undone in rows}


def provinces(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(code, name, dossiers) for the 34 provinces, those with data first."""
    return con.execute(
        """SELECT u.code, u.full_name, coalesce(sum(f.received), 0)::BIGINT AS n
           FROM units u LEFT JOIN fact_received f ON f.province_code = u.code
           WHERE u.level = 'province' GROUP BY ALL ORDER BY n DESC, u.code"""
    ).fetchall()


def communes(con: duckdb.DuckDBPyConnection, province: str) -> list[tuple[str, str]]:
    """(code, name) of a province's communes, by name."""
    return con.execute(
        "SELECT code, full_name FROM units WHERE province_code = ? AND level = 'commune' ORDER BY name", [province]
    ).fetchall()


def unit_name(con: duckdb.DuckDBPyConnection, code: str) -> str:
    """A unit's full name; the code itself when the unit is unknown."""
    rows = con.execute("SELECT full_name FROM units WHERE code = ?", [code]).fetchall()
    return rows[0][0] if rows else code


def provinces_of(con: duckdb.DuckDBPyConnection, codes: tuple[str, ...] | list[str]) -> frozenset[str]:
    """The provinces these units belong to (a province belongs to itself)."""
    rows = con.execute("SELECT DISTINCT province_code FROM units WHERE list_contains(?::VARCHAR[], code)",
                       [list(codes)]).fetchall()
    return frozenset(code for (code,) in rows)


def data_months(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """First and last month with dossier facts (None, None on an empty store)."""
    first, last = con.execute("SELECT min(month), max(month) FROM fact_received").fetchall()[0]
    return first, last
