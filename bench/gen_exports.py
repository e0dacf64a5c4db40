"""Deterministic generator of dossier export CSVs of any size, like a province's one-door system.

    python -m bench.gen_exports --rows 1000000 --out bench/out/d_1m.csv [--shape comma10]

One province (Nghệ An, 40: its 130 communes, uneven in size), realistic procedures, channels,
dd/mm/yyyy HH:MM:SS timestamps from 07/2025 to 10/2026, due and finished dates (some empty),
Có/Không flags; semicolon-separated UTF-8 with BOM, headers as in docs/domain.md. A few rows are
bad (impossible date, unknown commune, no id) and a few are exact repeats, as in real exports.

Several export shapes (SHAPES; the same rows each, written differently):
  bench    the above: ';', UTF-8 with BOM, CRLF, 16 columns, units by code and name.
  comma10  ',', UTF-8 without BOM, LF, 10 columns, units by their 5-digit code only, due and
           finished dates without a time (dd/mm/yyyy), flags as 1/0.
  names    ";", UTF-8 with BOM, CRLF, 15 columns, units by commune NAME only (no code column),
           Có/Không flags.
  utf16    the bench shape saved as UTF-16 LE with BOM, tab-separated (Excel's «Unicode text»).
  xlsx     the comma10 columns in an Excel workbook (one sheet; at most 1,048,575 rows).

Rows are generated in chunks of CHUNK rows with numpy, each from its own seed (seed, chunk
index), formatted and written by polars; so the first N rows of a bigger file are the same
as a file of N rows and the output does not depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl

from store.db import units_rows

PROVINCE = "40"
CHUNK = 1_000_000
HEADERS = ["Mã hồ sơ", "Mã xã", "Tên đơn vị", "Mã TTHC", "Tên TTHC", "Lĩnh vực", "Kênh nộp", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả", "Trạng thái", "Toàn trình", "Số hóa", "Kết quả điện tử", "Tái sử dụng dữ liệu", "Thanh toán trực tuyến"]
DATE_FORMAT = "%d/%m/%Y %H:%M:%S"
START = datetime(2025, 7, 1)
END = datetime(2026, 11, 1)          # received before this
LAST_FINISH = datetime(2026, 11, 23, 23, 59, 59)  # "today" is 24/11/2026: nothing finishes later

# (code, name, field, processing days, weight): common procedures at a commune's one-stop centre.
PROCEDURES = (
    ("1.001193", "Đăng ký khai sinh", "Hộ tịch", 1, 14),
    ("1.000656", "Đăng ký khai tử", "Hộ tịch", 1, 4),
    ("1.000894", "Đăng ký kết hôn", "Hộ tịch", 1, 5),
    ("1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", "Hộ tịch", 3, 6),
    ("1.004746", "Cấp bản sao trích lục hộ tịch", "Hộ tịch", 1, 4),
    ("2.000908", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", "Chứng thực", 1, 20),
    ("2.000884", "Chứng thực chữ ký trong các giấy tờ, văn bản", "Chứng thực", 1, 8),
    ("2.001035", "Chứng thực hợp đồng, giao dịch liên quan đến tài sản là động sản", "Chứng thực", 3, 3),
    ("1.001612", "Đăng ký thành lập hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", 3, 4),
    ("2.000720", "Đăng ký thay đổi nội dung đăng ký hộ kinh doanh", "Thành lập và hoạt động của hộ kinh doanh", 3, 2),
    ("1.001699", "Xác nhận hộ gia đình làm nông nghiệp có mức sống trung bình", "Bảo trợ xã hội", 5, 2),
    ("2.002622", "Trợ giúp xã hội khẩn cấp về hỗ trợ chi phí mai táng", "Bảo trợ xã hội", 5, 1),
    ("1.001776", "Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng", "Bảo trợ xã hội", 10, 2),
    ("1.000775", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "Hoạt động xây dựng", 15, 3),
    ("1.004227", "Đăng ký đất đai, tài sản gắn liền với đất lần đầu", "Đất đai", 20, 3),
    ("1.000105", "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất", "Đất đai", 10, 4),
    ("1.003003", "Chuyển mục đích sử dụng đất phải được phép của cơ quan nhà nước có thẩm quyền", "Đất đai", 15, 1),
    ("2.001457", "Giải quyết khiếu nại lần đầu", "Giải quyết khiếu nại", 30, 1),
)
CHANNELS = (("Trực tuyến", 0.64), ("Trực tiếp", 0.33), ("Bưu chính công ích", 0.03))
BAD_VALUES = ("31/02/2026 08:00:00", "99999", "Xã Không Có")  # impossible date, unknown commune


def communes(province: str = PROVINCE) -> tuple[list[str], list[str]]:
    """(codes, full names) of a province's communes, from the shipped units list."""
    rows = [r for r in units_rows() if r[3] == "commune" and r[4] == province]
    rows.sort()
    return [r[0] for r in rows], [r[2] for r in rows]


