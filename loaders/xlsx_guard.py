"""Every read of an uploaded .xlsx goes through here: check it against the caps of
loaders/limits.py before any reader allocates, then read it in a child process that cannot
take the server down.

The check opens the ZIP archive without extracting it: number of parts, each part's declared
size, the total and the compression ratio; then it inflates every part itself, as a stream
with a hard byte budget (a part that inflates to more than its header declares is refused:
zip bombs lie in their headers), and on the first sheet (and every other part, which the
reader might take for it) it reads the declared
`<dimension ref=...>` and counts the real `<row>` and `<c>` elements and the largest row and
column they name. A workbook's reader holds the sheet's whole area (rows × columns, ~32 bytes
a cell), so one cell at XFD1048576 alone asks for 512 GB.

Cells are counted by size too: the shared strings (xl/sharedStrings.xml) are read first and
each one's length in bytes is kept (an array of ints, at most `max_cells` of them); the sheet's
scan then adds, for every `t="s"` cell, the length of the string it references, to the bytes of
text its other cells hold (inline strings, values; a number written `1e308` counts the ~309
digits the reader prints). Beyond `max_table_bytes` the workbook is refused: a 1-2 MB file
whose cells all reference one 2 MB string would expand to hundreds of MB. A string longer than
32 767 characters (Excel's own limit for one cell) is refused too.

The read itself (fastexcel) then runs in a child process with an address-space limit and a
timeout, and hands its table back as an Arrow IPC file; a crash or a timeout there becomes
a LoadError, never the end of the server.
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from array import array
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

from loaders.files import MAX_LINE_BYTES, LoadError
from loaders.limits import Limits, active

CHUNK = 1 << 20
EXCEL_CELL_CHARS = 32_767  # Excel's own limit for the text of one cell
RATIO_FLOOR = 1 << 20   # parts below 1 MB unzipped are not held to the ratio (small XML compresses well)
_CHILD = Path(__file__).with_name("_xlsx_child.py")


@dataclass(frozen=True)
class SheetFacts:
    """What the check found in the first sheet."""
    part: str           # the sheet's part in the archive
    rows: int           # <row> elements
    cells: int          # <c> elements
    max_row: int        # largest row number named (or the count, if larger)
    max_column: int     # largest column number named
    unzipped: int       # bytes of all parts once inflated
    table_bytes: int = 0  # bytes of the cells' text once read (shared strings expanded)


def _n(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _greater_than(n: int) -> str:
    """A regex matching the decimal numbers (no leading zero) greater than n."""
    digits = str(n)
    size = len(digits)
    options = [rf"[1-9]\d{{{size},}}"]
    for i, ch in enumerate(digits):
        if ch != "9":
            options.append(f"{digits[:i]}[{int(ch) + 1}-9]" + (rf"\d{{{size - i - 1}}}" if size - i - 1 else ""))
    return "|".join(options)


def _refused(name: str, what: str, hint: str = "") -> LoadError:
    return LoadError(
        f"Tệp «{name}» bị từ chối: {what}. Tệp có thể bị hỏng hoặc được tạo để làm treo máy chủ; "
        + (hint or "hãy mở bằng Excel, xóa các dòng, cột thừa, lưu lại dạng .xlsx hoặc CSV UTF-8 rồi tải lên lại.")
        + " Quản trị viên có thể thay đổi các giới hạn này trong trang Quản trị."
    )


def _not_a_workbook(path: Path, name: str) -> LoadError:
    from loaders import files

    return files._not_a_workbook(path, name)


# ---------------------------------------------------------------- the check
def check_workbook(path: str | Path, name: str | None = None, limits: Limits | None = None) -> SheetFacts:
    """Refuse (LoadError, Vietnamese, naming the file and the cap exceeded) a workbook beyond
    the caps, in bounded memory, before any reader sees it. Cached per file version."""
    path = Path(path)
    stat = path.stat()
    return _check(str(path), stat.st_mtime_ns, stat.st_size, name or path.name, limits or active())


@lru_cache(maxsize=16)
def _check(path_text: str, _mtime: int, _size: int, name: str, limits: Limits) -> SheetFacts:
    path = Path(path_text)
    entries = _declared_entries(path)
    if entries is not None and entries > limits.max_members:
        raise _refused(name, f"tệp .xlsx có {_n(entries)} thành phần, vượt giới hạn {_n(limits.max_members)}")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _not_a_workbook(path, name) from None
    if len(infos) > limits.max_members:
        raise _refused(name, f"tệp .xlsx có {_n(len(infos))} thành phần, vượt giới hạn {_n(limits.max_members)}")
    declared = 0
    for info in infos:
        declared += info.file_size
        if info.file_size > limits.max_uncompressed_bytes or declared > limits.max_uncompressed_bytes:
            raise _refused(name, f"khi giải nén, tệp khai báo hơn {_n(limits.max_uncompressed_bytes)} byte "
                                 f"(thành phần «{info.filename}»: {_n(info.file_size)} byte), vượt giới hạn "
                                 f"{_n(limits.max_uncompressed_bytes)} byte")
        if info.file_size > RATIO_FLOOR and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise _refused(name, f"thành phần «{info.filename}» nén {_n(info.compress_size)} byte thành "
                                 f"{_n(info.file_size)} byte (tỷ lệ {_n(ratio)}:1), vượt tỷ lệ nén tối đa "
                                 f"{_n(limits.max_ratio)}:1 (dấu hiệu của «bom nén»)")
        if info.flag_bits & 0x1:
            raise _not_a_workbook(path, name)
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        raise _not_a_workbook(path, name)
    sheet = _first_sheet(path, infos, name, limits)
    if sheet not in names:
        raise _not_a_workbook(path, name)
    # The first sheet first: it is the big part, and a bomb is refused before the rest is read.
    # Every other part is held to the same caps: the reader (calamine) parses workbook.xml and
    # its relationships as XML, so a commented-out <sheet>, a repeated relationship id or a
    # second `…:id` attribute made it load another sheet than the one picked above.
    # The shared strings come before it: the sheet's scan needs their lengths (calamine reads
    # xl/sharedStrings.xml; every part of that name in any case is measured, the longest wins).
    shared = {i.filename for i in infos if i.filename.replace("\\", "/").lower() == "xl/sharedstrings.xml"}
    ordered = sorted(infos, key=lambda i: (i.filename not in shared, i.filename != sheet))
    facts = None
    total = 0
    strings: _Strings | None = None
    with open(path, "rb") as handle:
        for info in ordered:
            scan = _SheetScan(name, limits, strings, measure=info.filename == sheet)
            sst = _SstScan(name, limits) if info.filename in shared else None
            size = 0
            for chunk in _inflate(path, handle, info, name):
                size += len(chunk)
                total += len(chunk)
                if size > info.file_size:
                    raise _refused(name, f"thành phần «{info.filename}» giải nén ra nhiều hơn kích thước khai báo "
                                         f"({_n(info.file_size)} byte)")
                if total > limits.max_uncompressed_bytes:
                    raise _refused(name, f"khi giải nén, tệp lớn hơn {_n(limits.max_uncompressed_bytes)} byte, "
                                         f"vượt giới hạn {_n(limits.max_uncompressed_bytes)} byte")
                scan.feed(chunk)
                if sst is not None:
                    sst.feed(chunk)
            finished = scan.finish(info.filename)
            if sst is not None:
                strings = sst.finish().widest(strings)
            if info.filename == sheet:
                facts = finished
    return SheetFacts(facts.part, facts.rows, facts.cells, facts.max_row, facts.max_column, total,
                      facts.table_bytes)


def _declared_entries(path: Path) -> int | None:
    """The number of parts the archive's end record declares, read before zipfile builds
    one object per part."""
    try:
        with open(path, "rb") as handle:
            record = zipfile._EndRecData(handle)  # noqa: SLF001 - stable since Python 2
    except (OSError, struct.error):
        return None
    return record[zipfile._ECD_ENTRIES_TOTAL] if record else None  # noqa: SLF001


def _inflate(path: Path, handle, info: zipfile.ZipInfo, name: str):
    """The part's bytes, inflated here chunk by chunk (at most CHUNK at a time, whatever the
    compressed stream says), from its raw data in the archive."""
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        with zipfile.ZipFile(path) as archive, archive.open(info) as part:  # zipfile stops at the declared size
            yield from iter(lambda: part.read(CHUNK), b"")
        return
    handle.seek(info.header_offset)
    header = handle.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise _not_a_workbook(path, name)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    handle.seek(info.header_offset + 30 + name_len + extra_len)
    left = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        while left:
            raw = handle.read(min(left, CHUNK))
            if not raw:
                raise _not_a_workbook(path, name)
            left -= len(raw)
            yield raw
        return
    inflater = zlib.decompressobj(-15)
    pending = b""
    while True:
        if not pending:
            if not left or inflater.eof:
                break
            pending = handle.read(min(left, CHUNK))
            if not pending:
                raise _not_a_workbook(path, name)
            left -= len(pending)
        try:
            out = inflater.decompress(pending, CHUNK)
        except zlib.error:
            raise _not_a_workbook(path, name) from None
        pending = inflater.unconsumed_tail
        if out:
            yield out
        if inflater.eof:
            break


_TAG = re.compile(rb"<[^>]*>")
_SI_END = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?si\s*>")
_T_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?t(?:\s[^>]*[^/>])?\s*>")
_NUMERIC_REF = re.compile(rb"&#(?:\d{1,8}|x[0-9A-Fa-f]{1,7});")
_NAMED_REF = re.compile(rb"&[A-Za-z]{2,4};")
_CONTINUATION = bytes(range(0x80, 0xC0))
_HOLD = 1 << 20   # an unfinished tag longer than this is not XML any reader writes


def _text(buf: bytes) -> bytes:
    """The text of an XML fragment (tags removed), each character reference counted at 4 bytes
    (the most UTF-8 needs), each named one at 1: never shorter than what a reader decodes."""
    return _NAMED_REF.sub(b"&", _NUMERIC_REF.sub(b"&&&&", _TAG.sub(b"", buf)))


def _chars(text: bytes) -> int:
    return len(text.translate(None, _CONTINUATION))


class _Strings:
    """The shared strings' lengths in bytes, by index, and how many entries are uncertain (an
    `<si>` without a `<t>` start tag, or with phonetic text, that a reader may skip, shifting
    the indices after it by one)."""

    def __init__(self, lengths: array, uncertain: int):
        self.lengths, self.uncertain = lengths, uncertain
        self._widened: array | None = None

    def widest(self, other: _Strings | None) -> _Strings:
        if other is None:
            return self
        size = max(len(self.lengths), len(other.lengths))
        pad = lambda a: a + array("I", bytes(4 * (size - len(a))))  # noqa: E731
        a, b = pad(self.lengths), pad(other.lengths)
        return _Strings(array("I", map(max, a, b)), self.uncertain + other.uncertain)

    def table(self) -> array:
        """Length of the string index i may reach: the entry itself, or with `uncertain` skips
        the longest within that many places either side."""
        if not self.uncertain:
            return self.lengths
        if self._widened is None:
            from collections import deque

            n, w, out, window = len(self.lengths), self.uncertain, array("I"), deque()
            lengths = self.lengths
            for i in range(n + w):
                if i < n:
                    while window and lengths[window[-1]] <= lengths[i]:
                        window.pop()
                    window.append(i)
                k = i - w
                if k >= 0:
                    while window[0] < k - w:
                        window.popleft()
                    out.append(lengths[window[0]])
            self._widened = out
        return self._widened


class _SstScan:
    """Measures each shared string (`<si>`) of xl/sharedStrings.xml as it streams by: bytes of
    its text, kept by index; refuses a string beyond Excel's 32 767 characters, more strings
    than `max_cells`, CDATA sections (no spreadsheet writer uses them here)."""

    def __init__(self, name: str, limits: Limits):
        self.name, self.limits = name, limits
        self.tail = b""
        self.lengths = array("I")
        self.uncertain = 0
        self.current = self.current_chars = 0
        self.current_sure = self.current_phonetic = False

    def _close(self) -> None:
        if self.current > MAX_LINE_BYTES:   # the CSV's line cap, as the reading child says it
            raise _line_too_long(self.name)
        if self.current_chars > EXCEL_CELL_CHARS:
            raise _refused(self.name, f"có một chuỗi dài {_n(self.current_chars)} ký tự, vượt giới hạn "
                                      f"{_n(EXCEL_CELL_CHARS)} ký tự một ô của Excel (bảng tính do Excel tạo ra "
                                      "không có ô nào dài như vậy)")
        self.lengths.append(min(self.current, 0xFFFFFFFF))
        if not self.current_sure or self.current_phonetic:
            self.uncertain += 1
        if len(self.lengths) > self.limits.max_cells:
            raise _refused(self.name, f"bảng chuỗi dùng chung có hơn {_n(self.limits.max_cells)} chuỗi, vượt giới "
                                      f"hạn {_n(self.limits.max_cells)} ô")
        self.current = self.current_chars = 0
        self.current_sure = self.current_phonetic = False

    def _add(self, fragment: bytes) -> None:
        if b"\x01" in fragment:
            self.current_sure = True
        if b"rPh" in fragment:   # phonetic text: a reader skips it, and may skip the entry
            self.current_phonetic = True
        text = _text(fragment).replace(b"\x01", b"")
        self.current += len(text)
        self.current_chars += _chars(text) if self.current > EXCEL_CELL_CHARS else len(text)

    def feed(self, chunk: bytes, final: bool = False) -> None:
        buf = self.tail + chunk
        cut = buf.rfind(b"<")
        if not final and cut >= 0 and buf.find(b">", cut) < 0:
            buf, self.tail = buf[:cut], buf[cut:]
            if len(self.tail) > _HOLD:
                raise _not_a_workbook_text(self.name)
        else:
            self.tail = b""
        if b"<![CDATA[" in buf or b"<!DOCTYPE" in buf or b"<!ENTITY" in buf:
            raise _refused(self.name, "bảng chuỗi dùng chung có khối CDATA hoặc khai báo DOCTYPE, điều mà Excel "
                                      "và các phần mềm xuất bảng tính không tạo ra")
        pieces = _T_START.sub(b"\x01", _SI_END.sub(b"\x00", buf)).split(b"\x00")
        last = len(pieces) - 1
        for i, piece in enumerate(pieces):
            self._add(piece)
            if i < last:
                self._close()

    def finish(self) -> _Strings:
        if self.tail:
            self.feed(b"", final=True)
        return _Strings(self.lengths, self.uncertain)


def _line_too_long(name: str) -> LoadError:
    return LoadError(
        f"Tệp «{name}» bị từ chối: có dòng dài hơn {MAX_LINE_BYTES >> 20} MB (tổng các ô của dòng). Tệp có "
        "thể bị hỏng hoặc được tạo để làm treo máy chủ; hãy xuất lại tệp từ hệ thống một cửa rồi tải lên lại.")


def _not_a_workbook_text(name: str) -> LoadError:
    return _refused(name, "một thẻ XML dài hơn 1 MB")


class _SheetScan:
    """Counts a sheet's rows and cells and the largest row and column they name, as its XML
    streams by; refuses at the first cap exceeded. Given the shared strings' lengths, it also
    adds up the bytes of the cells' text once read (`table_bytes`)."""

    TAIL = 64

    def __init__(self, name: str, limits: Limits, strings: _Strings | None = None, measure: bool = False):
        self.name, self.limits = name, limits
        self.strings = strings
        self.measure = measure
        self.carry = b""
        self.table_bytes = 0
        self.tail = b""
        self.prefix: bytes | None = None
        self.rows = self.cells = self.max_row = 0
        self.columns: set[bytes] = set()
        self.dimension_seen = False
        self.head = b""

    def _start(self, final: bool) -> bool:
        """Learn the sheet's namespace prefix ("" or e.g. "x:") from its root element."""
        root = re.search(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]", self.head)
        if root is None and len(self.head) < 1 << 16 and not final:
            return False
        self.prefix = (root.group(1) or b"") if root else b""
        self._compile(self.prefix)
        return True

    def _compile(self, prefix: bytes) -> None:
        p = re.escape(prefix)
        # <row…> and <c…> elements: every "<c" that is not "<co…" (col, cols, color, conditionalFormatting…);
        # the few <cfRule>, <rowBreaks> outside sheetData may be counted too (one pass per tag matters more).
        self.row_tag, self.cell_tag, self.not_cell = b"<" + prefix + b"row", b"<" + prefix + b"c", b"<" + prefix + b"co"
        self.row_numbers = re.compile(rb"<" + p + rb"row\s[^>]*?(?<![\w:])r=\"(\d{1,12})\"")
        self.cell_columns = re.compile(rb"<" + p + rb"c\s[^>]*?(?<![\w:])r=\"([A-Z]{1,8})\d")
        self.far_row = re.compile(rb" r=\"[A-Z]{0,8}(?:" + _greater_than(self.limits.max_rows).encode() + rb")\"")
        self.dimension = re.compile(rb"<" + p + rb"dimension\s[^>]*?ref=\"([^\"]{0,64})\"")
        self.cell_end, self.cell_open = b"</" + prefix + b"c>", b"<" + prefix + b"c "
        self.shared_cell = re.compile(rb"<" + p + rb"c\s(?:[^>]*\s)?t\s*=\s*[\"']s[\"'][^>]*>")
        self.other_cell = re.compile(rb"<" + p + rb"c(?:\s[^>]*)?>")
        self.long_text = re.compile(rb">([^<]{%d,})<" % (EXCEL_CELL_CHARS + 1))
        self.value = re.compile(rb"<" + p + rb"v(?:\s[^>]*)?>([^<]*)<")
        self.exponent = re.compile(rb"<" + p + rb"v(?:\s[^>]*)?>\s*[-+]?[\d.]*[eE]\+?(\d{1,6})")

    def _measure(self, chunk: bytes, final: bool = False) -> None:
        """Add the bytes of text of the cells in `chunk` (whole cells only: the rest waits for
        the next chunk), each `t="s"` cell's value being the length of its shared string."""
        buf = self.carry + chunk
        if not final:
            end = buf.rfind(self.cell_end)
            cut = max(end + len(self.cell_end) if end >= 0 else 0, buf.rfind(self.cell_open))
            if cut <= 0:
                self.carry = buf
                if len(buf) > MAX_LINE_BYTES:
                    raise _refused(self.name, f"có một ô dài hơn {MAX_LINE_BYTES >> 20} MB")
                return
            buf, self.carry = buf[:cut], buf[cut:]
        else:
            self.carry = b""
        size = len(_text(buf))
        if size > EXCEL_CELL_CHARS:   # an inline string or value beyond Excel's limit for a cell
            for run in self.long_text.findall(buf):
                chars = _chars(_text(run))
                if chars > EXCEL_CELL_CHARS:
                    raise _refused(self.name, f"có một ô dài {_n(chars)} ký tự, vượt giới hạn {_n(EXCEL_CELL_CHARS)} "
                                              "ký tự một ô của Excel (bảng tính do Excel tạo ra không có ô nào dài "
                                              "như vậy)")
        size += sum(int(e) + 2 for e in self.exponent.findall(buf))  # 1e308 is read as 309 digits
        refs = None
        if self.strings is not None and len(self.strings.lengths):  # no strings: a t="s" cell reads nothing
            marked = self.other_cell.sub(b"\x02", self.shared_cell.sub(b"\x01", buf))
            refs = self.value.findall(re.sub(rb"\x02[^\x01\x02]*", b"", marked))
        if refs:
            table = self.strings.table() if self.strings is not None else array("I")
            try:
                size += sum(map(table.__getitem__, map(int, refs)))
            except (ValueError, IndexError):   # an index written oddly: its longest reach
                longest = max(table, default=0)
                for ref in refs:
                    try:
                        size += table[int(ref)]
                    except IndexError:
                        continue   # no such string: the reader refuses the workbook
                    except ValueError:
                        size += longest
        self.table_bytes += size
        if self.table_bytes > self.limits.max_table_bytes:
            raise _refused(self.name, f"dữ liệu các ô của trang tính khi đọc ra lớn hơn "
                                      f"{_n(self.limits.max_table_bytes)} byte (các ô dùng chung chuỗi được tính "
                                      f"mỗi lần dùng), vượt giới hạn {_n(self.limits.max_table_bytes)} byte")

    def feed(self, chunk: bytes) -> None:
        if self.prefix is None:
            self.head += chunk
            if not self._start(final=False):
                return
            chunk, self.head = self.head, b""
        if self.measure:
            self._measure(chunk)
        buf = self.tail + chunk
        back = len(self.tail)
        if not self.dimension_seen:
            match = self.dimension.search(buf)
            if match:
                self.dimension_seen = True
                self._check_dimension(match.group(1).decode("ascii", "replace"))
            elif b"sheetData" in buf:
                self.dimension_seen = True
        start = lambda tag: max(0, back - len(tag) + 1)  # noqa: E731 - matches not counted with the tail before
        self.rows += buf.count(self.row_tag, start(self.row_tag))
        self.cells += buf.count(self.cell_tag, start(self.cell_tag)) - buf.count(self.not_cell, start(self.not_cell))
        rows = self.row_numbers.findall(buf)  # the tail is seen twice: harmless for a maximum or a set
        if rows:
            self.max_row = max(self.max_row, *map(int, rows))
        self.columns.update(self.cell_columns.findall(buf))
        if self.far_row.search(buf):
            self._too_many(rows=self.limits.max_rows + 1)
        self._check_counts()
        self.tail = buf[-self.TAIL:]

    def _max_column(self) -> int:
        return max((_column_number(c.decode()) for c in self.columns), default=0)

    def _check_counts(self) -> None:
        limits = self.limits
        if self.rows > limits.max_rows or self.max_row > limits.max_rows:
            self._too_many(rows=max(self.rows, self.max_row))
        if self.cells > limits.max_cells:
            raise _refused(self.name, f"trang tính có hơn {_n(limits.max_cells)} ô, vượt giới hạn "
                                      f"{_n(limits.max_cells)} ô")
        if len(self.columns) > 0 and self._max_column() > limits.max_columns:
            self._too_many(columns=self._max_column())

    def _too_many(self, rows: int = 0, columns: int = 0) -> None:
        if rows:
            raise _refused(self.name, f"trang tính có hơn {_n(self.limits.max_rows)} dòng (đã đếm tới dòng "
                                      f"{_n(rows)}), vượt giới hạn {_n(self.limits.max_rows)} dòng")
        raise _refused(self.name, f"trang tính có dữ liệu ở cột thứ {_n(columns)}, vượt giới hạn "
                                  f"{_n(self.limits.max_columns)} cột")

    def _check_dimension(self, ref: str) -> None:
        corners = [re.fullmatch(r"\$?([A-Z]{0,8})\$?(\d{0,12})", part.strip()) for part in ref.split(":")[:2]]
        if not all(corners):
            return
        cols = [_column_number(m.group(1)) if m.group(1) else None for m in corners]
        rows = [int(m.group(2)) if m.group(2) else None for m in corners]
        last_col, last_row = cols[-1] or 1, rows[-1] or 1
        width = last_col - (cols[0] or 1) + 1 if len(cols) == 2 else 1
        height = last_row - (rows[0] or 1) + 1 if len(rows) == 2 else 1
        width, height = max(width, 1), max(height, 1)
        over = []
        if last_col > self.limits.max_columns:
            over.append(f"{_n(self.limits.max_columns)} cột")
        if last_row > self.limits.max_rows:
            over.append(f"{_n(self.limits.max_rows)} dòng")
        if width * height > self.limits.max_cells:
            over.append(f"{_n(self.limits.max_cells)} ô")
        if over:
            raise _refused(self.name, f"tệp khai báo vùng dữ liệu {ref} ({_n(width)} cột × {_n(height)} dòng = "
                                      f"{_n(width * height)} ô), vượt giới hạn {', '.join(over)}")

    def finish(self, part: str) -> SheetFacts:
        if self.prefix is None:  # a sheet shorter than the sniff window
            self._start(final=True)
            head, self.head = self.head, b""
            if head:
                self.feed(head)
        if self.measure:
            self._measure(b"", final=True)
        self._check_counts()
        max_row = max(self.max_row, self.rows)
        max_column = self._max_column()
        if max_row * max(max_column, 1) > self.limits.max_cells:
            raise _refused(self.name, f"vùng dữ liệu của trang tính là {_n(max_column)} cột × {_n(max_row)} dòng "
                                      f"= {_n(max_row * max_column)} ô, vượt giới hạn {_n(self.limits.max_cells)} ô")
        return SheetFacts(part, self.rows, self.cells, max_row, max_column, 0, self.table_bytes)


