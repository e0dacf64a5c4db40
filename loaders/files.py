"""Read an uploaded CSV or XLSX into a table of strings, finding the header row.

Exports arrive as CSV (UTF-8 with or without BOM, comma or semicolon, Excel's "CSV UTF-8")
or XLSX, sometimes with title lines above the header. Everything is read as text so that
codes keep their leading zeros; typing and validation happen later, vectorised.
The row number kept with each row is the one the officer sees in Excel (header = its row).
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

ROW = "__row"
SNIFF_BYTES = 256 * 1024
HEADER_SEARCH_ROWS = 30


class LoadError(Exception):
    """A whole file is rejected; the message is Vietnamese and names the file."""


@dataclass
class RawTable:
    name: str
    headers: list[str]            # original header texts, in file order
    frame: pl.LazyFrame           # columns named by headers (made unique), plus ROW
    header_row: int               # 1-based row of the header in the file
    title_lines: list[str] = field(default_factory=list)  # text above the header
    temp_files: list[Path] = field(default_factory=list)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_xlsx(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _unique_headers(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, header in enumerate(headers):
        text = (header or "").strip() or f"Cột {i + 1}"
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        out.append(text)
    return out


def _decode_sample(path: Path, name: str) -> tuple[str, Path]:
    """Return the decoded start of a CSV and the path to read it from (UTF-8)."""
    raw = path.read_bytes()[:SNIFF_BYTES] if path.stat().st_size <= SNIFF_BYTES else _head(path)
    if not raw.strip():
        raise LoadError(f"Tệp «{name}» trống, không có dữ liệu.")
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError(f"Tệp «{name}» không phải tệp văn bản CSV (có thể là tệp nhị phân bị đổi đuôi).")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 (Excel's "Unicode text"): convert once to UTF-8 for the fast reader.
        text = path.read_bytes().decode("utf-16")
        tmp = Path(tempfile.mkstemp(suffix=".csv")[1])
        tmp.write_text(text, encoding="utf-8")
        return text[:SNIFF_BYTES], tmp
    try:
        sample = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character at the end of the sample is fine.
        if exc.start < len(raw) - 4:
            raise LoadError(
                f"Tệp «{name}» không được mã hóa UTF-8 (byte lỗi ở vị trí {exc.start}). "
                "Hãy mở tệp trong Excel và lưu lại dạng «CSV UTF-8 (Comma delimited)»."
            ) from None
        sample = raw[: exc.start].decode("utf-8")
    return sample.lstrip("\ufeff"), path


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(SNIFF_BYTES)


def _delimiter(lines: list[str]) -> str:
    best, best_score = ",", -1
    for delim in (";", ",", "\t", "|"):
        counts = [line.count(delim) for line in lines if line.strip()]
        if not counts:
            continue
        score = max(counts)
        if score > best_score:
            best, best_score = delim, score
    return best


def read_table(
    path: str | Path,
    header_score: Callable[[list[str]], int],
    name: str | None = None,
    min_score: int = 1,
) -> RawTable:
    """Read a CSV/XLSX file. `header_score(cells)` rates a candidate header row; the best
    one within the first rows is the header (rows above are title lines)."""
    path = Path(path)
    name = name or path.name
    if not path.exists():
        raise LoadError(f"Không tìm thấy tệp «{name}».")
    if is_xlsx(path):
        return _read_xlsx(path, name, header_score, min_score)
    return _read_csv(path, name, header_score, min_score)


def _pick_header(rows: list[list[str]], header_score, name: str, min_score: int) -> int:
    scores = [header_score([(c or "") for c in row]) for row in rows[:HEADER_SEARCH_ROWS]]
    if not scores or max(scores) < min_score:
        raise LoadError(
            f"Tệp «{name}»: không tìm thấy dòng tiêu đề cột phù hợp trong {HEADER_SEARCH_ROWS} dòng đầu."
        )
    return scores.index(max(scores))


def _read_csv(path: Path, name: str, header_score, min_score: int) -> RawTable:
    sample, source = _decode_sample(path, name)
    lines = sample.splitlines()[: HEADER_SEARCH_ROWS + 5]
    delim = _delimiter(lines[:HEADER_SEARCH_ROWS])
    try:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
    except csv.Error as exc:
        raise LoadError(f"Tệp «{name}» không đọc được dạng CSV: {exc}.") from None
    index = _pick_header(rows, header_score, name, min_score)
    headers = _unique_headers(rows[index])
    # Title lines above the header may have fewer fields; polars skips them as raw lines.
    skip = sum(1 for _ in lines[:index]) if index else 0
    frame = pl.scan_csv(
        source,
        separator=delim,
        has_header=False,
        skip_rows=skip + 1,
        new_columns=headers,
        schema={h: pl.String for h in headers},
        truncate_ragged_lines=True,
        encoding="utf8-lossy",
        quote_char='"',
    ).with_row_index(ROW, offset=skip + 2)
    titles = [" ".join(c for c in row if c).strip() for row in rows[:index]]
    temps = [source] if source != path else []
    return RawTable(name, headers, frame, index + 1, [t for t in titles if t], temps)


def _read_xlsx(path: Path, name: str, header_score, min_score: int) -> RawTable:
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
        sheet = reader.load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as exc:  # noqa: BLE001 - any parse failure means "not a readable workbook"
        raise LoadError(f"Tệp «{name}» không phải tệp Excel (.xlsx) đọc được: {exc}.") from None
    rows = frame.head(HEADER_SEARCH_ROWS).rows()
    if not rows:
        raise LoadError(f"Tệp «{name}» trống, không có dữ liệu.")
    index = _pick_header([list(r) for r in rows], header_score, name, min_score)
    headers = _unique_headers([c or "" for c in rows[index]])
    titles = [" ".join(c for c in row if c).strip() for row in rows[:index]]
    body = frame.slice(index + 1).rename(dict(zip(frame.columns, headers, strict=True)))
    body = body.with_row_index(ROW, offset=index + 2).lazy()
    return RawTable(name, headers, body, index + 1, [t for t in titles if t])
