"""First start: create the store and fill it with the sample data.

`python -m loaders.bootstrap [--db PATH] [--rebuild] [--scale S]` generates the
deterministic sample (sample_data/generate.py) up to today and loads every file through
the same loaders as officers' uploads, printing progress. A store that already has
uploads is left alone unless --rebuild.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from loaders import sources
from loaders.files import LoadError
from store import accounts, cli
from store import db as store

SAMPLE_DIR = store.ROOT / "data" / "sample"
PLANS_DIR = store.ROOT / "sample_data" / "plans"
# Sample files that name units without codes, and the province they belong to.
NAME_ONLY_PROVINCES = {"nghe_an": "40"}
DEMO_ACCOUNTS = [  # sample data only: documented in the README, never in a real deployment
    ("admin", "quantri-demo", "admin", None, "Quản trị hệ thống"),
    ("lanhdao.nghean", "lanhdao-demo", "leader", "40", "Lãnh đạo tỉnh Nghệ An"),
    ("canbo.nghiatho", "canbo-demo", "officer", "16969", "Cán bộ một cửa xã Nghĩa Thọ"),
    ("phantich", "phantich-demo", "analyst", None, "Chuyên viên phân tích"),
]


def _generate(out_dir: Path, scale: float, today: date) -> dict[str, list[Path]]:
    sys.path.insert(0, str(store.ROOT / "sample_data"))
    from generate import generate  # sample_data/generate.py

    return generate(out_dir, scale=scale, today=today)


def _province_for(path: Path) -> str | None:
    return next((code for key, code in NAME_ONLY_PROVINCES.items() if key in path.name), None)


def has_data(path: Path) -> bool:
    if not path.exists():
        return False
    con = store.connect(path)
    try:
        return con.execute("SELECT count(*) FROM batches").fetchall()[0][0] > 0
    finally:
        con.close()


def build(path: Path, scale: float = 1.0, today: date | None = None, out=print) -> None:
    today = today or date.today()
    started = time.perf_counter()
    out(f"Đang tạo dữ liệu mẫu đến ngày {today:%d/%m/%Y}…")
    files = _generate(SAMPLE_DIR, scale, today)
    files["tasks"] = sorted(PLANS_DIR.glob("*_tasks.csv"))
    queue = [(kind, p) for kind in ("dossiers", "catalogue", "archive", "templates", "tasks") for p in files.get(kind, [])
             if p.suffix in (".csv", ".xlsx") and not (kind == "templates" and p.suffix == ".csv")]
    con = store.connect(path)
    try:
        for done, (kind, file) in enumerate(queue, start=1):
            load_kind = {"templates": "template"}.get(kind, kind)
            try:
                result = sources.load_file(con, file, kind=load_kind, province=_province_for(file), user="mẫu")
                summary = result.summary()
                out(f"[{done}/{len(queue)}] {file.name}: nạp {summary['loaded']}, thay thế {summary['replaced']}, "
                    f"từ chối {len(summary['rejected'])}")
            except LoadError as exc:
                out(f"[{done}/{len(queue)}] {file.name}: LỖI {exc}")
        accounts.ensure_schema(con)
        if con.execute("SELECT count(*) FROM users").fetchall()[0][0] == 0:
            for username, password, role, unit, name in DEMO_ACCOUNTS:
                grants = ["40", "21523", "25363"] if role == "analyst" else None
                accounts.create_user(con, username, password, role, unit, name, grants)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    out(f"Xong sau {time.perf_counter() - started:.1f} giây: {path}")


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("python -m loaders.bootstrap", "Tạo kho dữ liệu mẫu (lần chạy đầu của make run).")
    cli.add_db(parser)
    parser.add_argument("--rebuild", action="store_true", help="Xóa kho hiện có và tạo lại từ dữ liệu mẫu")
    parser.add_argument("--scale", type=float, default=1.0, metavar="HỆ_SỐ", help="Hệ số số lượng hồ sơ mẫu (mặc định 1)")
    args = parser.parse_args(argv)
    path = store.db_path(args.db)
    if has_data(path) and not args.rebuild:
        print(f"Kho dữ liệu {path} đã có dữ liệu; bỏ qua nạp mẫu (dùng --rebuild để tạo lại).")
        return 0
    if args.rebuild and path.exists():
        path.unlink()
        Path(str(path) + ".wal").unlink(missing_ok=True)
    build(path, args.scale)
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
