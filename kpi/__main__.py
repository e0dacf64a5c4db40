"""python -m kpi --period P [--db PATH | --lake DIR [--engine duckdb|spark] [--spark-master URL]] [--unit CODE]
[--by commune] [--kpi ID]... [--format table|json|csv]

While the dashboard serves the store, the answer comes from the running server (store/remote.py),
identical to opening the store; otherwise the store is opened read-only. Exit 0, or 2 with a
Vietnamese message on standard error. Only the standard library is imported before the
arguments are read.
"""

from __future__ import annotations

import argparse
import sys

from store import cli


def parser() -> argparse.ArgumentParser:
    p = cli.parser("python -m kpi", "Tính chỉ tiêu KPI chuyển đổi số.")
    p.add_argument("--period", required=True, metavar="KỲ", help="2025-09, 2025-Q3, 2025 hoặc 2025-07-01..2025-09-30")
    cli.add_db(p)
    p.add_argument("--unit", default=None, metavar="MÃ", help="Mã tỉnh hoặc xã (mặc định: tỉnh có nhiều dữ liệu nhất)")
    p.add_argument("--by", default=None, choices=("commune",), help="commune: từng xã/phường của tỉnh")
    p.add_argument("--kpi", action="append", metavar="MÃ_KPI", help="Chỉ tính KPI này (mã KPI, lặp lại được)")
    p.add_argument("--today", default=None, help=argparse.SUPPRESS)
    p.add_argument("--format", default="table", choices=("table", "json", "csv"), help="Định dạng (mặc định: table)")
    p.add_argument("--lake", default=None, metavar="THƯ_MỤC", help="Thư mục Parquet đã xuất (python -m store.lake export)")
    p.add_argument("--engine", default="duckdb", choices=("duckdb", "spark"), help="Bộ máy đọc --lake (mặc định: duckdb)")
    p.add_argument("--spark-master", default=None, metavar="URL",
                   help="Cụm Spark, ví dụ spark://máy:7077 (mặc định: cấu hình của Spark, hoặc local[2])")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.lake:  # an exported lake instead of the store, read by DuckDB or Spark SQL
        from kpi import lake_engine

        return lake_engine.cli(args)
    from store import remote
    from store.paths import db_path

    db = db_path(args.db)
    server = remote.find(db)
    if server is not None:
        return _through_server(server, args)
    if not db.exists():
        print(f"Không có kho dữ liệu «{db}». Hãy nạp dữ liệu trước (python -m loaders ...).", file=sys.stderr)
        return 2
    from kpi.output import print_kpis
    from store import db as store

    return print_kpis(store.connect(db, read_only=True), args)


def _through_server(server, args) -> int:
    from store import remote

    params = {"period": args.period, "unit": args.unit, "by": args.by, "kpi": args.kpi, "today": args.today,
              "format": args.format}
    body = remote.call(server, "GET", "/api/v1/kpi", params=params, timeout=300)
    if isinstance(body, int):
        return body
    sys.stdout.write(body.decode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
