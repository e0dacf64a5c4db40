"""Helpers shared by the aggregate sources (report template, service catalogue, archive
statistics, plan tasks): reading their layout and writing their upload as one batch.

Those files are made by hand or by report exporters: title lines above the table, headers
spanning two or three rows (merged cells arrive as a value in the first cell and empty
cells after it), whole-number cells, and a reporting period and unit stated in the title
("Kỳ báo cáo: Tháng 10/2025", "UBND XÃ NGHĨA THỌ"). Everything here works on header rows
and distinct values, never row by row over the data.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl

from kpi.periods import Period, PeriodError, month, parse
from kpi.text import fold, nfc_lower, strip_diacritics
from loaders.files import ROW, LoadError, RawTable
from loaders.units import UnitResolver

PEEK_ROWS = 40
_GENERATED = re.compile(r"^Cột \d+$")
_SUFFIX = re.compile(r" \(\d+\)$")


# ---------------------------------------------------------------- detection
def peek(path: str | Path) -> list[list[str]]:
    """The first rows of a CSV or XLSX as lists of strings ("" for empty), cached per file
    version so that every kind's detector reads the file once."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        return []
    return [list(r) for r in _peek(str(path), stat.st_mtime_ns, stat.st_size)]


@lru_cache(maxsize=16)
def _peek(path: str, _mtime: int, _size: int) -> tuple[tuple[str, ...], ...]:
    with open(path, "rb") as handle:
        head = handle.read(128 * 1024)
    if head[:4] == b"PK\x03\x04":
        from loaders import xlsx_guard  # checked against the caps, then read in a memory-limited child

        try:
            sheet = xlsx_guard.read_sheet(path, n_rows=PEEK_ROWS)
        except LoadError:  # refused or not a readable workbook: no kind claims it (the load says why)
            return ()
        return tuple(tuple(c or "" for c in row) for row in sheet.rows())
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines = text.splitlines()[:PEEK_ROWS]
    delim = max((";", ",", "\t"), key=lambda d: max((line.count(d) for line in lines), default=0))
    try:
        return tuple(tuple(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delim))
    except csv.Error:
        return ()


def best_row_score(path: str | Path, score) -> int:
    """The best `score(cells)` over the first rows of a file (0 when unreadable)."""
    return max((score(row) for row in peek(path)), default=0)


# ---------------------------------------------------------------- headers over several rows
@dataclass
class Layout:
    labels: list[list[str]]   # per column: its header labels from the top row down
    data: pl.DataFrame        # the body below the header rows: ROW + one column per header
    columns: list[str]        # the frame's column names, in file order


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"-?\d+([.,]\d+)*", text.replace(" ", "")))


def is_numbering_row(cells: list[str]) -> bool:
    """The row of column numbers under the headers: "A", "B", "(1)", "(2)", "(3)=(4)+(5)+(6)",
    or plain 1, 2, 3, ... in order."""
    values = [c.strip() for c in cells if c and c.strip()]
    if len(values) < 3:
        return False
    pattern = r"\(?([A-Za-z]|\d+)\)?(\s*[=+\-*]\s*\(?([A-Za-z]|\d+)\)?)*"
    if not all(re.fullmatch(pattern, v) for v in values):
        return False
    if any("(" in v or "=" in v for v in values):
        return True
    numbers = [int(v) for v in values if v.isdigit()]
    return len(numbers) >= 3 and numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def expand_headers(table: RawTable, keywords: tuple[str, ...], max_rows: int = 3) -> Layout:
    """Combine the header row found by `read_table` with the header rows under it (merged
    group labels over sub-columns), and skip a row of column numbers.

    A row under the header counts as a header row when it splits a span of the row above
    (a cell under an empty or repeated label), none of its cells is a number and one of its
    cells contains one of `keywords` (folded). A label is carried to the right
    across empty cells only inside its parent's span (where the row above was empty too),
    so a cell merged down from above keeps its own label.
    """
    frame = table.frame.collect()
    columns = list(table.headers)
    top = [None if _GENERATED.fullmatch(h) else _SUFFIX.sub("", h).strip() or None for h in columns]
    levels = [top]
    consumed = 0
    body = frame.select(columns)
    for cells in body.head(max_rows + 2).rows():
        cells = [(c or "").strip() for c in cells]
        if not any(cells):
            consumed += 1
            continue
        if is_numbering_row(cells):
            consumed += 1
            break
        upper = levels[-1]
        splits = any(c and (upper[j] is None or (j > 0 and upper[j] == upper[j - 1])) for j, c in enumerate(cells))
        is_header = len(levels) <= max_rows and splits and not any(_is_number(c) for c in cells if c) and any(
            k in fold(c) for c in cells if c for k in keywords)
        if not is_header:
            break
        levels.append([c or None for c in cells])
        consumed += 1
    filled = []
    for depth, row in enumerate(levels):
        out: list[str | None] = []
        for j, value in enumerate(row):
            if value is None and j > 0 and out[j - 1] is not None:
                if depth == 0:
                    value = out[j - 1]
                else:
                    parent_original, parent = levels[depth - 1], filled[depth - 1]
                    if parent_original[j] is None and parent[j] == parent[j - 1]:
                        value = out[j - 1]
            out.append(value)
        filled.append(out)
    labels = []
    for j in range(len(columns)):
        chain: list[str] = []
        for row in filled:
            if row[j] and (not chain or chain[-1] != row[j]):
                chain.append(row[j])
        labels.append(chain)
    return Layout(labels, frame.slice(consumed), columns)


