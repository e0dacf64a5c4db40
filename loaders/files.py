"""Read an uploaded CSV or XLSX into a table of strings, finding the header row.

Exports arrive as CSV (UTF-8 with or without BOM, comma or semicolon, Excel's "CSV UTF-8")
or XLSX, sometimes with title lines above the header. Everything is read as text so that
codes keep their leading zeros; typing and validation happen later, vectorised.
The row number kept with each row is the one the officer sees in Excel (header = its row).
"""

from __future__ import annotations

import codecs
import csv
import errno
import io
import os
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import blake3
import polars as pl

from loaders import missing_file

ROW = "__row"
# A CSV row's first field past the header (the reader keeps one, see _parse_csv): loaders
# reject a row where it holds text and ignore it empty (a trailing separator loses nothing).
EXTRA = "__extra"
SNIFF_BYTES = 256 * 1024
SCAN_CHUNK = 1 << 20
# No export has a row this long (Excel's cells hold 32,767 characters); parsing one line costs ~18
# bytes of memory per byte of it, so a longer line is refused before the reader sees it.
MAX_LINE_BYTES = 16 << 20
HEADER_SEARCH_ROWS = 30

# Start of files that are not text, whatever their extension says.
_SIGNATURES = (
    (b"\x89PNG", "ảnh PNG"),
    (b"\xff\xd8\xff", "ảnh JPEG"),
    (b"GIF8", "ảnh GIF"),
    (b"%PDF", "tài liệu PDF"),
    (b"\x7fELF", "tệp chương trình (ELF)"),
    (b"MZ\x90\x00", "tệp chương trình Windows (.exe)"),
    (b"\x1f\x8b", "tệp nén gzip"),
    (b"Rar!", "tệp nén RAR"),
    (b"7z\xbc\xaf", "tệp nén 7z"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "tệp Excel 97-2003 (.xls) hoặc Word (.doc) đời cũ"),
)


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
    warnings: list[str] = field(default_factory=list)  # Vietnamese, shown with the load result
    strict_frame: pl.LazyFrame | None = None  # `frame` decoded as strict UTF-8 (faster), for CSV

    def fast(self) -> RawTable:
        """This table read as strict UTF-8 where that is faster (a CSV): a third less time on
        big exports. Reading it raises NotUtf8 at a byte that is not UTF-8; `frame` reads
        such a file with U+FFFD in place of the bad bytes."""
        return replace(self, frame=self.strict_frame) if self.strict_frame is not None else self


class NotUtf8(Exception):
    """A strict UTF-8 read met a byte that is not UTF-8 (past the sample checked up front)."""


def is_not_utf8(exc: Exception) -> bool:
    return isinstance(exc, pl.exceptions.ComputeError) and "utf-8" in str(exc).lower()


