"""National scale: export the store to Hive-partitioned Parquet and read KPIs from it.

`python -m loaders.parquet_store export --db PATH --out DIR` writes dossiers partitioned by
province/year/month (received date) and every other table as one Parquet file. `open_store(DIR)`
gives an in-memory DuckDB whose tables are views over those files, so `kpi.engine.compute`
runs unchanged on them, and so would Spark or Trino over the same folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import duckdb

from loaders import store

PARTITIONED = "dossiers"
PARTITION_COLUMNS = ("province_code", "year", "month")


def _tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()]


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
    ).fetchall()]


def export(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Write every table; returns rows per table."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for table in _tables(con):
        counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        if table == PARTITIONED:
            target = (out / table).as_posix()
            con.execute(
                f"""COPY (SELECT *, year(received_date) AS year, month(received_date) AS month FROM {table})
                    TO '{target}' (FORMAT parquet, PARTITION_BY ({', '.join(PARTITION_COLUMNS)}),
                    OVERWRITE_OR_IGNORE true)"""
            )
        else:
            con.execute(f"COPY {table} TO '{(out / f'{table}.parquet').as_posix()}' (FORMAT parquet)")
    return counts


def open_store(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection whose tables are views over an exported folder."""
    folder = Path(folder)
    con = duckdb.connect(":memory:")
    for file in sorted(folder.glob("*.parquet")):
        con.execute(f"CREATE VIEW {file.stem} AS SELECT * FROM read_parquet('{file.as_posix()}')")
    columns = _columns(store.connect(":memory:"), PARTITIONED)
    glob = (folder / PARTITIONED / "**" / "*.parquet").as_posix()
    con.execute(
        f"""CREATE VIEW {PARTITIONED} AS SELECT {', '.join(columns)} FROM read_parquet('{glob}',
            hive_partitioning = true, hive_types = {{'province_code': VARCHAR, 'year': INTEGER, 'month': INTEGER}})"""
    )
    return con


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loaders.parquet_store")
    sub = parser.add_subparsers(dest="command", required=True)
    exp = sub.add_parser("export", help="xuất kho ra Parquet phân vùng tỉnh/năm/tháng")
    exp.add_argument("--db", default=None)
    exp.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    con = store.connect(args.db, read_only=True)
    counts = export(con, args.out)
    for table, n in counts.items():
        print(f"{table}: {n} dòng")
    return 0


if __name__ == "__main__":
    sys.exit(main())