def display_names(labels: list[list[str]]) -> list[str]:
    """Readable unique names for columns ("Số hồ sơ đã giải quyết / Quá hạn")."""
    seen: dict[str, int] = {}
    out = []
    for i, chain in enumerate(labels):
        name = " / ".join(chain) or f"Cột {i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def match_columns(labels: list[list[str]], spec: list[tuple[str, tuple[str, ...], tuple[str, ...]]]) -> dict[str, int]:
    """field -> column index. `spec` is ordered (field, folded words any of which must be in
    the label, folded words none of which may be; "=word" must be the whole label, "a&b"
    needs both). A column is tried by its innermost label first ("Mức độ / Toàn trình" is
    "Toàn trình"), then by all its labels together; it goes to the first field of the spec
    it fits that is still free; each field takes its first column."""
    found: dict[str, int] = {}
    for j, chain in enumerate(labels):
        texts = [fold(chain[-1]), fold(" ".join(chain))] if chain else []
        done = False
        for key in dict.fromkeys(t for t in texts if t):
            for field_name, anyof, noneof in spec:
                if field_name not in found and any(fits(w, key) for w in anyof) and not any(w in key for w in noneof):
                    found[field_name] = j
                    done = True
                    break
            if done:
                break
    return found


def fits(word: str, key: str) -> bool:
    """`=word` must equal the key; `word` may be anywhere in it; `a&b`: both anywhere."""
    if word.startswith("="):
        return key == word[1:]
    return all(part in key for part in word.split("&"))


# ---------------------------------------------------------------- cells
def clean_cell(col: str) -> pl.Expr:
    text = pl.col(col).cast(pl.String).str.strip_chars()
    return pl.when(text == "").then(None).otherwise(text)


def whole_number(col: str, empty_as_zero: bool) -> pl.Expr:
    """A count cell -> Int64: "12", "1.234" / "1,234" / "1 234" (thousands), "12.0" (a number
    that went through a spreadsheet), "-" (zero). Null when empty (or 0 with
    `empty_as_zero`) and when not a whole non-negative number (see `number_error`)."""
    text = pl.col(col).cast(pl.String).str.replace_all(r"[\s\u00a0]", "")
    text = (
        pl.when(text.str.contains(r"^\d{1,3}([.,]\d{3})+$")).then(text.str.replace_all(r"[.,]", ""))
        .when(text.str.contains(r"^\d+\.0+$")).then(text.str.replace(r"\.0+$", ""))
        .when(text.is_in(["-", "–", "—"])).then(pl.lit("0"))
        .otherwise(text)
    )
    value = pl.when(text.str.contains(r"^\d+$")).then(text.cast(pl.Int64, strict=False)).otherwise(None)
    if empty_as_zero:
        value = pl.when(text.is_null() | (text == "")).then(0).otherwise(value)
    return value


def number_error(col: str, value: pl.Expr) -> pl.Expr:
    """The reason a non-empty count cell was not read (null when it was)."""
    raw = pl.col(col).cast(pl.String).str.strip_chars()
    bad = raw.is_not_null() & (raw != "") & value.is_null()
    reason = (
        pl.when(raw.str.replace_all(r"\s", "").str.contains(r"^-\d")).then(pl.format("số âm «{}»", raw))
        .when(raw.str.replace_all(r"\s", "").str.contains(r"^\d+[.,]\d+$"))
        .then(pl.format("«{}» không phải số nguyên", raw))
        .otherwise(pl.format("«{}» không phải số", raw))
    )
    return pl.when(bad).then(reason)


