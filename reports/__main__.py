"""python -m reports send --unit CODE --period P [--to ADDR] [--dry-run]
python -m reports reminders [--dry-run]

The work is one call taking a connection (reports/commands.py `send`, `reminders`): run here
on the store file, or, while the dashboard's server holds the store (store/remote.py finds
it), by the server through its API (`POST /api/v1/mail/send`, `/api/v1/mail/reminders`), with
the same output and exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from store import cli
from store.paths import db_path


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("python -m reports", "Gửi báo cáo định kỳ và thư nhắc hạn qua máy chủ thư đã cấu hình.")
    cli.add_db(parser)
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

    path = db_path(args.db)
    if not path.exists():
        print(f"Không có kho dữ liệu «{path}».", file=sys.stderr)
        return 2
    from store import remote

    server = remote.find(path)
    if server is not None:
        return _through_server(server, args)
    from kpi.periods import PeriodError
    from reports.commands import reminders, send
    from store import db as store

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


def _through_server(server, args) -> int:
    from store import remote

    fields = {"dry_run": "true" if args.dry_run else "false", "now": args.now}
    if args.command == "send":
        fields |= {"unit": args.unit, "period": args.period, "to": args.to}
    body = remote.call(server, "POST", f"/api/v1/mail/{args.command}", fields=fields, timeout=600)
    if isinstance(body, int):
        return body
    answer = json.loads(body)
    print(answer["text"])
    return answer["code"]


if __name__ == "__main__":
    sys.exit(cli.run(main))