def _weights(n: int, rng: np.random.Generator) -> np.ndarray:
    """Uneven unit sizes: a Zipf-like weight per unit, in a fixed shuffled order."""
    w = 1.0 / (np.arange(n) + 4.0)
    rng.shuffle(w)
    return w / w.sum()


def _pick(rng, n: int, p) -> np.ndarray:
    return rng.choice(len(p), size=n, p=np.asarray(p) / np.sum(p)).astype(np.int32)


def _ts(us: np.ndarray, valid: np.ndarray | None = None) -> pl.Series:
    values = us.astype("datetime64[us]")
    if valid is not None:
        values[~valid] = np.datetime64("NaT")
    return pl.Series(values)


def chunk(index: int, rows: int, offset: int, seed: int, bad_rate: float, dup_rate: float,
          codes: list[str], names: list[str]) -> pl.DataFrame:
    """Rows offset .. offset+rows of the export, from the generator seeded with (seed, index)."""
    rng = np.random.default_rng([seed, index])
    unit_w = _weights(len(codes), np.random.default_rng([seed, 10**6]))
    unit = _pick(rng, rows, unit_w)
    proc = _pick(rng, rows, [p[4] for p in PROCEDURES])
    chan = _pick(rng, rows, [c[1] for c in CHANNELS])
    online = chan == 0

    day_us = 86_400 * 10**6
    days = (END - START).days
    start_us = int(np.datetime64(START, "us").astype(np.int64))
    day = rng.integers(0, days, rows)
    office_sec = rng.integers(7 * 3600 + 1800, 17 * 3600, rows)   # counter hours
    any_sec = rng.integers(0, 86_400, rows)                         # online: any time
    sec = np.where(online, any_sec, office_sec)
    received = start_us + day * day_us + sec * 10**6

    proc_days = np.array([p[3] for p in PROCEDURES])[proc]
    due = start_us + (day + proc_days) * day_us + 17 * 3600 * 10**6   # 17:00 on the due day
    has_due = rng.random(rows) > 0.05
    # Most finish before the due day, some late; a few stay open.
    spent = (proc_days * day_us * rng.lognormal(-0.45, 0.5, rows)).astype(np.int64) + 1800 * 10**6
    finished = received + spent
    last = int(np.datetime64(LAST_FINISH, "us").astype(np.int64))
    is_finished = (rng.random(rows) > 0.04) & (finished <= last)

    def flag(p) -> np.ndarray:
        return rng.random(rows) < p

    frame = pl.DataFrame({
        "seq": np.arange(offset + 1, offset + rows + 1, dtype=np.int64),
        "unit": unit, "proc": proc, "chan": chan,
        "received": _ts(received), "due": _ts(due, has_due), "finished": _ts(finished, is_finished),
        "fully_online": flag(np.where(online, 0.85, 0.0)),
        "digitised": flag(np.where(online, 0.9, 0.6)),
        "e_result": flag(np.where(is_finished, 0.8, 0.0)),
        "data_reused": flag(np.where(online, 0.5, 0.2)),
        "paid_online": flag(np.where(online, 0.55, 0.03)),
        "bad": _pick(rng, rows, [1 - bad_rate, bad_rate / 3, bad_rate / 3, bad_rate / 3]),
    })
    code_s = pl.Series(codes)
    proc_cols = {k: pl.Series([p[i] for p in PROCEDURES]) for i, k in enumerate(("code", "name", "field"))}
    received_text = pl.col("received").dt.strftime(DATE_FORMAT)
    out = frame.select(
        pl.when(pl.col("bad") == 3).then(pl.lit(None, dtype=pl.String)).otherwise(pl.format(
            "H40.{}-{}-{}", pl.lit(code_s).gather(pl.col("unit")), pl.col("received").dt.strftime("%y%m%d"),
            pl.col("seq").cast(pl.String).str.zfill(8))).alias(HEADERS[0]),
        pl.when(pl.col("bad") == 2).then(pl.lit(BAD_VALUES[1])).otherwise(pl.lit(code_s).gather(pl.col("unit"))).alias(HEADERS[1]),
        pl.when(pl.col("bad") == 2).then(pl.lit(BAD_VALUES[2]))
        .otherwise(pl.lit(pl.Series(names)).gather(pl.col("unit"))).alias(HEADERS[2]),
        pl.lit(proc_cols["code"]).gather(pl.col("proc")).alias(HEADERS[3]),
        pl.lit(proc_cols["name"]).gather(pl.col("proc")).alias(HEADERS[4]),
        pl.lit(proc_cols["field"]).gather(pl.col("proc")).alias(HEADERS[5]),
        pl.lit(pl.Series([c[0] for c in CHANNELS])).gather(pl.col("chan")).alias(HEADERS[6]),
        pl.when(pl.col("bad") == 1).then(pl.lit(BAD_VALUES[0])).otherwise(received_text).alias(HEADERS[7]),
        pl.col("due").dt.strftime(DATE_FORMAT).alias(HEADERS[8]),
        pl.col("finished").dt.strftime(DATE_FORMAT).alias(HEADERS[9]),
        pl.when(pl.col("finished").is_null()).then(pl.lit("Đang giải quyết"))
        .otherwise(pl.lit("Đã trả kết quả")).alias(HEADERS[10]),
        *(pl.when(pl.col(c)).then(pl.lit("Có")).otherwise(pl.lit("Không")).alias(h) for c, h in zip(
            ("fully_online", "digitised", "e_result", "data_reused", "paid_online"), HEADERS[11:], strict=True)),
    )
    if dup_rate > 0:
        # An exact repeat of the row before it (the same dossier listed twice in one export).
        take = np.arange(rows)
        dup = np.flatnonzero(rng.random(rows) < dup_rate)
        take[dup[dup > 0]] -= 1
        out = out[take]
    return out