def file_hash(path: Path) -> str:
    """The file's BLAKE3 digest (hex): which upload a file was, and whether it came before.
    BLAKE3 is a cryptographic hash like SHA-256, three times faster here (0.26 s against
    0.77 s for a 1.2 GB export), and a load runs it beside the parsing on 2 cores."""
    digest = blake3.blake3()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_xlsx(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(4) == b"PK\x03\x04"


def _unique_headers(headers: list[str]) -> list[str]:
    """Column names made unique ("Mã xã", "Mã xã (2)"; empty -> "Cột 3"), never the
    reserved ROW name."""
    taken: set[str] = {ROW, EXTRA}
    counts: dict[str, int] = {}
    out = []
    for i, header in enumerate(headers):
        base = (header or "").strip() or f"Cột {i + 1}"
        counts[base] = counts.get(base, 0) + 1
        text, n = base, counts[base]
        while text in taken:
            n += 1
            text = f"{base} ({n})"
        taken.add(text)
        out.append(text)
    return out


def _duplicate_warnings(headers: list[str]) -> list[str]:
    counts: dict[str, int] = {}
    for header in headers:
        if (header or "").strip():
            counts[header.strip()] = counts.get(header.strip(), 0) + 1
    return [
        f"Dòng tiêu đề có {n} cột cùng tên «{_short(h)}»: cột đầu tiên được dùng, các cột sau được đặt tên "
        f"«{_short(h)} (2)»…; nếu cần cột khác, hãy ánh xạ cột bằng tay."
        for h, n in counts.items() if n > 1
    ]


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 text saved without a byte order mark: every other byte is mostly zero."""
    sample = head[:4096]
    half = len(sample) // 2
    if half < 8:
        return None
    even, odd = sample[0::2].count(0) / half, sample[1::2].count(0) / half
    if odd > 0.3 and even < 0.05:
        return "utf-16-le"
    if even > 0.3 and odd < 0.05:
        return "utf-16-be"
    return None


def _not_text(name: str, head: bytes) -> LoadError | None:
    for magic, what in _SIGNATURES:
        if head.startswith(magic):
            hint = (" Hãy mở tệp bằng Excel và lưu lại dạng «Excel Workbook (.xlsx)» hoặc «CSV UTF-8»."
                    if magic.startswith(b"\xd0\xcf") else "")
            return LoadError(f"Tệp «{name}» là {what}, không phải tệp văn bản CSV hay Excel (.xlsx) (tệp bị đổi đuôi?).{hint}")
    sample = head[:4096]
    if sample.count(0) > max(8, len(sample) // 100):
        return LoadError(f"Tệp «{name}» không phải tệp văn bản CSV (có thể là tệp nhị phân bị đổi đuôi).")
    return None


def _nul_error(name: str, line: int) -> LoadError:
    return LoadError(
        f"Tệp «{name}» bị hỏng: có byte NUL ở dòng {line} (dữ liệu nhị phân, không phải chữ); thường do tệp chưa được ghi hoặc "
        "sao chép hết. Hãy xuất lại tệp từ hệ thống một cửa rồi tải lên lại."
    )


class _LineRun:
    """Bytes since the last line break, fed chunk by chunk: LoadError at a line longer than
    MAX_LINE_BYTES (parsing one costs ~18 bytes of memory a byte: a 120 MB line took 2.4 GB)."""

    def __init__(self, name: str) -> None:
        self.name, self.run = name, 0

    def feed(self, chunk: bytes) -> None:
        last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if last < 0:
            self.run += len(chunk)
        else:
            first = min(i for i in (chunk.find(b"\n"), chunk.find(b"\r")) if i >= 0)
            self.run, ended = len(chunk) - last - 1, self.run + first
            if ended > MAX_LINE_BYTES:
                self.run = ended
        if self.run > MAX_LINE_BYTES:
            raise LoadError(
                f"Tệp «{self.name}» bị từ chối: có dòng dài hơn {MAX_LINE_BYTES >> 20} MB (không có ký tự xuống "
                "dòng). Tệp có thể bị hỏng, không phải tệp CSV, hoặc được tạo để làm treo máy chủ; hãy xuất lại "
                "tệp từ hệ thống một cửa, hoặc mở bằng Excel và lưu dạng CSV UTF-8 rồi tải lên lại.")


def _scan_text(path: Path, name: str) -> None:
    """One streaming pass over a text export (bounded memory): reject it at the first NUL
    byte (a text export never has one, a truncated or pre-allocated file ends in them) or at
    a line longer than MAX_LINE_BYTES. One pass, not two: each costs ~0.2 s on a 1.2 GB export."""
    lines = _LineRun(name)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(SCAN_CHUNK), b""):
            if b"\x00" in chunk:  # lines are counted only then: counting them all cost 5x the search
                break
            lines.feed(chunk)
        else:
            return
    line = 1
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(SCAN_CHUNK), b""):
            at = chunk.find(b"\x00")
            if at >= 0:
                raise _nul_error(name, line + chunk.count(b"\n", 0, at))
            line += chunk.count(b"\n")


def check_line_lengths(path: Path, name: str) -> None:
    """Refuse (LoadError) a text file with a line longer than MAX_LINE_BYTES, streaming it in
    SCAN_CHUNK pieces (a line within one piece is shorter than the cap)."""
    lines = _LineRun(name)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(SCAN_CHUNK), b""):
            lines.feed(chunk)


def _to_utf8(path: Path, name: str, encoding: str, compose: bool = False) -> Path:
    """Transcode an export to a UTF-8 temp file chunk by chunk (bounded memory), refusing it
    (LoadError) at a NUL character or a line longer than MAX_LINE_BYTES of UTF-8 (checked on
    the bytes written, in the same pass). `compose`: NFC, for Windows-1258, which writes most
    Vietnamese tones as a separate combining mark ("ồ" = "ô" + U+0300); a letter and its
    marks are never split across two chunks.

    Written as bytes to an unbuffered binary file, and lines counted only to say where a NUL
    is: 1.6 instead of 2.5 CPU-seconds for a 2M-row (811 MB) UTF-16 export."""
    fd, tmp_name = tempfile.mkstemp(suffix=".csv")
    tmp = Path(tmp_name)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    lines = _LineRun(name)
    carry = ""
    try:
        with os.fdopen(fd, "wb") as out, open(path, "rb") as src:
            for chunk in iter(lambda: src.read(SCAN_CHUNK), b""):
                text = decoder.decode(chunk)
                if compose:
                    text, carry = _held_back(carry + text)
                    text = unicodedata.normalize("NFC", text)
                if "\x00" in text:
                    out.flush()
                    raise _nul_error(name, 1 + _lines_in(tmp) + text.count("\n", 0, text.index("\x00")))
                data = text.encode("utf-8")
                lines.feed(data)
                out.write(data)
            rest = carry + decoder.decode(b"", final=True)
            data = (unicodedata.normalize("NFC", rest) if compose else rest).encode("utf-8")
            if "\x00" in rest:
                out.flush()
                raise _nul_error(name, 1 + _lines_in(tmp) + rest.count("\n", 0, rest.index("\x00")))
            lines.feed(data)
            out.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _lines_in(path: Path) -> int:
    """Line breaks in a file (read in SCAN_CHUNK pieces): where a converted export stopped."""
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(SCAN_CHUNK), b""))


def _held_back(text: str) -> tuple[str, str]:
    """(text up to its last base character, that character and the marks after it): the
    marks of the next chunk may still belong to it."""
    cut = len(text)
    while cut > 0 and unicodedata.combining(text[cut - 1]):
        cut -= 1
    cut = max(cut - 1, 0)
    return text[:cut], text[cut:]


def _not_utf8(name: str, raw: bytes, at: int) -> LoadError:
    line = raw.count(b"\n", 0, at) + 1
    return LoadError(
        f"Tệp «{name}» không được mã hóa UTF-8 (ký tự lỗi ở dòng {line}); "
        "có thể tệp được lưu bằng bảng mã Windows-1252 hay một bảng mã khác. "
        "Hãy mở tệp trong Excel và lưu lại dạng «CSV UTF-8 (Comma delimited)» hoặc Excel (.xlsx)."
    )


LEGACY_ENCODING = "cp1258"  # Windows Vietnamese: Excel's «CSV (Comma delimited)» on a Vietnamese Windows
LEGACY_WARNING = ("Tệp được lưu bằng bảng mã Windows-1258 (kiểu «CSV (Comma delimited)» của Excel) và đã được "
                  "đọc theo bảng mã đó. Lần sau nên lưu dạng «CSV UTF-8 (Comma delimited)» hoặc Excel (.xlsx).")


def _decode_sample(path: Path, name: str) -> tuple[str, Path, LoadError | None]:
    """Return the decoded start of a CSV, the path to read it from (UTF-8), and, when it was
    read as Windows-1258, the error to give instead if no header of ours turns up in it
    (None when it was UTF-8 or UTF-16)."""
    raw = _head(path)
    if not raw.removeprefix(b"\xef\xbb\xbf").strip():
        raise LoadError(f"Tệp «{name}» trống, không có dữ liệu.")
    utf16 = "utf-16" if raw.startswith((b"\xff\xfe", b"\xfe\xff")) else _utf16_without_bom(raw)
    if utf16:
        # UTF-16 (Excel's "Unicode text"): convert once to UTF-8 for the fast reader.
        tmp = _to_utf8(path, name, utf16)
        return _head(tmp).decode("utf-8", errors="ignore").lstrip("\ufeff"), tmp, None
    error = _not_text(name, raw)
    if error:
        raise error
    _scan_text(path, name)  # NUL bytes and overlong lines, in one pass
    try:
        sample = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A cut in the middle of a multi-byte character at the end of the sample is fine.
        if exc.start < len(raw) - 4:
            try:
                raw.decode(LEGACY_ENCODING)
            except UnicodeDecodeError:
                raise _not_utf8(name, raw, exc.start) from None
            # Windows-1258 decodes any text of Western bytes too: the caller keeps it only
            # if the header row it finds is one of ours (_read_csv).
            tmp = _to_utf8(path, name, LEGACY_ENCODING, compose=True)
            return _head(tmp).decode("utf-8", errors="ignore"), tmp, _not_utf8(name, raw, exc.start)
        sample = raw[: exc.start].decode("utf-8")
    return sample.lstrip("\ufeff"), path, None


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
        raise LoadError(missing_file(name))
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
    sample, source, not_legacy = _decode_sample(path, name)  # line lengths checked: _scan_text or _to_utf8
    try:
        table = _parse_csv(path, source, sample, name, header_score, min_score)
    except BaseException as exc:
        if source != path:
            source.unlink(missing_ok=True)
        if not_legacy and isinstance(exc, LoadError):  # no header of ours: not a Vietnamese export
            raise not_legacy from None
        raise
    if not_legacy:
        table.warnings.insert(0, LEGACY_WARNING)
    return table


def _parse_csv(path: Path, source: Path, sample: str, name: str, header_score, min_score: int) -> RawTable:
    # Lines as polars counts them: "\n" (or "\r" alone in old Mac files), not Python's
    # splitlines, which also breaks at U+2028, \x85, \x0c... inside cells.
    eol = "\r" if "\r" in sample and "\n" not in sample else "\n"
    lines = sample.replace("\r\n", "\n").split(eol)[: HEADER_SEARCH_ROWS + 5]
    delim = _delimiter(lines[:HEADER_SEARCH_ROWS])
    csv.field_size_limit(max(csv.field_size_limit(), 4 * SNIFF_BYTES))
    try:
        rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
    except csv.Error as exc:
        raise LoadError(f"Tệp «{name}» không đọc được dạng CSV: {exc}.") from None
    index = _pick_header(rows, header_score, name, min_score)
    headers = _unique_headers(rows[index])
    # Title lines above the header may have fewer fields; polars skips them as raw lines.
    skip = sum(1 for _ in lines[:index]) if index else 0
    # The schema, not the first data row, sets the columns: a row with fewer fields gets
    # nulls, a row with more keeps its first extra field in EXTRA (the rest are cut), the
    # same on the first data row as on any other.
    columns = [*headers, EXTRA]

    def scan(encoding: str) -> pl.LazyFrame:
        return pl.scan_csv(
            source,
            glob=False,  # a file name with [ ] * ? is a name, never a pattern matching other files
            separator=delim,
            has_header=False,
            skip_rows=skip + 1,
            new_columns=columns,
            schema={h: pl.String for h in columns},
            truncate_ragged_lines=True,
            extra_columns="ignore",
            missing_columns="insert",
            encoding=encoding,
            quote_char='"',
            eol_char=eol,
        ).with_row_index(ROW, offset=skip + 2)

    titles = [" ".join(c for c in row if c).strip() for row in rows[:index]]
    temps = [source] if source != path else []
    return RawTable(name, headers, scan("utf8-lossy"), index + 1, [t for t in titles if t], temps,
                    _duplicate_warnings(rows[index]), strict_frame=scan("utf8"))


def _read_xlsx(path: Path, name: str, header_score, min_score: int) -> RawTable:
    from loaders import xlsx_guard  # checked against the caps, then read in a memory-limited child

    frame = xlsx_guard.read_sheet(path, name)
    rows = frame.head(HEADER_SEARCH_ROWS).rows()
    if not rows:
        raise LoadError(f"Tệp «{name}» trống, không có dữ liệu.")
    index = _pick_header([list(r) for r in rows], header_score, name, min_score)
    headers = _unique_headers([c or "" for c in rows[index]])
    titles = [" ".join(c for c in row if c).strip() for row in rows[:index]]
    body = frame.slice(index + 1).rename(dict(zip(frame.columns, headers, strict=True)))
    body = body.with_row_index(ROW, offset=index + 2).lazy()
    return RawTable(name, headers, body, index + 1, [t for t in titles if t],
                    warnings=_duplicate_warnings([c or "" for c in rows[index]]))


def _not_a_workbook(path: Path, name: str) -> LoadError:
    """Why a file that starts like a ZIP archive is not a readable workbook, in words."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return LoadError(f"Tệp «{name}» không phải tệp Excel (.xlsx) đọc được: tệp bị hỏng hoặc chưa tải hết. "
                         "Hãy mở tệp bằng Excel, lưu lại rồi tải lên lại.")
    if "xl/workbook.xml" not in members:
        return LoadError(f"Tệp «{name}» là tệp nén ZIP (hoặc tài liệu Word/OpenDocument), không phải bảng tính "
                         "Excel (.xlsx) hay CSV.")
    return LoadError(f"Tệp «{name}» không phải tệp Excel (.xlsx) đọc được: trang tính đầu tiên bị hỏng hoặc tệp "
                     "được bảo vệ bằng mật khẩu. Hãy mở bằng Excel, lưu lại dạng .xlsx hoặc CSV UTF-8.")


