"""A room full of people on the real server: viewer sessions opening pages while officers upload.

    python -m bench.viewers [--rows 5m] [--viewers 30] [--seconds 120] [--every 5] [--officers 2]

The server is `python -m service` (what `make run` starts) on a store of `--rows` dossiers of
Nghệ An (bench/out/viewers_<rows>.duckdb, loaded from bench.gen_exports' export when missing).
Viewers are real Streamlit sessions over the websocket (bench/ws_session.py): each logs in
once, then opens a page every `--every` seconds for `--seconds` (overview, drill-down, map,
tasks, reports in a realistic mix, its own commune for the drill-down); officers upload a
20,000-row export of their commune through the HTTP API every 20 s meanwhile.

Baseline in the same run: one session alone opening each page (before the others start).
Printed: page latency p50/p95/max per page and overall, errors, upload times, the server's
peak memory (VmHWM) and the load average; written to bench/out/viewers-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

import polars as pl

from bench.gen_exports import generate, parse_size
from bench.ws_session import Session, free_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TODAY = "2026-11-24"
PROVINCE = "40"
PASSWORD = "matkhau-banggiam"
# (URL path, query, weight): what leaders and analysts open in a meeting week.
PAGES = (("", "tinh=40&ky=2026-Q1", 4), ("chi-tiet", "tinh=40&ky=2026-Q1&don_vi={commune}", 2),
         ("ban-do", "tinh=40&ky=2026-10", 2), ("nhiem-vu", "tinh=40", 1), ("bao-cao", "tinh=40&ky=2026-09", 1))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": round(statistics.median(values), 3), "p95": round(pct(values, 0.95), 3),
            "max": round(max(values), 3)}


def communes() -> list[str]:
    from store.db import units_rows

    return [u[0] for u in units_rows() if u[4] == PROVINCE and u[3] == "commune"]


def prepare(db: Path, rows: int, officers: list[str]) -> dict[str, str]:
    """The store (loaded once, kept), a leader account and officers with API tokens."""
    from loaders.dossiers import load_dossier_file
    from store import accounts, api_tokens
    from store import db as store

    if not db.exists():
        csv = OUT / f"d_{label(rows)}.csv"
        if not csv.exists():
            generate(rows, csv)
        con = store.connect(db)
        started = time.perf_counter()
        load_dossier_file(con, csv, province=PROVINCE, today=date.fromisoformat(TODAY))
        print(f"loaded {csv.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        con.close()
    con = store.connect(db)
    try:
        if not accounts.account(con, "lanhdao"):
            accounts.create_user(con, "lanhdao", PASSWORD, "leader", PROVINCE, "Lãnh đạo tỉnh")
        tokens = {}
        for commune in officers:
            name = f"canbo{commune}"
            if not accounts.account(con, name):
                accounts.create_user(con, name, PASSWORD, "officer", commune, f"Cán bộ {commune}")
            tokens[commune] = api_tokens.issue(con, None, name, "bench", 1)
        return tokens
    finally:
        con.close()


def label(rows: int) -> str:
    return f"{rows // 1_000_000}m" if rows % 1_000_000 == 0 else f"{rows // 1000}k"


def officer_export(path: Path, commune: str, rows: int = 20_000) -> Path:
    start = datetime(2026, 10, 1)
    i = pl.Series("i", range(rows), dtype=pl.Int64)
    received = pl.lit(start) + pl.duration(minutes=(pl.col("i") * 37) % (28 * 24 * 60))
    pl.DataFrame(i).select(
        pl.format(f"UP{commune}-{{}}", pl.col("i")).alias("Mã hồ sơ"), pl.lit(commune).alias("Mã xã"),
        pl.lit("1.001193").alias("Mã TTHC"), pl.lit("Đăng ký khai sinh").alias("Tên TTHC"),
        pl.lit("Hộ tịch").alias("Lĩnh vực"), pl.lit("Trực tuyến").alias("Kênh nộp"),
        received.dt.strftime("%d/%m/%Y %H:%M").alias("Ngày tiếp nhận"),
        (received + pl.duration(days=5)).dt.strftime("%d/%m/%Y").alias("Ngày hẹn trả"),
        pl.lit("Có").alias("Toàn trình"), pl.lit("Có").alias("Số hóa"), pl.lit("Có").alias("Kết quả điện tử"),
    ).write_csv(path)
    return path


class Server:
    def __init__(self, db: Path):
        self.port = free_port()
        self.log = (OUT / "viewers-server.log").open("w")
        env = os.environ | {"KPI_DB": str(db), "KPI_TODAY": TODAY, "KPI_INBOX": "off", "KPI_SCHEDULER": "off"}
        self.proc = subprocess.Popen([sys.executable, "-m", "service", "--server.headless", "true", "--server.port",
                                      str(self.port), "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        from store import remote

        deadline = time.monotonic() + 300
        while (link := remote.find(db)) is None:
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise SystemExit("the server did not start (bench/out/viewers-server.log)")
            time.sleep(0.5)
        self.link = link

    def memory(self) -> dict[str, float]:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        values = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        return {k: int(values[k].split()[0]) / 1024 for k in ("VmRSS", "VmHWM")}

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def open_page(session: Session, page: str, query: str) -> tuple[float, bool]:
    started = time.perf_counter()
    status, elements = session.run(page, query)
    failed = status != 0 or any(kind == "exception" for kind, _ in elements)
    return time.perf_counter() - started, failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="5m")
    parser.add_argument("--viewers", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--every", type=float, default=5)
    parser.add_argument("--officers", type=int, default=2)
    args = parser.parse_args(argv)
    rows = parse_size(args.rows)
    OUT.mkdir(parents=True, exist_ok=True)
    db = OUT / f"viewers_{label(rows)}.duckdb"
    units = communes()
    officer_units = units[: args.officers]
    tokens = prepare(db, rows, officer_units)
    files = {c: officer_export(OUT / f"viewers_upload_{c}.csv", c) for c in officer_units}
    server = Server(db)
    results: dict = {"rows": rows, "viewers": args.viewers, "seconds": args.seconds, "every": args.every,
                     "officers": args.officers, "started": datetime.now().isoformat(timespec="seconds")}
    try:
        # Baseline: one session alone, each page cold once then warm three times.
        alone = Session(server.port)
        alone.login("lanhdao", PASSWORD)
        baseline = {}
        for page, query, _ in PAGES:
            query = query.format(commune=units[0])
            cold, _ = open_page(alone, page, query)
            warm = [open_page(alone, page, query)[0] for _ in range(3)]
            baseline[page or "tong-quan"] = {"cold": round(cold, 3), "warm": round(statistics.median(warm), 3)}
        alone.close()
        results["alone"] = baseline

        sessions = []
        for _ in range(args.viewers):  # logged in before the clock starts (a login is a bcrypt check)
            session = Session(server.port)
            session.login("lanhdao", PASSWORD)
            sessions.append(session)
        runs: list[tuple[str, float, bool]] = []
        errors: list[str] = []
        uploads: list[float] = []
        stop_at = time.monotonic() + args.seconds
        weights = [w for *_, w in PAGES]

        def viewer(i: int, session: Session) -> None:
            rng = random.Random(i)
            time.sleep(rng.uniform(0, args.every))  # not all at the same instant
            commune = units[i % len(units)]
            while time.monotonic() < stop_at:
                started = time.monotonic()
                page, query, _ = rng.choices(PAGES, weights)[0]
                try:
                    seconds, failed = open_page(session, page, query.format(commune=commune))
                    runs.append((page or "tong-quan", seconds, failed))
                except Exception as exc:  # noqa: BLE001 - every failure is a finding
                    errors.append(f"viewer {i}: {exc!r}")
                    return
                time.sleep(max(0.0, args.every - (time.monotonic() - started)))

        def officer(commune: str) -> None:
            from store import remote

            link = remote.Server(server.link.url, tokens[commune])
            while time.monotonic() < stop_at:
                started = time.monotonic()
                status, _, body = remote.request(link, "POST", "/api/v1/uploads", fields={}, files=[files[commune]])
                if status != 200:
                    errors.append(f"upload {commune}: {status} {body[:200]!r}")
                uploads.append(time.monotonic() - started)
                time.sleep(max(0.0, 20 - (time.monotonic() - started)))

        memory = []

        def sample() -> None:
            while time.monotonic() < stop_at:
                memory.append(server.memory())
                time.sleep(1)

        threads = [threading.Thread(target=viewer, args=(i, s)) for i, s in enumerate(sessions)]
        threads += [threading.Thread(target=officer, args=(c,)) for c in officer_units]
        threads.append(threading.Thread(target=sample))
        load_before = os.getloadavg()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.seconds + 600)
        for s in sessions:
            s.close()
        latencies = [s for _, s, _ in runs]
        results |= {
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "overall": spread(latencies),
            "pages": {p: spread([s for q, s, _ in runs if q == p]) for p in sorted({q for q, _, _ in runs})},
            "failed_runs": sum(1 for *_, f in runs if f), "errors": errors[:20],
            "uploads": spread(uploads),
            "server_memory_mib": {"peak_rss": round(max((m["VmHWM"] for m in memory), default=0)),
                                  "last_rss": round(memory[-1]["VmRSS"]) if memory else None},
        }
    finally:
        server.stop()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (OUT / f"viewers-{stamp}.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    print(report(results))
    return 0


def report(r: dict) -> str:
    lines = [f"### {r['viewers']} viewers every {r['every']:g} s for {r['seconds']:g} s, {r['officers']} officers "
             f"uploading, {r['rows']:,} dossiers",
             f"load average before {r['load_average_before']}, after {r['load_average_after']}; "
             f"server peak memory {r['server_memory_mib']['peak_rss']:,} MiB",
             "", "| page | alone cold | alone warm | n | p50 | p95 | max |", "|---|---|---|---|---|---|---|"]
    for page, s in r["pages"].items():
        a = r["alone"].get(page, {})
        lines.append(f"| {page} | {a.get('cold', '')} s | {a.get('warm', '')} s | {s['n']} | {s['p50']} s | "
                     f"{s['p95']} s | {s['max']} s |")
    o = r["overall"]
    lines.append(f"| **all** | | | {o.get('n', 0)} | {o.get('p50', '')} s | {o.get('p95', '')} s | {o.get('max', '')} s |")
    lines += ["", f"failed page runs {r['failed_runs']}, errors {len(r['errors'])}; "
                  f"uploads (20,000 rows) {r['uploads']}", *[f"- {e}" for e in r["errors"]]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