_SHEET = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheet\s[^>]*>")
_RID = re.compile(rb"(?<![\w])(?:[A-Za-z_][\w.-]*:)?id=\"([^\"]+)\"")
_REL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\s[^>]*>")


def _first_sheet(path: Path, infos, name: str, limits: Limits) -> str:
    """The part of the workbook's first sheet (the one the reader loads as sheet 0)."""
    with zipfile.ZipFile(path) as archive:
        def small(part: str) -> bytes:
            info = archive.getinfo(part)
            if info.file_size > 16 << 20:
                raise _refused(name, f"thành phần «{part}» lớn bất thường ({_n(info.file_size)} byte)")
            with archive.open(info) as handle:
                return handle.read(16 << 20)

        try:
            workbook = small("xl/workbook.xml")
            rels = small("xl/_rels/workbook.xml.rels") if any(
                i.filename == "xl/_rels/workbook.xml.rels" for i in infos) else b""
        except (zipfile.BadZipFile, KeyError, OSError, NotImplementedError, EOFError, zlib.error):
            raise _not_a_workbook(path, name) from None
    sheet = _SHEET.search(workbook)
    rid = _RID.search(sheet.group(0)) if sheet else None
    if rid:
        for rel in _REL.finditer(rels):
            attrs = dict(re.findall(rb"(\w+)=\"([^\"]*)\"", rel.group(0)))
            if attrs.get(b"Id") == rid.group(1) and attrs.get(b"Target"):
                target = attrs[b"Target"].decode("utf-8", "replace")
                return target.lstrip("/") if target.startswith("/") else _join("xl/", target)
    sheets = sorted(i.filename for i in infos if re.fullmatch(r"xl/worksheets/[^/]+\.xml", i.filename))
    return sheets[0] if sheets else "xl/worksheets/sheet1.xml"


