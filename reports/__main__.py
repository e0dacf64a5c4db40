"""python -m reports send --unit CODE --period P [--to ADDR] [--dry-run]
python -m reports reminders [--dry-run]

The work is one call taking a connection (`send`, `reminders`), so that the same can run
inside the server (reports.delivery) or from cron on the store file. While the server holds
the store (store/remote.py finds it) this says so: the server's API has no mail call yet.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from kpi.periods import PeriodError
from reports import delivery
from store import cli
from store import db as store


def send(con, unit: str, period: str, to: str | None, dry_run: bool, now: datetime) -> tuple[int, str]:
    """Send (or list, dry run) a unit's report for a period: exit code and the text to print."""
    planned, summary = delivery.send_now(con, unit, period, now, to=to, dry_run=dry_run)
    if not planned:
        return 1, "Không có người nhận: chưa tài khoản nào của đơn vị có địa chỉ thư (hoặc dùng --to)."
    lines = [f"{'Chạy thử — sẽ gửi' if dry_run else 'Gửi'} {len(planned)} thư:"]
    lines += [f"  {p.recipient}: {p.subject}" for p in planned]
    if not dry_run:
        lines.append(summary.text)
        lines += [f"  Lỗi: {e}" for e in summary.errors]
    return (0 if dry_run or summary.sent == len(planned) else 1), "\n".join(lines)


def reminders(con, dry_run: bool, now: datetime) -> tuple[int, str]:
    """Generate and send the reminders due now (or list them, dry run)."""
    if dry_run:
        planned = delivery.preview(con, now, kinds=("reminder",))
        lines = [f"Chạy thử — sẽ gửi {len(planned)} thư nhắc hạn:"]
        lines += [f"  {p.recipient}: {p.subject}" for p in planned]
        return 0, "\n".join(lines)
    summary = delivery.run_due(con, now, kinds=("reminder",))
    return (0 if not summary.errors else 1), "\n".join([summary.text] + [f"  Lỗi: {e}" for e in summary.errors])


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("python -m reports", "Gửi báo cáo định kỳ và thư nhắc hạn qua máy chủ thư đã cấu hình.")
    parser.add_argument("--db", default=None, metavar="TỆP", help="Tệp kho dữ liệu (mặc định: $KPI_DB, rồi data/kpi.duckdb)")
    commands = parser.add_subparsers(dest="command", required=True, title="Lệnh", metavar="LỆNH")
    p_send = commands.add_parser("send", help="Gửi báo cáo của một đơn vị cho một kỳ ngay bây giờ",
                                 description="Gửi báo cáo (Excel và PDF) của một đơn vị cho một kỳ.")
    p_send.add_argument("--unit", required=True, metavar="MÃ", help="Mã tỉnh (2 số) hoặc xã/phường (5 số)")
    p_send.add_argument("--period", required=True, metavar="KỲ", help="Kỳ: 2025-09, 2025-Q3, 2025 hoặc 2025-07-01..2025-09-30")
    p_send.add_argument("--to", default=None, metavar="ĐỊA_CHỈ", help="Chỉ gửi đến địa chỉ này (mặc định: các tài khoản của đơn vị)")
    p_send.add_argument("--dry-run", action="store_true", help="Chỉ liệt kê thư sẽ gửi, không gửi")
    p_rem = commands.add_parser("reminders", help="Gửi các thư nhắc hạn đến hạn gửi",
                                description="Tạo và gửi các thư nhắc hạn đến hạn theo lịch của từng đơn vị.")
    p_rem.add_argument("--dry-run", action="store_true", help="Chỉ liệt kê thư sẽ gửi, không gửi")
    for sub in (p_send, p_rem):
        sub.add_argument("--now", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    path = store.db_path(args.db)
    if not path.exists():
        print(f"Không có kho dữ liệu «{path}».", file=sys.stderr)
        return 2
    from store import remote

    if remote.find(path) is not None:  # the server holds the file; its API has no mail call yet
        print(f"Máy chủ bảng điều khiển đang mở kho «{path}»: hãy gửi thư trên trang «Thư và nhắc hạn» "
              "(bộ lập lịch của máy chủ gửi thư đến hạn), hoặc dừng máy chủ rồi chạy lại lệnh này.", file=sys.stderr)
        return 2
    now = datetime.fromisoformat(args.now) if args.now else datetime.now()
    con = store.connect(path)
    try:
        if args.command == "send":
            code, text = send(con, args.unit, args.period, args.to, args.dry_run, now)
        else:
            code, text = reminders(con, args.dry_run, now)
    except (PeriodError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    finally:
        con.close()
    print(text)
    return code


if __name__ == "__main__":
    sys.exit(main())
