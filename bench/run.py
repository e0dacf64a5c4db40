"""Load and query timings at province scale, against a DuckDB floor and a pandas baseline.

    python -m bench.run --sizes 1m,5m,20m [--skip-pandas-above 5m] [--shapes bench,comma10,names,utf16,xlsx]

For each size and export shape (bench.gen_exports.SHAPES; bench/out/d_<size>[_<shape>].csv,
made by bench.gen_exports when missing), every step runs in its own subprocess so that its
peak memory is its own (ru_maxrss of that child, from os.wait4):
  ours    loaders.dossiers.load_dossier_file into a fresh DuckDB file (schema and units made
          before the clock starts)
  floor   DuckDB's own read of the same file with its three dates parsed: CREATE TABLE t AS
          SELECT * REPLACE (try_strptime(date column, the file's form) ...) FROM read_csv(path,
          all_varchar=true[, encoding='utf-16']) into a fresh file, then CHECKPOINT. For an xlsx
          (DuckDB's excel extension is not installed here, and cannot be fetched offline) the
          sheet is read by fastexcel, as ours does, and DuckDB types and stores it the same way.
  pandas  read_csv(dtype=str) (read_excel (openpyxl) for xlsx) + pd.to_datetime(format=...)
          of the three date columns
  kpi     kpi.engine.compute(con, 2026-Q1, "40", by="commune"): first (cold) run in a fresh
          process, then the median of 5 warm runs; once from the monthly facts, once from rows;
          kpi_scan: from the facts, but the overdue count scanning every dossier (as before the
          store kept its overdue candidates apart), the baseline of kpi_facts
  reload  the same file loaded again into the loaded store (every dossier replaced)
  pages   overview and drill-down render time (streamlit AppTest, logged in), cold then warm
The load average is recorded with each figure: other jobs share the machine.
Results go to stdout as Markdown and to bench/out/results-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from bench.gen_exports import SHAPES, TEXT_FORMS, XLSX_MAX_ROWS, date_formats, parse_size, shape_file

OUT = Path(__file__).resolve().parent / "out"
TODAY = date(2026, 11, 24)
PERIOD = "2026-Q1"
PROVINCE = "40"
WARM_RUNS = 5


# ---- the measured steps (each runs in a child process: `--worker STEP`) -------------------

def _fresh(db: Path) -> None:
    for p in (db, db.with_name(db.name + ".wal")):
        p.unlink(missing_ok=True)


def step_ours(csv: Path, db: Path) -> dict:
    from loaders.dossiers import load_dossier_file
    from store import db as store

    _fresh(db)
    started = time.perf_counter()
    con = store.connect(db)  # DuckDB memory_limit as the product sets it (KPI_DUCKDB_MEMORY, default 1GB)
    connected = time.perf_counter()
    result = load_dossier_file(con, csv, province=PROVINCE, today=TODAY)
    con.execute("CHECKPOINT")
    done = time.perf_counter()
    con.close()
    return {"seconds": done - connected, "connect_seconds": connected - started, "rows_read": result.rows_read,
            "loaded": result.loaded, "duplicates": result.duplicates, "rejected": len(result.rejected)}


def step_reload(csv: Path, db: Path) -> dict:
    from loaders.dossiers import load_dossier_file
    from store import db as store

    con = store.connect(db)
    started = time.perf_counter()
    result = load_dossier_file(con, csv, province=PROVINCE, today=TODAY)
    con.execute("CHECKPOINT")
    done = time.perf_counter()
    con.close()
    return {"seconds": done - started, "loaded": result.loaded, "replaced": result.replaced}


def _shape(path: Path) -> str:
    stem = path.stem.split("_")
    return stem[2] if len(stem) > 2 and stem[2] in SHAPES else ("xlsx" if path.suffix == ".xlsx" else "bench")


def _typed_dates(shape: str) -> str:
    """SELECT * REPLACE (...) of the three date columns parsed in the file's forms."""
    return "SELECT * REPLACE (" + ", ".join(
        f'try_strptime("{col}", \'{fmt}\') AS "{col}"' for col, fmt in date_formats(shape).items()) + ")"


