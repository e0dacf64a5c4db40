"""The command-line tools' argument parser, in Vietnamese: argparse's own texts (usage,
options, its error messages) are English, so its message catalogue is replaced here, for
every CLI of the project (standard library only: `--help` imports nothing else)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

VI = {
    "usage: ": "Cách dùng: ",
    "options": "Tùy chọn",
    "optional arguments": "Tùy chọn",
    "positional arguments": "Tham số",
    "show this help message and exit": "Hiện hướng dẫn này rồi thoát",
    "show program's version number and exit": "Hiện phiên bản rồi thoát",
    "%(prog)s: error: %(message)s\n": "%(prog)s: lỗi: %(message)s\n",
    "the following arguments are required: %s": "thiếu tham số bắt buộc: %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "giá trị %(value)r không hợp lệ (chọn một trong: %(choices)s)",
    "unrecognized arguments: %s": "không hiểu tham số: %s",
    "expected one argument": "cần một giá trị",
    "expected at least one argument": "cần ít nhất một giá trị",
    "expected at most one argument": "cần nhiều nhất một giá trị",
    "invalid %(type)s value: %(value)r": "giá trị %(value)r không hợp lệ",
    "argument %(argument_name)s: %(message)s": "tham số %(argument_name)s: %(message)s",
    "ambiguous option: %(option)s could match %(matches)s": "tùy chọn %(option)s không rõ: có thể là %(matches)s",
    "not allowed with argument %s": "không dùng cùng tham số %s",
    "one of the arguments %s is required": "cần một trong các tham số %s",
    "ignored explicit argument %r": "bỏ qua giá trị %r",
    "subcommands": "Lệnh",
    "argument %(argument_name)s: conflicting option string: %(conflicting_option)s":
        "tham số %(argument_name)s: trùng tùy chọn %(conflicting_option)s",
}


def _vi(message: str) -> str:
    return VI.get(message, message)


def _vi_plural(singular: str, plural: str, n: int) -> str:
    if singular == "expected %s argument":
        return "cần %s giá trị"
    return _vi(singular if n == 1 else plural)


def parser(prog: str, description: str, **kwargs) -> argparse.ArgumentParser:
    """An ArgumentParser that speaks Vietnamese (help, usage and errors)."""
    argparse._ = _vi
    argparse.ngettext = _vi_plural
    return argparse.ArgumentParser(prog=prog, description=description, **kwargs)


DB_HELP = "Tệp kho dữ liệu DuckDB (mặc định $KPI_DB, rồi data/kpi.duckdb)"


def add_db(parser: argparse.ArgumentParser, help: str = DB_HELP) -> None:
    """The `--db` option every CLI has, said the same way in each."""
    parser.add_argument("--db", default=None, metavar="TỆP_KHO", help=help)


def run(main: Callable[[], int]) -> int:
    """Run a CLI's `main`: a store that cannot be opened (locked, not a store, outdated) is
    its Vietnamese message on standard error and exit 2, never a traceback."""
    from store.errors import StoreUnavailable

    try:
        return main()
    except StoreUnavailable as exc:
        print(f"LỖI  {exc}", file=sys.stderr)
        return 2