# Columns of the comma10 shape (the "10 columns"), and its 1/0 flags.
COMMA10 = ["Mã hồ sơ", "Mã xã", "Mã TTHC", "Kênh nộp", "Ngày tiếp nhận", "Ngày hẹn trả", "Ngày có kết quả",
           "Trạng thái", "Toàn trình", "Số hóa"]
NAMES = [h for h in HEADERS if h != "Mã xã"]
SHAPES = ("bench", "comma10", "names", "utf16", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet, less the header row
# Per shape: (separator, BOM, line end, encoding); xlsx is a workbook.
TEXT_FORMS = {"bench": (";", True, "\r\n", "utf-8"), "comma10": (",", False, "\n", "utf-8"),
         "names": (";", True, "\r\n", "utf-8"), "utf16": ("\t", True, "\r\n", "utf-16-le")}


def shaped(frame: pl.DataFrame, shape: str) -> pl.DataFrame:
    """A chunk of the bench shape in the columns and cell forms of `shape`."""
    if shape in ("bench", "utf16"):
        return frame
    if shape == "names":
        return frame.select(NAMES)
    if shape in ("comma10", "xlsx"):
        flag = {h: pl.when(pl.col(h) == "Có").then(pl.lit("1")).otherwise(pl.lit("0")).alias(h)
                for h in ("Toàn trình", "Số hóa")}
        day = {h: pl.col(h).str.slice(0, 10).alias(h) for h in ("Ngày hẹn trả", "Ngày có kết quả")}
        return frame.select(flag.get(h, day.get(h, pl.col(h))) for h in COMMA10)
    raise ValueError(f"unknown shape {shape!r}: one of {', '.join(SHAPES)}")


def date_formats(shape: str) -> dict[str, str]:
    """The strptime form of each of the three date columns of a shape (the DuckDB floor's)."""
    day = "%d/%m/%Y" if shape in ("comma10", "xlsx") else DATE_FORMAT
    return {"Ngày tiếp nhận": DATE_FORMAT, "Ngày hẹn trả": day, "Ngày có kết quả": day}


def shape_file(rows: int, shape: str, folder: Path) -> Path:
    """Where the export of `rows` rows in `shape` lives (the bench shape keeps its old name)."""
    size = f"{rows // 10**6}m" if rows % 10**6 == 0 else f"{rows // 1000}k"
    if shape == "bench":
        return folder / f"d_{size}.csv"
    return folder / f"d_{size}_{shape}.{'xlsx' if shape == 'xlsx' else 'csv'}"


def generate(rows: int, out: Path, seed: int = 2026, bad_rate: float = 0.001, dup_rate: float = 0.002,
             province: str = PROVINCE, shape: str = "bench") -> Path:
    codes, names = communes(province)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".part")
    frames = (shaped(chunk(index, min(CHUNK, rows - offset), offset, seed, bad_rate, dup_rate, codes, names), shape)
              for index, offset in enumerate(range(0, rows, CHUNK)))
    if shape == "xlsx":
        if rows > XLSX_MAX_ROWS:
            raise ValueError(f"an xlsx sheet holds at most {XLSX_MAX_ROWS:,} rows")
        pl.concat(frames).write_excel(tmp, worksheet="Hồ sơ", autofit=False, dtype_formats={},
                                      table_style=None, header_format=None)
        tmp.replace(out)
        return out
    sep, bom, eol, encoding = TEXT_FORMS[shape]
    with open(tmp, "wb") as handle, ThreadPoolExecutor(1) as writer:
        columns = list(shaped(pl.DataFrame(schema=dict.fromkeys(HEADERS, pl.String)), shape).columns)
        handle.write((("\ufeff" if bom else "") + sep.join(columns) + eol).encode(encoding))
        pending = None
        for frame in frames:
            if pending:
                pending.result()
            if encoding != "utf-8":  # polars writes UTF-8 only: encode in memory, chunk by chunk
                text = frame.write_csv(separator=sep, include_header=False, line_terminator=eol)
                handle.write(text.encode(encoding))
                continue
            # polars writes without the GIL: the next chunk is generated meanwhile.
            pending = writer.submit(frame.write_csv, handle, separator=sep, include_header=False,
                                    line_terminator=eol)
        if pending:
            pending.result()
    tmp.replace(out)
    return out


def parse_size(text: str) -> int:
    """'1m' -> 1_000_000, '500k' -> 500_000, '1200' -> 1200."""
    text = text.strip().lower().replace("_", "")
    factor = {"k": 10**3, "m": 10**6}.get(text[-1:], 1)
    return int(float(text.rstrip("km")) * factor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", required=True, help="number of rows: 1000000, 1m, 500k")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--bad-rate", type=float, default=0.001, help="share of bad rows (default 0.1%%)")
    parser.add_argument("--dup-rate", type=float, default=0.002, help="share of repeated rows (default 0.2%%)")
    parser.add_argument("--shape", default="bench", choices=SHAPES, help="export shape (see the module's docstring)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows = parse_size(args.rows)
    generate(rows, args.out, args.seed, args.bad_rate, args.dup_rate, shape=args.shape)
    took = time.perf_counter() - started
    size = args.out.stat().st_size / 2**20
    print(f"{rows:,} rows -> {args.out} ({size:,.0f} MiB) in {took:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
