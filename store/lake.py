"""National scale: export the store to Hive-partitioned Parquet and read KPIs from it.

`python -m store.lake export --db PATH --out DIR` writes the tables the KPI engine reads
(LAKE_TABLES); accounts, sessions and the audit log are never exported. Layout:

    dossiers/province_code=P/year=Y/month=M/data_0.parquet   (received date; incremental)
    <table>/lake_source=S/data.parquet                        (every other table, whole)
    _manifest/S.json                                          (what source S wrote, fingerprints)

S, the lake source, names the exporting store by the provinces it holds data of ("40", or
"01-40"): each province exports from its own store, so a ministry merges the lakes of several
provinces by copying their folders into one (no two stores write the same file). The shared
reference tables (units, procedures, targets) that every store carries are read DISTINCT.

Re-exporting rewrites only the dossier partitions whose fingerprint (row count and the sum of
hash(dossier_id, batch_id): an upload, a replaced version or an undo changes it) differs from
the manifest, and removes the partitions the store no longer has; the other tables are small
(the monthly facts: units × months × procedures) and are rewritten whole.

`open_store(DIR)` gives an in-memory DuckDB whose tables are views over those files, so
`kpi.engine.compute` runs unchanged on them; kpi/lake_engine.py opens the same folder in
Spark SQL.
"""

from __future__ import annotations

import functools
import json
import shutil
import sys
from pathlib import Path

import duckdb

from store import cli, components, sqlquote
from store import db as store

PARTITIONED = "dossiers"
PARTITION_COLUMNS = ("province_code", "year", "month")
# What a lake shares: the tables the KPI engine reads, and nothing else. Accounts, sessions,
# the audit log (password hashes, who did what), upload history with file names and users,
# rejected rows (original cells) and SQL source URLs stay in the province's store.
LAKE_TABLES = ("units", "procedures", "targets", "dossiers", "fact_received", "fact_finished",
               "template_rows", "catalogue_services", "archive_stats", "plan_tasks")
# Reference tables every store carries whole: a merged lake reads them once (DISTINCT).
SHARED_TABLES = ("units", "procedures", "targets")
# Tables whose province_code says which province's data a row is (the lake source's name).
DATA_TABLES = ("dossiers", "fact_received", "fact_finished", "template_rows", "catalogue_services",
               "archive_stats", "plan_tasks")
SOURCE_COLUMN = "lake_source"
MANIFEST_DIR = "_manifest"
LAYOUT = 2  # manifest format; a lake written by another layout is rewritten whole


def _tables(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()]


def _columns(con, table: str) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position", [table]
    ).fetchall()]


@functools.cache
def _schemas() -> dict[str, tuple[tuple[str, str], ...]]:
    con = duckdb.connect(":memory:")
    try:
        con.execute(store.SCHEMA)
        return {t: tuple(tuple(r) for r in con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [t]).fetchall()) for t in LAKE_TABLES}
    finally:
        con.close()