def raw_json(frame: pl.DataFrame, columns: list[str], names: list[str]) -> pl.Expr:
    """The row's original cells as JSON, keyed by readable column names."""
    return pl.struct([pl.col(c).alias(n) for c, n in zip(columns, names, strict=True)]).struct.json_encode()


def reasons(checks: list[tuple[str, pl.Expr]]) -> list[pl.Expr]:
    """`_column` (first failing column) and `_reason` ("Cột «X»: ...; Cột «Y»: ...") from
    (column label, reason-or-null expression) pairs."""
    columns = [pl.when(msg.is_not_null()).then(pl.lit(col)) for col, msg in checks]
    messages = [pl.when(msg.is_not_null()).then(pl.format("Cột «{}»: {}", pl.lit(col), msg)) for col, msg in checks]
    return [pl.coalesce(columns).alias("_column"),
            pl.concat_str(messages, separator="; ", ignore_nulls=True).alias("_reason")]


def finish_reasons(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col("_column").is_null()).then(None).otherwise(pl.col("_reason")).alias("_reason"))


def reject_repeats(frame: pl.DataFrame, key: str, column: str) -> pl.DataFrame:
    """Among the valid rows, a later row with the same `key` as an earlier one is rejected
    (a unit or field listed twice in one file is never counted twice)."""
    valid = pl.col("_reason").is_null() & pl.col(key).is_not_null()
    first = pl.col(ROW).filter(valid).min().over(key)
    repeat = valid & (pl.col(ROW) != first)
    return frame.with_columns(
        pl.when(repeat).then(pl.lit(column)).otherwise(pl.col("_column")).alias("_column"),
        pl.when(repeat).then(pl.format("Cột «{}»: trùng với dòng {} trong cùng tệp", pl.lit(column), first))
        .otherwise(pl.col("_reason")).alias("_reason"),
    )


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """`text.fold` as a polars expression (lower case, no diacritics, letters and digits only)."""
    lowered = expr.str.to_lowercase().str.replace_all("đ", "d", literal=True).str.normalize("NFD")
    return lowered.str.replace_all(r"\p{Mn}", "").str.replace_all(r"[^0-9a-z]", "")


# ---------------------------------------------------------------- title lines: period
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_SIGNED = re.compile(r"ngay\s*[\d.…_ ]*\s*thang\s*[\d.…_ ]*\s*nam\s*\d{4}")
_DATE = r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})"


def _plain(text: str) -> str:
    return strip_diacritics(nfc_lower(text))


def period_in_text(text: str) -> Period | None:
    """The period a line or cell names: "Tháng 10/2025", "tháng 10 năm 2025", "Quý III/2025",
    "6 tháng đầu năm 2025", "Năm 2025", "Từ ngày 01/10/2025 đến ngày 31/10/2025" (a range that
    is exactly a month, quarter or year becomes that period). The date a report was signed
    ("ngày 05 tháng 11 năm 2025") is not a period. A named period wins over dates in the same
    line: "Quý III/2025 (từ 15/6 đến 14/9)" is the quarter."""
    t = _SIGNED.sub(" ", _plain(text))
    if m := re.search(r"\bquy\s*(iv|iii|ii|i|[1-4])\b\s*(?:/|-|nam)?\s*(\d{4})", t):
        q = _ROMAN.get(m[1]) or int(m[1])
        return parse(f"{m[2]}-Q{q}")
    if m := re.search(r"\b(6|sau)\s*thang\s*(dau|cuoi)\s*nam\s*(\d{4})", t):
        year = int(m[3])
        return _range(date(year, 1, 1), date(year, 6, 30)) if m[2] == "dau" else _range(date(year, 7, 1),
                                                                                          date(year, 12, 31))
    if m := re.search(r"\b9\s*thang\s*(?:dau\s*)?nam\s*(\d{4})", t):
        return _range(date(int(m[1]), 1, 1), date(int(m[1]), 9, 30))
    if m := re.search(r"\b(?:thang|t)\s*(\d{1,2})\s*(?:/|-|nam)\s*(\d{4})", t):
        return _month(int(m[2]), int(m[1]))
    dates = [_date(d) for d in re.findall(_DATE, t)]
    dates = [d for d in dates if d]
    if len(dates) >= 2 and re.search(r"\b(tu|den)\b", t):
        return _range(dates[0], dates[1])
    if m := re.search(r"\bnam\s*(\d{4})\b", t):
        return parse(m[1])
    return None


