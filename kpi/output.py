"""What `python -m kpi` prints, as text: one function for every door (the CLI opening the
store itself, the CLI through the running server, `GET /api/v1/kpi`), so they print the same."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

from kpi import format as fmt
from kpi.definitions import KPIS, STATUS_LABELS
from kpi.engine import UnknownUnit, compute
from kpi.periods import PeriodError, parse
from store import accounts

FORMATS = ("table", "json", "csv")


class KpiRequestError(ValueError):
    """A request that cannot be answered (bad period, unknown unit, out of scope, no data):
    Vietnamese message; the CLI exits with 2, the API answers 400/403/404."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


def default_unit(con) -> str | None:
    row = con.execute(
        "SELECT province_code FROM dossiers GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()
    return row[0][0] if row else None


def kpi_text(con, *, period: str, unit: str | None = None, by: str | None = None, kpis: list[str] | None = None,
             today: date | None = None, user: accounts.User | None = None, format: str = "table") -> str:
    """The KPIs of `unit` (or of every commune of it, `by="commune"`) for `period`, as `format`,
    for `user` under the one scope rule (None: the OS account, everything)."""
    if format not in FORMATS:
        raise KpiRequestError(f"Định dạng «{format}» không hỗ trợ (chọn: {', '.join(FORMATS)}).")
    if by not in (None, "commune"):
        raise KpiRequestError(f"Cách chia «{by}» không hỗ trợ (chỉ: commune).")
    unknown = [k for k in kpis or [] if k not in KPIS]
    if unknown:
        raise KpiRequestError(f"Không có KPI «{unknown[0]}» (có: {', '.join(KPIS)}).")
    try:
        span = parse(period)
    except PeriodError as exc:
        raise KpiRequestError(str(exc)) from None
    unit = unit or default_unit(con)
    if unit is None:
        raise KpiRequestError("Kho dữ liệu chưa có hồ sơ nào; hãy chỉ định --unit.", 404)
    try:
        accounts.check_view(con, user, unit)
        rows = compute(con, span, unit, by=by, today=today or date.today(), kpis=kpis)
    except UnknownUnit as exc:
        raise KpiRequestError(str(exc), 404) from None
    except accounts.AccessDenied as exc:
        raise KpiRequestError(str(exc), 403) from None
    visible = accounts.visible_units(con, user)
    rows = [r for r in rows if visible is None or r.unit_code in visible]
    records = [r.public() for r in rows]
    if format == "json":
        return json.dumps(records, ensure_ascii=False, indent=1, default=str) + "\n"
    if format == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else [])
        writer.writeheader()
        writer.writerows(records)
        return out.getvalue()
    return table(rows) + "\n"


def print_kpis(con, args) -> int:
    """`python -m kpi`'s answer from `con` (a store or a lake), printed; closes `con`. Exit 0, or
    2 with the Vietnamese reason on standard error."""
    import sys

    try:
        text = kpi_text(con, period=args.period, unit=args.unit, by=args.by, kpis=args.kpi,
                        today=date.fromisoformat(args.today) if args.today else None,
                        user=accounts.current_user(), format=args.format)
    except KpiRequestError as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        con.close()
    sys.stdout.write(text)
    return 0


def show_value(kpi: str, value: float | None) -> str:
    return KPIS[kpi].format(value)


TABLE_COLUMNS = (("Mã", 5, ">"), ("Đơn vị", 28, "<"), ("Kỳ", 10, "<"), ("Chỉ tiêu", 46, "<"),
                 ("Giá trị", 16, ">"), ("(tử số/mẫu số)", 22, "<"), ("Chỉ tiêu kế hoạch", 24, "<"), ("Đánh giá", 0, "<"))


def table(rows) -> str:
    """The table of `python -m kpi`: a header row, then one line per KPI; names are shortened
    at a word, never in the middle of one."""
    def line(cells) -> str:
        return " ".join(f"{fmt.shorten(str(c), w):{a}{w}}" if w else str(c)
                        for c, (_, w, a) in zip(cells, TABLE_COLUMNS, strict=True)).rstrip()

    lines = [line(name for name, _, _ in TABLE_COLUMNS)]
    for r in rows:
        op = {">=": "≥", "<=": "≤", "==": "="}.get(r.target_op or "", r.target_op)
        target = "" if r.target is None else f"{op} {KPIS[r.kpi].format_target(r.target)}"
        nd = ("" if r.denominator is None or r.numerator is None
              else f"({fmt.number(r.numerator)}/{fmt.number(r.denominator)})")
        lines.append(line((r.unit_code, r.unit_name, r.period, KPIS[r.kpi].label, show_value(r.kpi, r.value), nd,
                           target, STATUS_LABELS[r.status])))
    return "\n".join(lines)
