"""python -m loaders FILE... [--db PATH] [--province CODE] [--kind KIND] [--period P] [--unit CODE]
                       [--format text|json]

Loads each file in its own transaction. Exit 0 when every file loaded (rows may still
be rejected: they are listed), 1 when a file was rejected whole, 2 on bad arguments.
While the dashboard serves the store, the files go to the running server's API
(store/remote.py) and the output is the same.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from store import cli

# The file kinds (loaders/sources.py KINDS), listed here so that `--help` and a load through
# the server need not import the loaders; tests/test_cli_text.py checks they agree.
KINDS = ("dossiers", "template", "catalogue", "archive", "tasks")


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("python -m loaders", "Nạp tệp dữ liệu vào kho KPI.")
    parser.add_argument("files", nargs="+", type=Path, metavar="TỆP", help="Tệp CSV hoặc Excel (.xlsx) cần nạp")
    cli.add_db(parser)
    parser.add_argument("--province", default=None, metavar="MÃ", help="Mã tỉnh/thành phố để đối chiếu tên đơn vị")
    parser.add_argument("--kind", default=None, choices=KINDS, help="Loại tệp (mặc định: tự nhận biết)")
    parser.add_argument("--period", default=None, metavar="KỲ", help="Kỳ báo cáo cho biểu mẫu không ghi kỳ (vd. 2025-10)")
    parser.add_argument("--unit", default=None, metavar="ĐƠN_VỊ",
                        help="Đơn vị của tệp chỉ thuộc một đơn vị (danh sách nhiệm vụ, danh mục, biểu 07a), mã hoặc tên")
    parser.add_argument("--user", default=None, metavar="TÊN", help="Người tải lên (ghi vào lịch sử)")
    parser.add_argument("--format", default="text", choices=("text", "json"), help="Định dạng kết quả (mặc định: text)")
    args = parser.parse_args(argv)
    from store import remote
    from store.paths import db_path

    server = remote.find(db_path(args.db))
    if server is not None:
        summaries, failed = _through_server(server, args)
    else:
        outcome = _load_here(args)
        if isinstance(outcome, int):
            return outcome
        summaries, failed = outcome
    if args.format == "json":
        print(_json(json.dumps(summaries if len(summaries) > 1 else summaries[0], ensure_ascii=False, indent=2,
                               default=str)))
    else:
        for s in summaries:
            from loaders.cli_text import summary_text

            print(_visible(summary_text(s)))
    return 1 if failed else 0


def _through_server(server, args) -> tuple[list[dict], bool]:
    from loaders import missing_file
    from store import remote

    fields = {"kind": args.kind, "province": args.province, "period": args.period, "unit": args.unit,
              "user": args.user}
    summaries = []
    for path in args.files:  # one request a file: each is its own transaction, as here
        if not path.is_file():
            summaries.append({"file": path.name, "error": missing_file(path.name)})
            continue
        try:
            status, _, body = remote.request(server, "POST", "/api/v1/uploads", fields=fields, files=[path])
        except remote.RemoteError as exc:
            summaries.append({"file": path.name, "error": str(exc)})
            continue
        if status != 200:
            summaries.append({"file": path.name, "error": remote.answer(status, body)})
        else:
            summaries += json.loads(body)
    return summaries, any("error" in s for s in summaries)


def _load_here(args) -> tuple[list[dict], bool] | int:

    from loaders import sources
    from loaders.files import LoadError
    from store import db as store

    try:
        con = store.connect(args.db)
    except store.StoreUnavailable as exc:  # e.g. held by another process (DuckDB allows one writer)
        message = str(exc)
        print(_visible(f"LỖI  {message}"), file=sys.stderr)
        if args.format == "json":
            print(_json(json.dumps({"error": message}, ensure_ascii=False)))
        return 1
    summaries, failed = [], False
    for path in args.files:
        try:
            result = sources.load_file(con, path, kind=args.kind, province=args.province, period=args.period,
                                       user=args.user, unit=args.unit)
            summaries.append(result.summary())
        except LoadError as exc:
            failed = True
            summaries.append({"file": path.name, "error": str(exc)})
    con.close()
    return summaries, failed


# Cells and file names are quoted in the output: their control characters (ESC sequences
# retitle, erase or overwrite the operator's terminal) are shown as escapes, never sent.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
_JSON_UNESCAPED = re.compile(r"[\x7f-\x9f\u2028\u2029]")  # json.dumps escapes only C0 (and " \\)


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _json(text: str) -> str:
    return _JSON_UNESCAPED.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


if __name__ == "__main__":
    sys.exit(cli.run(main))
