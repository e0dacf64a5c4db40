"""The national lake query, DuckDB against Spark SQL (local) on this machine.

    python -m bench.lake --sizes 20m[,100m] [--engines duckdb,spark] [--keep]

For each size, a national lake is generated straight to Hive-partitioned Parquet by one
DuckDB statement (bench/out/lake_<size>/, no CSV, no Python loop): every commune of the 34
provinces (3,321, reference/vn_units), dossiers received over 2026 (hash-spread over units,
procedures, days; one COPY per month), the store's dossier schema, partitioned province/year/month as
`python -m store.lake export` writes it, plus the units table.

The measured query is the national one: every component count of store/components.py per
commune of every province, for one quarter (2026-Q2), from the dossier rows (received in
the quarter, finished in the quarter: the two statements the engine runs on rows, without
the province filter), rendered for each engine by its Dialect. Each engine runs in its own
subprocess (peak RSS from os.wait4): open (Spark: JVM + session start), the first run, then
the median of WARM_RUNS runs. The DuckDB figure is the baseline of the same run, and the
results of both engines are compared (same counts for every commune, or the bench fails).
Results: stdout (Markdown) and bench/out/lake-results-<time>.json.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench.gen_exports import parse_size

OUT = Path(__file__).resolve().parent / "out"
PERIOD = ("2026-04-01", "2026-06-30")
WARM_RUNS = 3


def label(rows: int) -> str:
    return f"{rows // 10**6}m" if rows % 10**6 == 0 else f"{rows // 1000}k"


def generate(rows: int, folder: Path) -> dict:
    """The lake of `rows` dossiers, written by DuckDB from range(rows)."""
    from store import db as store
    from store.lake import PARTITIONED, SOURCE_COLUMN

    shutil.rmtree(folder, ignore_errors=True)
    (folder / "units" / f"{SOURCE_COLUMN}=bench").mkdir(parents=True)
    con = store.connect(":memory:")  # the store's schema and reference units
    con.execute("SET memory_limit = '8GB'")  # not the store's 1 GB (KPI_DUCKDB_MEMORY)
    con.execute("SET preserve_insertion_order = false")
    con.execute("COPY units TO ? (FORMAT parquet)", [(folder / "units" / f"{SOURCE_COLUMN}=bench" / "data.parquet").as_posix()])
    con.execute("""CREATE TEMP TABLE communes AS SELECT (row_number() OVER (ORDER BY code) - 1)::BIGINT AS k,
                   code, province_code FROM units WHERE level = 'commune'""")
    communes = con.execute("SELECT count(*) FROM communes").fetchall()[0][0]
    started = time.perf_counter()
    # One COPY per month of 2026 (rows spread evenly): DuckDB's partitioned write holds what
    # it writes in memory, so the whole 100M at once spilled 10 GB to disk and crawled.
    for month in range(1, 13):
        first, last = rows * (month - 1) // 12, rows * month // 12
        con.execute(f"""
        COPY (
          WITH r AS (
            SELECT i, hash(i) AS h1, hash(i::BIGINT + 7919::BIGINT * {rows}) AS h2,
                   TIMESTAMP '2026-{month:02d}-01' + to_seconds((hash(i) // 3321 % (28 * 86400))::BIGINT) AS received_at
            FROM range({first}, {last}) t(i))
          SELECT 'HS-' || r.i AS dossier_id, c.code AS unit_code, c.province_code,
                 ['1.001193', '1.000656', '1.001022', '2.000986', '1.003605', '2.002163', '1.000894', '2.001157']
                   [(r.h2 % 8 + 1)::INTEGER] AS procedure_code,
                 NULL::VARCHAR AS procedure_name,
                 ['Hộ tịch', 'Hộ tịch', 'Chứng thực', 'Đất đai', 'Đất đai', 'Bảo trợ xã hội', 'Hộ tịch', 'Đất đai']
                   [(r.h2 % 8 + 1)::INTEGER] AS field,
                 CASE WHEN r.h2 % 100 < 62 THEN 'online' WHEN r.h2 % 100 < 97 THEN 'direct' ELSE NULL END AS channel,
                 r.received_at, r.received_at::DATE AS received_date,
                 CASE WHEN r.h1 % 20 = 0 THEN NULL ELSE r.received_at + INTERVAL 1 DAY * (3 + r.h2 % 12)::BIGINT END AS due_at,
                 CASE WHEN r.h1 % 20 = 0 THEN NULL ELSE (r.received_at + INTERVAL 1 DAY * (3 + r.h2 % 12)::BIGINT)::DATE END
                   AS due_date,
                 CASE WHEN r.h2 % 10 < 9 THEN r.received_at + INTERVAL 1 HOUR * (r.h1 % 400)::BIGINT END AS finished_at,
                 CASE WHEN r.h2 % 10 < 9 THEN (r.received_at + INTERVAL 1 HOUR * (r.h1 % 400)::BIGINT)::DATE END AS finished_date,
                 CASE WHEN r.h2 % 10 < 9 THEN 'Đã trả kết quả' ELSE 'Đang giải quyết' END AS status,
                 CASE WHEN r.h1 % 50 = 0 THEN NULL ELSE r.h1 % 3 > 0 END AS fully_online,
                 r.h1 % 5 > 0 AS digitised,
                 CASE WHEN r.h2 % 10 < 9 THEN r.h1 % 7 > 1 END AS e_result,
                 CASE WHEN r.h1 % 4 = 0 THEN NULL ELSE r.h1 % 2 = 0 END AS data_reused,
                 CASE WHEN r.h1 % 3 = 0 THEN NULL ELSE r.h2 % 4 = 0 END AS paid_online,
                 1 AS batch_id, (r.i + 1)::INTEGER AS source_row,
                 year(r.received_at) AS year, month(r.received_at) AS month
          FROM r JOIN communes c ON c.k = (r.h1 % {communes})::BIGINT)
        TO ? (FORMAT parquet, PARTITION_BY (province_code, year, month), OVERWRITE_OR_IGNORE true,
              FILENAME_PATTERN 'data_{{uuid}}')""",
                    [(folder / PARTITIONED).as_posix()])
    seconds = time.perf_counter() - started
    con.close()
    size = sum(p.stat().st_size for p in (folder / PARTITIONED).rglob("*.parquet"))
    return {"generate_seconds": seconds, "lake_mb": size / 2**20, "communes": communes,
            "partitions": sum(1 for _ in (folder / PARTITIONED).glob("*/*/*"))}


def national_statements() -> list[str]:
    """The national query in DuckDB's spelling, generated from the component declarations:
    per commune, the counts received in the period and those finished in it."""
    from store.components import FINISHED_COMPONENTS, RECEIVED_COMPONENTS

    out = []
    for comps, date_col in ((RECEIVED_COMPONENTS, "received_date"), (FINISHED_COMPONENTS, "finished_date")):
        select = ", ".join(f"{expr} AS {name}" for name, expr in comps.items())
        out.append(f"SELECT unit_code, {select} FROM dossiers WHERE {date_col} BETWEEN $start AND $end "
                   "GROUP BY unit_code")
    return out


def national(con) -> dict:
    """Run the national query on a lake connection; {unit_code: {count: value}}."""
    from store.db import query_pl

    params = {"start": date.fromisoformat(PERIOD[0]), "end": date.fromisoformat(PERIOD[1])}
    merged: dict[str, dict] = {}
    for sql in national_statements():
        for row in query_pl(con, sql, params).iter_rows(named=True):
            merged.setdefault(row.pop("unit_code"), {}).update({k: int(v) for k, v in row.items()})
    return merged


def worker(engine: str, folder: Path, result: Path) -> None:
    from kpi.lake_engine import open_lake

    started = time.perf_counter()
    con = open_lake(folder, engine)
    opened = time.perf_counter() - started
    times, values = [], None
    for _ in range(WARM_RUNS + 1):
        t0 = time.perf_counter()
        values = national(con)
        times.append(time.perf_counter() - t0)
    digest = json.dumps(sorted(values.items()), sort_keys=True)
    result.write_text(json.dumps({
        "open_seconds": opened, "first_seconds": times[0], "seconds": statistics.median(times[1:]),
        "units": len(values), "received": sum(v.get("received", 0) for v in values.values()),
        "digest": hashlib.sha256(digest.encode()).hexdigest()}))


def run_engine(engine: str, folder: Path) -> dict:
    result = OUT / f".lake-{engine}.json"
    result.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.lake", "--worker", engine, "--lake", str(folder),
                             "--result", str(result)])
    _pid, status, usage = os.wait4(proc.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if code != 0:
        return {"error": f"exit {code}", "load_before": load}
    out = json.loads(result.read_text())
    result.unlink()
    # Peak RSS of the worker (DuckDB works in it; Spark's JVM is its child, capped by
    # spark.driver.memory = 1g, and is not in this figure).
    out.update(peak_rss_mb=usage.ru_maxrss / 1024, process_seconds=wall, load_before=load,
               load_after=os.getloadavg()[0])
    return out


def _f(x, digits=2):
    return "–" if x is None else f"{x:,.{digits}f}"


def report(results: list[dict]) -> str:
    lines = ["| dossiers | lake MB | partitions | engine | open s | first run s | warm s (median) | process s "
             "| same counts as DuckDB | load avg |", "|---:|---:|---:|---|---:|---:|---:|---:|---|---:|"]
    for r in results:
        base = r.get("duckdb", {})
        for engine in ("duckdb", "spark"):
            e = r.get(engine)
            if not e:
                continue
            if "error" in e:
                lines.append(f"| {r['rows']:,} | {_f(r['lake_mb'], 0)} | {r['partitions']} | {engine} | {e['error']} "
                             "| | | | | |")
                continue
            same = "baseline" if engine == "duckdb" else ("yes" if e["digest"] == base.get("digest") else "NO")
            lines.append(
                f"| {r['rows']:,} | {_f(r['lake_mb'], 0)} | {r['partitions']} | {engine} | {_f(e['open_seconds'])} "
                f"| {_f(e['first_seconds'])} | {_f(e['seconds'])} | {_f(e['process_seconds'], 1)} | {same} "
                f"| {e['load_before']:.1f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20m", help="comma-separated dossier counts: 20m,100m")
    parser.add_argument("--engines", default="duckdb,spark")
    parser.add_argument("--keep", action="store_true", help="reuse a generated lake of the same size")
    parser.add_argument("--worker", choices=("duckdb", "spark"), help=argparse.SUPPRESS)
    parser.add_argument("--lake", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.lake, args.result)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    saved = OUT / f"lake-results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    results = []
    for size in args.sizes.split(","):
        rows = parse_size(size)
        folder = OUT / f"lake_{label(rows)}"
        marker = folder / ".generated.json"
        if args.keep and marker.exists():
            info = json.loads(marker.read_text())
        else:
            print(f"[{label(rows)}] generating {folder} ...", file=sys.stderr, flush=True)
            info = generate(rows, folder)
            marker.write_text(json.dumps(info))
        print(f"[{label(rows)}] {json.dumps(info)}", file=sys.stderr, flush=True)
        current = {"rows": rows, **info}
        results.append(current)
        for engine in args.engines.split(","):
            print(f"[{label(rows)}] {engine} ... (load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
            current[engine] = run_engine(engine, folder)
            print(f"[{label(rows)}] {engine}: {json.dumps(current[engine])}", file=sys.stderr, flush=True)
            saved.write_text(json.dumps(results, indent=1))
    print(report(results))
    print(f"\n(saved: {saved})")
    differ = [r["rows"] for r in results if "digest" in r.get("spark", {}) and "digest" in r.get("duckdb", {})
              and r["spark"]["digest"] != r["duckdb"]["digest"]]
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
