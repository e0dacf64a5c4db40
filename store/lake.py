"""National scale: export the store to Hive-partitioned Parquet and read KPIs from it.

`python -m store.lake export --db PATH --out DIR` writes dossiers partitioned by
province/year/month (received date) and the other KPI tables (LAKE_TABLES) as one Parquet file
each; accounts, sessions and the audit log are never exported. `open_store(DIR)`
gives an in-memory DuckDB whose tables are views over those files, so `kpi.engine.compute`
runs unchanged on them, and so would Spark or Trino over the same folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from store import db as store
from store import sqlquote

PARTITIONED = "dossiers"
PARTITION_COLUMNS = ("province_code", "year", "month")
# What a lake shares: the tables the KPI engine reads, and nothing else. Accounts, sessions,
# the audit log (password hashes, who did what), upload history with file names and users,
# rejected rows (original cells) and SQL source URLs stay in the province's store.
LAKE_TABLES = ("units", "procedures", "targets", "dossiers", "fact_received", "fact_finished",
               "template_rows", "catalogue_services", "archive_stats", "plan_tasks")


def _tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()]


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
    ).fetchall()]


def export(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Write the KPI tables (LAKE_TABLES); returns rows per table. Paths are bound as
    parameters, table names quoted: nothing of `out` is spliced into SQL."""
    out = Path(out)
    sqlquote.check(out)  # before anything is created: a control character is refused, not quoted
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    present = set(_tables(con))
    for table in LAKE_TABLES:
        if table not in present:
            continue
        name = sqlquote.identifier(table)
        counts[table] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        if table == PARTITIONED:
            con.execute(
                f"""COPY (SELECT *, year(received_date) AS year, month(received_date) AS month FROM {name})
                    TO ? (FORMAT parquet, PARTITION_BY ({', '.join(PARTITION_COLUMNS)}),
                    OVERWRITE_OR_IGNORE true)""",
                [(out / table).as_posix()],
            )
        else:
            con.execute(f"COPY {name} TO ? (FORMAT parquet)", [(out / f"{table}.parquet").as_posix()])
    return counts


def open_store(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection whose tables are views over an exported folder (only the
    files of LAKE_TABLES: another file in the folder does not name a view)."""
    folder = Path(folder)
    con = duckdb.connect(":memory:")
    for table in LAKE_TABLES:
        file = folder / f"{table}.parquet"
        if table != PARTITIONED and file.is_file():
            con.execute(f"CREATE VIEW {sqlquote.identifier(table)} AS SELECT * FROM "
                        f"read_parquet({sqlquote.literal(file.as_posix())})")
    columns = _columns(store.connect(":memory:"), PARTITIONED)
    glob = (folder / PARTITIONED / "**" / "*.parquet").as_posix()
    con.execute(
        f"""CREATE VIEW {PARTITIONED} AS SELECT {', '.join(sqlquote.identifier(c) for c in columns)}
            FROM read_parquet({sqlquote.literal(glob)},
            hive_partitioning = true, hive_types = {{'province_code': VARCHAR, 'year': INTEGER, 'month': INTEGER}})"""
    )
    return con


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m store.lake")
    sub = parser.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("export", help="xuất kho ra Parquet phân vùng tỉnh/năm/tháng")
    exp.add_argument("--db", default=None)
    exp.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    con = store.connect(args.db, read_only=True)
    try:
        counts = export(con, args.out)
    except sqlquote.UnsafeSQLText as exc:
        print(f"LỖI  {exc}", file=sys.stderr)
        return 1
    for table, n in counts.items():
        print(f"{table}: {n} dòng")
    return 0


if __name__ == "__main__":
    sys.exit(main())