def month_in_cell(text: str) -> Period | None:
    """A month written in a cell: "10/2025", "Tháng 10/2025", "2025-10", "T10/2025", or a date
    (its month)."""
    t = _plain(text).strip()
    if m := re.fullmatch(r"(\d{1,2})\s*[/.-]\s*(\d{4})", t):
        return _month(int(m[2]), int(m[1]))
    if m := re.fullmatch(r"(\d{4})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*\d{1,2})?(?:[ t]\d.*)?", t):
        return _month(int(m[1]), int(m[2]))
    if m := re.fullmatch(_DATE + r"(?:\s.*)?", t):
        d = _date(m.groups()[:3])
        return month(date(d.year, d.month, 1)) if d else None
    period = period_in_text(t)
    return period if period and period.kind == "month" else None


def _date(parts) -> date | None:
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None


def _month(year: int, mon: int) -> Period | None:
    return month(date(year, mon, 1)) if 1 <= mon <= 12 and 1900 < year < 2200 else None


def _range(start: date, end: date) -> Period | None:
    if end < start:
        return None
    period = parse(f"{start:%Y-%m-%d}..{end:%Y-%m-%d}")
    for label in (f"{start:%Y-%m}", f"{start.year}-Q{(start.month - 1) // 3 + 1}", f"{start.year}"):
        named = parse(label)
        if (named.start, named.end) == (start, end):
            return named
    return period


def period_from_titles(lines: list[str]) -> Period | None:
    """The reporting period stated above the table; a line saying "Kỳ báo cáo" goes first."""
    ordered = [x for x in lines if "ky bao cao" in _plain(x)] + [x for x in lines if "ky bao cao" not in _plain(x)]
    for line in ordered:
        if period := period_in_text(line):
            return period
    return None


def chosen_period(text: str | None, titles: list[str], name: str, warnings: list[str]) -> Period | None:
    """The period chosen at upload wins over the title's (with a warning when they differ)."""
    stated = period_from_titles(titles)
    if not text:
        return stated
    try:
        chosen = parse(text)
    except PeriodError as exc:
        raise LoadError(f"Tệp «{name}»: {exc}") from None
    if stated and (stated.start, stated.end) != (chosen.start, chosen.end):
        warnings.append(f"Tiêu đề ghi kỳ {stated.vi()}, nhưng kỳ được chọn khi tải lên là {chosen.vi()}: "
                        "dùng kỳ được chọn.")
    return chosen


# ---------------------------------------------------------------- title lines: unit
_MOTTO = re.compile(r"cộng hòa xã hội chủ nghĩa việt nam|cộng hoà xã hội chủ nghĩa việt nam|độc lập\s*-\s*tự do"
                    r"\s*-\s*hạnh phúc")
_RECIPIENT = re.compile(r"(nhận báo cáo|kính gửi|nơi nhận)")
_MENTION = re.compile(r"\b(xã|phường|đặc khu|tỉnh|thành phố)\s+([^\d:;,()|/]+)")


def _mentions(lines: list[str]) -> list[tuple[str, list[str]]]:
    out = []
    for line in lines:
        text = _MOTTO.sub(" ", nfc_lower(line))
        text = _RECIPIENT.split(text)[0]
        for m in _MENTION.finditer(text):
            out.append((m[1], m[2].split()[:5]))
    return out


def _resolve_words(resolver: UnitResolver, kind: str, words: list[str]) -> str | None:
    for n in range(len(words), 0, -1):
        res = resolver.resolve_name(f"{kind} {' '.join(words[:n])}")
        if res.code:
            return res.code
    return None