def step_floor(csv: Path, db: Path) -> dict:
    import duckdb

    shape = _shape(csv)
    db = db.with_name(db.stem + "_floor.duckdb")
    _fresh(db)
    started = time.perf_counter()
    con = duckdb.connect(str(db))
    if shape == "xlsx":
        import fastexcel

        sheet = fastexcel.read_excel(str(csv)).load_sheet(0, dtypes="string").to_arrow()
        con.register("sheet", sheet)
        con.execute(f"CREATE TABLE t AS {_typed_dates(shape)} FROM sheet")
    else:
        encoding = ", encoding = 'utf-16'" if shape == "utf16" else ""
        con.execute(f"CREATE TABLE t AS {_typed_dates(shape)} FROM read_csv(?, all_varchar = true{encoding})",
                    [str(csv)])
    con.execute("CHECKPOINT")
    done = time.perf_counter()
    rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    con.close()
    _fresh(db)
    return {"seconds": done - started, "rows": rows}


def step_pandas(csv: Path, db: Path) -> dict:
    import pandas as pd

    shape = _shape(csv)
    started = time.perf_counter()
    if shape == "xlsx":
        frame = pd.read_excel(csv, dtype=str, keep_default_na=False, na_values=[""])
    else:
        sep, _bom, _eol, encoding = TEXT_FORMS[shape]
        frame = pd.read_csv(csv, sep=sep, dtype=str, encoding="utf-16" if encoding.startswith("utf-16") else "utf-8-sig",
                            keep_default_na=False, na_values=[""])
    for col, fmt in date_formats(shape).items():
        frame[col] = pd.to_datetime(frame[col], format=fmt, errors="coerce")
    done = time.perf_counter()
    return {"seconds": done - started, "rows": len(frame)}


def _kpi(db: Path, use_facts: bool, overdue_from_rows: bool = False) -> dict:
    from kpi import engine
    from kpi.engine import compute
    from kpi.periods import parse
    from store import db as store

    if overdue_from_rows:  # the baseline: the overdue count scans every dossier, as before 07/12/2026
        engine.OVERDUE_CANDIDATES = "dossiers"

    con = store.connect(db, read_only=True)
    period = parse(PERIOD)
    times, cpu = [], []
    for _ in range(WARM_RUNS + 1):
        started, started_cpu = time.perf_counter(), time.process_time()
        values = compute(con, period, PROVINCE, by="commune", today=TODAY, use_facts=use_facts)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)  # all threads of the process (DuckDB's too)
    received = next(v.value for v in values if v.kpi == "received" and v.unit_code == PROVINCE)
    con.close()
    return {"cold_seconds": times[0], "seconds": statistics.median(times[1:]), "values": len(values),
            "cold_cpu_seconds": cpu[0], "warm_cpu_seconds": statistics.median(cpu[1:]), "received": received}


def step_kpi_facts(csv: Path, db: Path) -> dict:
    return _kpi(db, True)


def step_kpi_rows(csv: Path, db: Path) -> dict:
    return _kpi(db, False)


def step_kpi_scan(csv: Path, db: Path) -> dict:
    return _kpi(db, True, overdue_from_rows=True)