def schema(table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a lake table as the store declares it (store.db.SCHEMA)."""
    return list(_schemas()[table])


def source_name(con) -> str:
    """The exporting store's name in the lake: the provinces it holds data of or loaded
    uploads for (an upload undone since still makes its province the store's), sorted."""
    present = set(_tables(con))
    union = [f"SELECT DISTINCT province_code FROM {t}" for t in DATA_TABLES if t in present]
    if "batches" in present:
        union.append("SELECT DISTINCT province_code FROM batches WHERE province_code IS NOT NULL")
    codes = sorted(r[0] for r in con.execute(" UNION ".join(union)).fetchall()) if union else []
    return "-".join(codes) if codes else "none"


def _manifests(out: Path) -> dict[str, dict]:
    found = {}
    for file in sorted((out / MANIFEST_DIR).glob("*.json")):
        try:
            found[file.stem] = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # unreadable: treated as absent, its partitions are rewritten
    return found


def _fingerprints(con) -> dict[str, str]:
    """'P/Y/M' -> 'rows:hashsum' of every dossier partition of the store."""
    rows = con.execute(
        """SELECT province_code, year(received_date), month(received_date), count(*),
                  sum(hash(dossier_id, batch_id))::VARCHAR
           FROM dossiers GROUP BY ALL""").fetchall()
    return {f"{p}/{y}/{m}": f"{n}:{h}" for p, y, m, n, h in rows}


def _partition_dir(out: Path, key: str) -> Path:
    province, year, month = key.split("/")
    return out / PARTITIONED / f"province_code={province}" / f"year={year}" / f"month={month}"


def _on_disk(out: Path, provinces: set[str]) -> set[str]:
    keys = set()
    for province in provinces:
        for month_dir in (out / PARTITIONED / f"province_code={province}").glob("year=*/month=*"):
            keys.add(f"{province}/{month_dir.parent.name[5:]}/{month_dir.name[6:]}")
    return keys


def export(con: duckdb.DuckDBPyConnection, out: Path) -> dict[str, int]:
    """Write the KPI tables (LAKE_TABLES) into `out` (a new folder or a lake, possibly merged
    from other provinces'); returns rows per table, and under "partitions_written" /
    "partitions_removed" what changed of the dossier partitions. Paths are bound as
    parameters, table names quoted: nothing of `out` is spliced into SQL."""
    out = Path(out)
    sqlquote.check(out)  # before anything is created: a control character is refused, not quoted
    out.mkdir(parents=True, exist_ok=True)
    present = set(_tables(con))
    source = source_name(con)
    provinces = set() if source == "none" else set(source.split("-"))
    # Earlier exports of this store (the same provinces, or some of them under another name):
    # their files are replaced by this export; their fingerprints spare unchanged partitions.
    earlier = {name: m for name, m in _manifests(out).items()
               if name == source or provinces & set(m.get("provinces", []))}
    previous: dict[str, str] = {}
    owned = set(provinces)
    for m in earlier.values():
        if m.get("layout") == LAYOUT:
            previous.update(m.get("dossiers", {}))
        owned |= set(m.get("provinces", []))

    counts: dict[str, int] = {}
    current = _fingerprints(con) if PARTITIONED in present else {}
    changed = sorted(k for k, fp in current.items() if previous.get(k) != fp or not _partition_dir(out, k).is_dir())
    stale = sorted(_on_disk(out, owned) - set(current))
    for key in (*changed, *stale):
        shutil.rmtree(_partition_dir(out, key), ignore_errors=True)
    if PARTITIONED in present:
        counts[PARTITIONED] = con.execute(f"SELECT count(*) FROM {PARTITIONED}").fetchall()[0][0]
    if changed:
        con.execute("CREATE OR REPLACE TEMP TABLE lake_changed (province_code VARCHAR, y INTEGER, m INTEGER)")
        con.executemany("INSERT INTO lake_changed VALUES (?, ?, ?)",
                        [(p, int(y), int(m)) for p, y, m in (k.split("/") for k in changed)])
        con.execute(
            f"""COPY (SELECT d.*, year(d.received_date) AS year, month(d.received_date) AS month
                      FROM {PARTITIONED} d SEMI JOIN lake_changed c
                      ON d.province_code = c.province_code AND year(d.received_date) = c.y
                         AND month(d.received_date) = c.m)
                TO ? (FORMAT parquet, PARTITION_BY ({', '.join(PARTITION_COLUMNS)}), OVERWRITE_OR_IGNORE true)""",
            [(out / PARTITIONED).as_posix()],
        )
        con.execute("DROP TABLE lake_changed")

    for old in earlier:  # the other tables: this store's folders, written whole
        for table in LAKE_TABLES:
            if table != PARTITIONED:
                shutil.rmtree(out / table / f"{SOURCE_COLUMN}={old}", ignore_errors=True)
    for table in LAKE_TABLES:
        if table == PARTITIONED or table not in present:
            continue
        name = sqlquote.identifier(table)
        counts[table] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        folder = out / table / f"{SOURCE_COLUMN}={source}"
        folder.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY {name} TO ? (FORMAT parquet)", [(folder / "data.parquet").as_posix()])

    (out / MANIFEST_DIR).mkdir(exist_ok=True)
    for old in earlier:
        if old != source:
            (out / MANIFEST_DIR / f"{old}.json").unlink(missing_ok=True)
    manifest = {"layout": LAYOUT, "provinces": sorted(provinces), "dossiers": current}
    tmp = out / MANIFEST_DIR / f".{source}.json.tmp"
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=0, sort_keys=True), encoding="utf-8")
    tmp.replace(out / MANIFEST_DIR / f"{source}.json")
    counts["partitions_written"] = len(changed)
    counts["partitions_removed"] = len(stale)
    return counts