def unit_from_titles(con, lines: list[str], province: str | None) -> tuple[str | None, str | None]:
    """(unit code, province code) named in the title lines ("UBND XÃ NGHĨA THỌ", "Đơn vị báo
    cáo: UBND tỉnh Nghệ An"); the addressee ("Kính gửi", "Đơn vị nhận báo cáo") is not the
    unit. A commune wins over its province; several different communes give no unit."""
    mentions = _mentions(lines)
    provinces = set()
    levels = dict(con.execute("SELECT code, level FROM units").fetchall())
    national = UnitResolver(con, None)
    for kind, words in mentions:
        if kind in ("tỉnh", "thành phố"):
            code = _resolve_words(national, kind, words)
            if code and levels.get(code) == "province" and (province is None or code == province):
                provinces.add(code)
    scope = province or (next(iter(provinces)) if len(provinces) == 1 else None)
    resolver = UnitResolver(con, scope)
    communes = set()
    for kind, words in mentions:
        if kind not in ("tỉnh", "thành phố"):
            code = _resolve_words(resolver, kind, words)
            if code:
                communes.add(code)
    if len(communes) == 1:
        code = communes.pop()
        owner = con.execute("SELECT province_code FROM units WHERE code = ?", [code]).fetchall()[0][0]
        return code, owner
    if not communes and scope:
        return (scope if scope in provinces else None), scope
    return None, scope


def resolve_unit_arg(con, unit: str, province: str | None, name: str) -> tuple[str, str]:
    """The unit given at upload (a code or a name) -> (unit code, province code)."""
    try:
        resolver = UnitResolver(con, province)
    except ValueError as exc:
        raise LoadError(f"Tệp «{name}»: {exc}") from None
    text = str(unit).strip()
    if text.isdigit() and len(text) <= 2 and text.zfill(2) in resolver.by_code:
        text = text.zfill(2)  # "25" is the province, not commune 00025
        return text, con.execute("SELECT province_code FROM units WHERE code = ?", [text]).fetchall()[0][0]
    res = resolver.resolve_code(text) if text.isdigit() else resolver.resolve_name(text)
    if res.code is None:
        raise LoadError(f"Tệp «{name}»: {res.reason}.")
    owner = con.execute("SELECT province_code FROM units WHERE code = ?", [res.code]).fetchall()[0][0]
    return res.code, owner


def resolver_for(con, province: str | None, name: str) -> UnitResolver:
    try:
        return UnitResolver(con, province)
    except ValueError as exc:
        raise LoadError(f"Tệp «{name}»: {exc}") from None


def assign_units(con, frame: pl.DataFrame, fixed: tuple[str, str] | None, cols, label, province: str | None,
                 name: str) -> tuple[pl.DataFrame, str]:
    """Give every row its unit: the one fixed for the whole file (from --unit or the title),
    else the row's own code or name resolved as docs/domain.md says. Returns the frame (with
    unit_code, province_code, _unit_reason) and the header to name in rejections."""
    if fixed:
        frame = frame.with_columns(pl.lit(fixed[0]).alias("unit_code"), pl.lit(fixed[1]).alias("province_code"),
                                   pl.lit(None, pl.String).alias("_unit_reason"))
    else:
        frame = resolve_names(con, frame, "_unit_code" if "unit_code" in cols else None,
                              "_unit_name" if "unit_name" in cols else None, province, name)
    unit_label = label("unit_code") if "unit_code" in cols else label("unit_name") if "unit_name" in cols else "Đơn vị"
    return frame, unit_label


def resolve_names(con, frame: pl.DataFrame, code_col: str | None, name_col: str | None,
                  province: str | None, name: str) -> pl.DataFrame:
    """Add `unit_code`, `province_code` and `_unit_reason` from a code and/or name column,
    resolving each distinct value once."""
    resolver = resolver_for(con, province, name)
    keys = [c for c in (code_col, name_col) if c]
    distinct = frame.select(keys).unique()
    codes, why = [], []
    for row in distinct.iter_rows(named=True):
        code_text, name_text = row.get(code_col) if code_col else None, row.get(name_col) if name_col else None
        res = None
        if code_text:
            res = resolver.resolve_code(code_text)
            if res.code is None and name_text:
                res = resolver.resolve_name(name_text)
        elif name_text:
            res = resolver.resolve_name(name_text)
        codes.append(res.code if res else None)
        why.append(res.reason if res else "thiếu tên đơn vị")
    lookup = distinct.with_columns(pl.Series("unit_code", codes, dtype=pl.String),
                                   pl.Series("_unit_reason", why, dtype=pl.String))
    owners = dict(con.execute("SELECT code, province_code FROM units").fetchall())
    lookup = lookup.with_columns(pl.col("unit_code").replace_strict(owners, default=None).alias("province_code"))
    return frame.join(lookup, on=keys, how="left", nulls_equal=True)