def step_pages(csv: Path, db: Path) -> dict:
    """Render time of the overview and drill-down pages (AppTest, logged in as an admin),
    first run cold (empty st.cache_data) and then warm."""
    os.environ["KPI_DB"] = str(db)
    os.environ["KPI_TODAY"] = TODAY.isoformat()
    from streamlit.testing.v1 import AppTest

    from store import accounts
    from store import db as store

    con = store.connect(db)
    if not con.execute("SELECT count(*) FROM users WHERE username = 'bench'").fetchall()[0][0]:
        accounts.create_user(con, "bench", "bench-password", "admin")
    token = accounts.authenticate(con, "bench", "bench-password")
    con.close()
    root = Path(__file__).resolve().parent.parent
    out = {}
    for page in ("overview", "drilldown"):
        times = []
        for _ in range(2):
            at = AppTest.from_file(str(root / "app.py"), default_timeout=600)
            at.session_state["kpi_token"] = token
            at.query_params.update(tinh=PROVINCE, ky=PERIOD)
            at.switch_page(str(root / "pages" / f"{page}.py"))
            started, started_cpu = time.perf_counter(), time.process_time()
            at.run()
            times.append(time.perf_counter() - started)
            out.setdefault(f"{page}_cpu_seconds", []).append(time.process_time() - started_cpu)
            if at.exception:
                raise RuntimeError(f"{page}: {at.exception[0].message}")
        out[f"{page}_cold_seconds"], out[f"{page}_warm_seconds"] = times
    out["seconds"] = out["overview_cold_seconds"]
    return out


STEPS = {
    "ours": step_ours, "floor": step_floor, "pandas": step_pandas,
    "kpi_facts": step_kpi_facts, "kpi_rows": step_kpi_rows, "kpi_scan": step_kpi_scan, "reload": step_reload,
    "pages": step_pages,
}


# ---- the driver ----------------------------------------------------------------------------

def run_step(step: str, csv: Path, db: Path) -> dict:
    """Run one step in a child process; its own peak RSS comes from os.wait4."""
    result_file = OUT / f".{step}.json"
    result_file.unlink(missing_ok=True)
    load = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "bench.run", "--worker", step, "--csv", str(csv),
                             "--db", str(db), "--result", str(result_file)])
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}", "load_before": load}
    result = json.loads(result_file.read_text())
    result_file.unlink()
    # CPU seconds of the child (all its threads): on a machine shared with other jobs, the
    # steadier measure of the work done (wall time stretches with the load average).
    result.update(peak_rss_mb=usage.ru_maxrss / 1024, process_seconds=wall, load_before=load,
                  cpu_seconds=usage.ru_utime + usage.ru_stime,
                  load_after=os.getloadavg()[0])
    return result


def warm_page_cache(path: Path) -> None:
    """Read the file once so that every contender reads it from memory, not disk."""
    with open(path, "rb") as handle:
        while handle.read(1 << 24):
            pass


def label(rows: int) -> str:
    return f"{rows // 10**6}m" if rows % 10**6 == 0 else f"{rows // 1000}k"