def _join(base: str, target: str) -> str:
    parts: list[str] = base.rstrip("/").split("/")
    for piece in target.split("/"):
        if piece == "..":
            parts = parts[:-1]
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


# ---------------------------------------------------------------- the read
def read_sheet(path: str | Path, name: str | None = None, *, n_rows: int | None = None,
               limits: Limits | None = None) -> pl.DataFrame:
    """The first sheet of a checked workbook as strings (columns as the reader names them),
    read in a child process with an address-space limit and a timeout. LoadError when the
    workbook is refused, unreadable, or the child runs out of memory or time."""
    path = Path(path)
    name = name or path.name
    limits = limits or active()
    check_workbook(path, name, limits)
    fd, out_name = tempfile.mkstemp(suffix=".arrow", prefix="kpi-xlsx-")
    out = Path(out_name)
    try:
        import os

        os.close(fd)
        try:
            done = subprocess.run(
                [sys.executable, str(_CHILD), str(path), str(out), "-" if n_rows is None else str(n_rows),
                 str(limits.max_read_memory_bytes), str(MAX_LINE_BYTES)],
                capture_output=True, timeout=limits.max_read_seconds, stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            raise LoadError(f"Tệp «{name}» bị từ chối: đọc trang tính đầu tiên mất quá {_n(limits.max_read_seconds)} "
                            "giây (giới hạn). Hãy chia tệp nhỏ hơn hoặc lưu dạng CSV UTF-8 rồi tải lên lại.") from None
        if done.returncode == 3:
            raise _not_a_workbook(path, name)
        if done.returncode == 6:  # the CSV's line cap, for a row's cells together
            raise _line_too_long(name)
        if done.returncode == 5:
            raise LoadError(f"Không ghi được dữ liệu tạm khi đọc tệp «{name}» (ổ đĩa đầy?): "
                            f"{done.stderr.decode('utf-8', 'replace').strip()[:200]}")
        if done.returncode != 0:
            raise LoadError(
                f"Tệp «{name}» bị từ chối: đọc trang tính đầu tiên cần nhiều hơn "
                f"{_n(limits.max_read_memory_bytes // 1_000_000)} MB bộ nhớ (giới hạn) hoặc làm trình đọc "
                f"dừng bất thường (mã {done.returncode}). Tệp có thể bị hỏng hoặc được tạo để làm treo máy chủ; "
                "hãy mở bằng Excel, lưu lại dạng .xlsx hoặc CSV UTF-8 rồi tải lên lại.")
        return pl.read_ipc(out)
    finally:
        out.unlink(missing_ok=True)