def unreadable(name: str, exc: Exception) -> LoadError:
    """A CSV whose structure the fast reader rejects (an unclosed quote, a file cut short)."""
    detail = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
    return LoadError(
        f"Tệp «{name}» không đọc được dạng bảng: cấu trúc dòng, cột bị lỗi, thường do một dấu ngoặc kép (\") "
        f"không được đóng hoặc tệp bị cắt cụt giữa chừng. Hãy mở tệp bằng Excel để kiểm tra, lưu lại rồi tải lên "
        f"lại. (Chi tiết kỹ thuật: {detail})"
    )


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether `exc`, or an error it arose from, is a full disk (ENOSPC), however the
    library that met it words it (OSError, DuckDB's IOException, polars' ComputeError)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            return True
        text = str(exc).lower()
        if "no space left on device" in text or "os error 28" in text:
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def disk_full(name: str, exc: BaseException) -> LoadError:
    """The Vietnamese message for a load that ran out of disk space, naming what is full:
    the store (DuckDB's error) or the temp folder (staging, transcoded copies)."""
    detail, where = "", f"thư mục tạm «{tempfile.gettempdir()}»"
    while exc is not None and not detail:
        if "no space left on device" in str(exc).lower() or "os error 28" in str(exc).lower():
            detail = str(exc).strip().splitlines()[0][:200]
            if "duckdb" in type(exc).__module__:
                where = "kho dữ liệu"
        exc = exc.__cause__ or exc.__context__
    return LoadError(
        f"Không nạp được tệp «{name}»: ổ đĩa chứa {where} đã hết chỗ trống. Kho dữ liệu không thay đổi. "
        f"Hãy giải phóng dung lượng ổ đĩa (hoặc báo quản trị hệ thống) rồi tải lên lại. "
        f"(Chi tiết kỹ thuật: {detail or 'No space left on device'})"
    )


@contextmanager
def disk_full_said(name: str) -> Iterator[None]:
    """Turn a full disk met while loading `name` into disk_full's LoadError (the load's
    transaction is rolled back by then); any other error passes unchanged."""
    try:
        yield
    except LoadError:
        raise
    except Exception as exc:
        if is_disk_full(exc):
            raise disk_full(name, exc) from None
        raise