def bench_size(rows: int, skip_pandas_above: int | None, steps: list[str], save, shape: str = "bench") -> dict:
    csv = shape_file(rows, shape, OUT)
    if not csv.exists():
        # In a child: Linux keeps a process's peak RSS across fork and exec, so a step forked
        # after this process generated a 5M file in memory would report that peak as its own.
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "bench.gen_exports", "--rows", str(rows), "--out", str(csv),
                        "--shape", shape], check=True)
        print(f"generated {csv} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    db = OUT / (f"bench_{label(rows)}.duckdb" if shape == "bench" else f"bench_{label(rows)}_{shape}.duckdb")
    warm_page_cache(csv)
    out = {"rows": rows, "shape": shape, "csv": str(csv), "csv_mb": csv.stat().st_size / 2**20, "db": str(db)}
    tag = f"{label(rows)} {shape}"
    for step in steps:
        if step == "pandas" and skip_pandas_above and rows > skip_pandas_above:
            continue
        print(f"[{tag}] {step} ... (load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
        out[step] = run_step(step, csv, db)
        print(f"[{tag}] {step}: {json.dumps(out[step], ensure_ascii=False)}", file=sys.stderr, flush=True)
        out["db_mb"] = db.stat().st_size / 2**20 if db.exists() else None
        save(out)  # figures so far survive an interrupted run (--report prints them)
    return out


def _s(r: dict | None, key: str = "seconds") -> float | None:
    return r.get(key) if r and "error" not in r else None


def _fmt(x: float | None, unit: str = "", digits: int = 2) -> str:
    return "–" if x is None else f"{x:,.{digits}f}{unit}"


def _ratio(a: float | None, b: float | None) -> str:
    return "–" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def report(results: list[dict]) -> str:
    lines = ["## Load (seconds; peak RSS of the process that did the work; load average before the step)", "",
             "| rows | shape | file MB | ours s | floor s | pandas s | ours/floor | pandas/ours | ours CPU s | floor CPU s "
             "| pandas CPU s | ours/floor CPU | pandas/ours CPU | ours MB | floor MB | pandas MB | reload s | reload/ours "
             "| reload/ours CPU | reload MB | DB MB after reload | load avg |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        ours, floor, pd_, reload = r.get("ours"), r.get("floor"), r.get("pandas"), r.get("reload")
        loads = "/".join(f"{r[s]['load_before']:.1f}" for s in STEPS if s in r)
        lines.append(
            f"| {r['rows']:,} | {r.get('shape', 'bench')} | {r['csv_mb']:,.0f} | {_fmt(_s(ours))} | {_fmt(_s(floor))} "
            f"| {_fmt(_s(pd_))} | {_ratio(_s(ours), _s(floor))} | {_ratio(_s(pd_), _s(ours))} "
            f"| {_fmt(_s(ours, 'cpu_seconds'))} | {_fmt(_s(floor, 'cpu_seconds'))} | {_fmt(_s(pd_, 'cpu_seconds'))} "
            f"| {_ratio(_s(ours, 'cpu_seconds'), _s(floor, 'cpu_seconds'))} "
            f"| {_ratio(_s(pd_, 'cpu_seconds'), _s(ours, 'cpu_seconds'))} "
            f"| {_fmt(_s(ours, 'peak_rss_mb'), '', 0)} | {_fmt(_s(floor, 'peak_rss_mb'), '', 0)} "
            f"| {_fmt(_s(pd_, 'peak_rss_mb'), '', 0)} | {_fmt(_s(reload))} | {_ratio(_s(reload), _s(ours))} "
            f"| {_ratio(_s(reload, 'cpu_seconds'), _s(ours, 'cpu_seconds'))} "
            f"| {_fmt(_s(reload, 'peak_rss_mb'), '', 0)} | {_fmt(r.get('db_mb'), '', 0)} "
            f"| {loads} |")
    lines += ["", f"## KPI query: every commune of province {PROVINCE}, {PERIOD} (ms; median of {WARM_RUNS} warm runs, "
              "first run in a fresh process)", "",
              "| rows | facts warm | facts cold | rows warm | rows cold | rows/facts (warm) | facts warm CPU "
              "| facts cold CPU | rows warm CPU | rows cold CPU | values | received | overdue by scan: warm / CPU "
              "| scan/facts (warm) |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    bench_only = [r for r in results if r.get("shape", "bench") == "bench"]
    for r in bench_only:
        f, w = r.get("kpi_facts"), r.get("kpi_rows")
        ms = [None if x is None else x * 1000 for x in (_s(f), _s(f, "cold_seconds"), _s(w), _s(w, "cold_seconds"))]
        cpu = [None if x is None else x * 1000 for x in (_s(f, "warm_cpu_seconds"), _s(f, "cold_cpu_seconds"),
                                                         _s(w, "warm_cpu_seconds"), _s(w, "cold_cpu_seconds"))]
        lines.append(f"| {r['rows']:,} | {_fmt(ms[0], '', 0)} | {_fmt(ms[1], '', 0)} | {_fmt(ms[2], '', 0)} "
                     f"| {_fmt(ms[3], '', 0)} | {_ratio(ms[2], ms[0])} | "
                     + " | ".join(_fmt(x, "", 0) for x in cpu)
                     + f" | {_s(f, 'values') or '–'} | {_fmt(_s(f, 'received'), '', 0)} | "
                     + _scan_cells(r.get("kpi_scan"), ms[0]) + " |")
    lines += ["", "## Page render (AppTest, logged in, province 40, 2026-Q1; s; first run cold, then warm)", "",
              "| rows | overview cold | overview warm | drill-down cold | drill-down warm | CPU s (same order) |",
              "|---:|---:|---:|---:|---:|---|"]
    for r in bench_only:
        pg = r.get("pages")
        cpu = " / ".join(f"{x:.2f}" for page in ("overview", "drilldown") for x in (_s(pg, f"{page}_cpu_seconds") or []))
        lines.append(f"| {r['rows']:,} | " + " | ".join(
            _fmt(_s(pg, f"{page}_{kind}_seconds")) for page in ("overview", "drilldown") for kind in ("cold", "warm"))
            + f" | {cpu or '–'} |")
    if len(bench_only) > 1:
        lines += ["", "## Growth (time or memory at the bigger size ÷ at the smaller; rows grow by the first column)", "",
                  "| rows × | ours | floor | pandas | ours MB | reload | KPI facts | KPI rows |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for a, b in zip(bench_only, bench_only[1:], strict=False):
            cells = [_ratio(_s(b.get(k)), _s(a.get(k))) for k in ("ours", "floor", "pandas")]
            cells.append(_ratio(_s(b.get("ours"), "peak_rss_mb"), _s(a.get("ours"), "peak_rss_mb")))
            cells += [_ratio(_s(b.get(k)), _s(a.get(k))) for k in ("reload", "kpi_facts", "kpi_rows")]
            lines.append(f"| {label(a['rows'])}→{label(b['rows'])} ({b['rows'] / a['rows']:.0f}×) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _scan_cells(scan: dict | None, facts_ms: float | None) -> str:
    if _s(scan) is None:
        return "– | –"
    warm, warm_cpu = _s(scan) * 1000, _s(scan, "warm_cpu_seconds") * 1000
    return f"{_fmt(warm, '', 0)} / {_fmt(warm_cpu, '', 0)} | {_ratio(warm, facts_ms)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1m,5m", help="comma-separated row counts: 1m,5m,20m")
    parser.add_argument("--skip-pandas-above", default=None, help="no pandas run above this size (e.g. 5m)")
    parser.add_argument("--shapes", default="bench", help="comma-separated export shapes: " + ",".join(SHAPES))
    parser.add_argument("--steps", default=",".join(STEPS), help="subset of: " + ",".join(STEPS))
    parser.add_argument("--report", type=Path, nargs="+", help="print the tables of saved results-*.json instead")
    parser.add_argument("--worker", choices=sorted(STEPS) + ["pages"], help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--result", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        fn = STEPS.get(args.worker, step_pages)
        args.result.write_text(json.dumps(fn(args.csv, args.db), default=str))
        return 0
    if args.report:  # merge saved runs by size and shape (later files win per step)
        merged: dict[tuple[int, int], dict] = {}
        for path in args.report:
            for r in json.loads(path.read_text()):
                merged.setdefault((r["rows"], SHAPES.index(r.get("shape", "bench"))), {}).update(r)
        print(report([merged[k] for k in sorted(merged)]))
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    skip = parse_size(args.skip_pandas_above) if args.skip_pandas_above else None
    steps = [s for s in args.steps.split(",") if s]
    results: list[dict] = []
    saved = OUT / f"results-{time.strftime('%Y%m%d-%H%M%S')}.json"

    def save(current: dict) -> None:
        saved.write_text(json.dumps([*results, current], indent=1, default=str))

    shapes = [s for s in args.shapes.split(",") if s]
    unknown = set(shapes) - set(SHAPES)
    if unknown:
        parser.error(f"unknown shape(s) {', '.join(sorted(unknown))}: one of {', '.join(SHAPES)}")
    for size in args.sizes.split(","):
        for shape in shapes:
            if shape == "xlsx" and parse_size(size) > XLSX_MAX_ROWS:
                print(f"[{size} xlsx] skipped: a sheet holds at most {XLSX_MAX_ROWS:,} rows", file=sys.stderr)
                continue
            results.append(bench_size(parse_size(size), skip, steps, save, shape))
    save(results.pop())
    results = json.loads(saved.read_text())
    print(report(results))
    print(f"\n(saved: {saved})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
