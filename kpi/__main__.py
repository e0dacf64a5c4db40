"""python -m kpi --period P [--db PATH] [--unit CODE] [--by commune] [--format table|json|csv]"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import date

from kpi import format as fmt
from kpi.definitions import KPIS, STATUS_LABELS
from kpi.engine import UnknownUnit, compute
from kpi.periods import PeriodError, parse
from store import accounts
from store import db as store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kpi", description="Tính chỉ tiêu KPI chuyển đổi số.")
    parser.add_argument("--period", required=True, help="2025-09, 2025-Q3, 2025 hoặc 2025-07-01..2025-09-30")
    parser.add_argument("--db", default=None)
    parser.add_argument("--unit", default=None, help="Mã tỉnh hoặc xã (mặc định: tỉnh có nhiều dữ liệu nhất)")
    parser.add_argument("--by", default=None, choices=("commune",))
    parser.add_argument("--kpi", action="append", choices=list(KPIS), help="Chỉ tính các KPI này")
    parser.add_argument("--today", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--format", default="table", choices=("table", "json", "csv"))
    args = parser.parse_args(argv)
    try:
        period = parse(args.period)
    except PeriodError as exc:
        print(exc, file=sys.stderr)
        return 2
    path = store.db_path(args.db)
    if not path.exists():
        print(f"Không có kho dữ liệu «{path}». Hãy nạp dữ liệu trước (python -m loaders ...).", file=sys.stderr)
        return 2
    con = store.connect(path, read_only=True)
    unit = args.unit or default_unit(con)
    if unit is None:
        print("Kho dữ liệu chưa có hồ sơ nào; hãy chỉ định --unit.", file=sys.stderr)
        return 2
    today = date.fromisoformat(args.today) if args.today else date.today()
    user = accounts.current_user()  # None: the OS account runs it; else the one scope rule applies
    try:
        accounts.check_view(con, user, unit)
        rows = compute(con, period, unit, by=args.by, today=today, kpis=args.kpi)
    except (UnknownUnit, accounts.AccessDenied) as exc:
        print(exc, file=sys.stderr)
        return 2
    visible = accounts.visible_units(con, user)
    rows = [r for r in rows if visible is None or r.unit_code in visible]
    records = [r.public() for r in rows]
    if args.format == "json":
        print(json.dumps(records, ensure_ascii=False, indent=1, default=str))
    elif args.format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else [])
        writer.writeheader()
        writer.writerows(records)
        sys.stdout.write(out.getvalue())
    else:
        print(table(rows))
    return 0


def default_unit(con) -> str | None:
    row = con.execute(
        "SELECT province_code FROM dossiers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()
    return row[0][0] if row else None


def show_value(kpi: str, value: float | None) -> str:
    return KPIS[kpi].format(value)


def table(rows) -> str:
    lines = []
    for r in rows:
        target = "" if r.target is None else f"chỉ tiêu {r.target_op} {KPIS[r.kpi].format_target(r.target)}"
        nd = ("" if r.denominator is None or r.numerator is None
              else f" ({fmt.number(r.numerator)}/{fmt.number(r.denominator)})")
        lines.append(
            f"{r.unit_code:>5} {r.unit_name[:28]:<28} {r.period:<10} {KPIS[r.kpi].label[:45]:<45} "
            f"{show_value(r.kpi, r.value):>16}{nd:<20} {target:<22} {STATUS_LABELS[r.status]}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