# ---------------------------------------------------------------- writing one upload
def rejected_of(frame: pl.DataFrame) -> pl.DataFrame:
    """The rows with a `_reason`, shaped for the rejected_rows table."""
    return frame.filter(pl.col("_reason").is_not_null()).select(
        pl.col(ROW).cast(pl.Int32).alias("row_no"), pl.col("_column").alias("column_name"),
        pl.col("_reason").alias("reason"), pl.col("_raw").alias("raw"))


def _match(keys: tuple[str, ...], left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} IS NOT DISTINCT FROM {right}.{k}" for k in keys)


def write_batch(con, *, kind: str, name: str, digest: str | None, province: str | None, user: str | None,
                period: str | None, table: str, staged: pl.DataFrame, rejected: pl.DataFrame,
                keys: tuple[str, ...], rows_read: int, duplicates: int = 0, warnings: list[str] | None = None):
    """One transaction: the batch row, its rejected rows, and its rows in `table`. Current
    rows of `table` with the same `keys` as a new row are marked superseded by this batch
    (kept, so that undoing it brings them back)."""
    from loaders import batches
    from loaders.dossiers import LoadResult
    from store.db import write_transaction

    warnings = list(warnings or []) + batches.earlier_upload_warning(con, digest)
    columns = list(staged.columns)
    with write_transaction(con):
        batch_id = batches.open_batch(con, kind=kind, file_name=name, file_hash=digest, province=province,
                                      user=user, period=period)
        con.register("rejected_view", rejected.to_arrow())
        con.execute("INSERT INTO rejected_rows SELECT ?, row_no, column_name, reason, raw FROM rejected_view",
                    [batch_id])
        con.unregister("rejected_view")
        con.register("staged_view", staged.to_arrow())
        con.execute(
            f"""UPDATE {table} t SET superseded_by = $batch
                FROM (SELECT DISTINCT {', '.join(keys)} FROM staged_view) s
                WHERE t.superseded_by IS NULL AND {_match(keys, 't', 's')}""", {"batch": batch_id})
        replaced = con.execute(f"SELECT count(*) FROM {table} WHERE superseded_by = ?", [batch_id]).fetchall()[0][0]
        con.execute(f"INSERT INTO {table} ({', '.join(columns)}, batch_id, superseded_by) "
                    f"SELECT {', '.join(columns)}, ?, NULL FROM staged_view", [batch_id])
        con.execute("INSERT INTO batch_units SELECT ?, unit_code, count(*) FROM staged_view GROUP BY unit_code",
                    [batch_id])
        con.unregister("staged_view")
        batches.close_batch(con, batch_id, rows_read=rows_read, loaded=staged.height, replaced=replaced,
                            duplicates=duplicates, rejected=rejected.height)
    return LoadResult(
        file=name, kind=kind, batch_id=batch_id, rows_read=rows_read, loaded=staged.height, replaced=replaced,
        duplicates=duplicates,
        rejected=[{"row": r["row_no"], "column": r["column_name"], "reason": r["reason"]}
                  for r in rejected.select("row_no", "column_name", "reason").iter_rows(named=True)],
        warnings=warnings,
    )


def undo_rows(con, table: str, keys: tuple[str, ...], batch_id: int) -> dict:
    """Undo batch `batch_id`'s rows of `table` (loaders/sources.py: a kind's tables): its
    rows go; the rows it had replaced come back, or, where a later upload has since
    replaced its own rows, now count as replaced by that later upload."""
    removed = con.execute(f"SELECT count(*) FROM {table} WHERE batch_id = ?", [batch_id]).fetchall()[0][0]
    con.execute(
        f"""UPDATE {table} h SET superseded_by = m.superseded_by
            FROM (SELECT DISTINCT {', '.join(keys)}, superseded_by FROM {table}
                  WHERE batch_id = $batch AND superseded_by IS NOT NULL) m
            WHERE h.superseded_by = $batch AND {_match(keys, 'h', 'm')}""", {"batch": batch_id})
    restored = con.execute(f"SELECT count(*) FROM {table} WHERE superseded_by = ?", [batch_id]).fetchall()[0][0]
    con.execute(f"UPDATE {table} SET superseded_by = NULL WHERE superseded_by = ?", [batch_id])
    con.execute(f"DELETE FROM {table} WHERE batch_id = ?", [batch_id])
    return {"removed": removed, "restored": restored}