def table_glob(folder: Path, table: str) -> str:
    """The files of a lake table (every lake source's), as a glob both DuckDB and Spark read."""
    if table == PARTITIONED:
        return (Path(folder) / PARTITIONED / "*" / "*" / "*" / "*.parquet").as_posix()
    return (Path(folder) / table / f"{SOURCE_COLUMN}=*" / "*.parquet").as_posix()


def has_files(folder: Path, table: str) -> bool:
    pattern = table_glob(folder, table)[len(Path(folder).as_posix()) + 1:]
    return any(Path(folder).glob(pattern))


def open_store(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory connection whose tables are views over an exported folder, merged or not
    (only the folders of LAKE_TABLES: another file in the lake does not name a view). A table
    no source wrote is an empty table of the store's schema."""
    folder = Path(folder)
    con = duckdb.connect(":memory:")
    for table in LAKE_TABLES:
        columns = schema(table)
        name = sqlquote.identifier(table)
        if not has_files(folder, table):
            con.execute(f"CREATE TABLE {name} ({', '.join(f'{sqlquote.identifier(c)} {t}' for c, t in columns)})")
            continue
        select = ", ".join(sqlquote.identifier(c) for c, _t in columns)
        glob = sqlquote.literal(table_glob(folder, table))
        if table == PARTITIONED:
            source = (f"read_parquet({glob}, hive_partitioning = true, "
                      "hive_types = {'province_code': VARCHAR, 'year': INTEGER, 'month': INTEGER})")
        else:
            source = f"read_parquet({glob}, hive_partitioning = false, union_by_name = true)"
        distinct = "DISTINCT " if table in SHARED_TABLES else ""
        con.execute(f"CREATE VIEW {name} AS SELECT {distinct}{select} FROM {source}")
    # Not exported (derived from dossiers): the engine's overdue count reads it as a view.
    con.execute(f"CREATE VIEW {components.OVERDUE_CANDIDATES} AS {components.overdue_candidates_select()}")
    return con


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("python -m store.lake", "Xuất kho KPI ra thư mục Parquet (kho dữ liệu quốc gia).")
    sub = parser.add_subparsers(dest="command", required=True, title="Lệnh", metavar="LỆNH")
    exp = sub.add_parser("export", help="Xuất kho ra Parquet phân vùng tỉnh/năm/tháng (chỉ ghi lại phân vùng đã đổi)")
    cli.add_db(exp)
    exp.add_argument("--out", required=True, type=Path, metavar="THƯ_MỤC",
                     help="Thư mục Parquet (mới, hoặc đã xuất trước đó, hoặc đã gộp nhiều tỉnh)")
    args = parser.parse_args(argv)
    from store import remote

    server = remote.find(store.db_path(args.db))
    if server is not None:  # the dashboard holds the store: its server exports
        import json

        body = remote.call(server, "POST", "/api/v1/lake/export", fields={"out": str(args.out.resolve())},
                           failure=1, prefix="LỖI  ")
        if isinstance(body, int):
            return body
        counts = json.loads(body)
    else:
        con = store.connect(args.db, read_only=True)
        try:
            counts = export(con, args.out)
        except sqlquote.UnsafeSQLText as exc:
            print(f"LỖI  {exc}", file=sys.stderr)
            return 1
        finally:
            con.close()
    written, removed = counts.pop("partitions_written"), counts.pop("partitions_removed")
    for table, n in counts.items():
        print(f"{table}: {n} dòng")
    print(f"phân vùng hồ sơ ghi lại: {written}, xóa: {removed}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
