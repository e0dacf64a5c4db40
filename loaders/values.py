"""Vectorised parsers for the cell values of exports (dates, yes/no, channel), as polars
expressions: no Python loop over rows. Each parser returns the typed value, or null
where the cell is empty or cannot be read; callers compare with the raw cell to tell
"empty" from "invalid"."""

from __future__ import annotations

from datetime import datetime

import polars as pl

LOCAL_TZ = "Asia/Ho_Chi_Minh"

# Naive (local) forms first; the order does not matter for correctness, each is strict.
_NAIVE_FORMATS = (
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d-%m-%Y %H:%M:%S",
    "%d-%m-%Y %H:%M",
    "%d-%m-%Y",
    "%d.%m.%Y",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%H:%M:%S %d/%m/%Y",
    "%H:%M %d/%m/%Y",
)
_AWARE_FORMATS = ("%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%d %H:%M%z")


def stripped(col: str) -> pl.Expr:
    """Trimmed text (empty cells not yet null: see `null_empty`)."""
    return pl.col(col).str.strip_chars()


def _null_if_empty(text: pl.Expr) -> pl.Expr:
    return pl.when(text == "").then(None).otherwise(text)


# Invisible format characters (zero-width space/joiners, bidi marks and overrides, BOM, soft
# hyphen) that copy-paste leaves in codes: "HS\u200b01" must be the dossier "HS01".
_INVISIBLE = "[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"


def stripped_key(col: str) -> pl.Expr:
    """Like `stripped`, for identifying cells (ids, codes, unit names): invisible format
    characters are dropped too."""
    text = pl.col(col)
    text = pl.when(text.str.contains(_INVISIBLE)).then(text.str.replace_all(_INVISIBLE, "")).otherwise(text)
    return text.str.strip_chars()


def clean_key(col: str) -> pl.Expr:
    """`stripped_key`, with empty and whitespace-only cells null."""
    return _null_if_empty(stripped_key(col))


def without_invisible(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`stripped_key`'s invisible-character removal over a frame of `stripped` columns, on
    the columns that have a non-ASCII cell (an invisible character is one): ids and codes
    are ASCII, and telling so is 6x cheaper than the regex search."""
    non_ascii = frame.select((pl.col(c).str.len_chars() != pl.col(c).str.len_bytes()).any() for c in columns).row(0)
    return frame.with_columns(stripped_key(c).alias(c) for c, found in zip(columns, non_ascii, strict=True) if found)


def lookup(expr: pl.Expr, keys: list, values: list, dtype: pl.DataType) -> pl.Expr:
    """`replace_strict(keys, values)` for a column whose every cell is one of `keys` (None
    for the empty cell): for a handful of keys (a flag or channel column of one chunk) a
    chain of equality tests, ~5x faster than its hash lookup."""
    if len(keys) > 8:
        return expr.replace_strict(keys, values, return_dtype=dtype)
    chain = None
    for key, value in zip(keys, values, strict=True):
        test = expr.is_null() if key is None else expr == key
        chain = (pl.when(test) if chain is None else chain.when(test)).then(pl.lit(value, dtype=dtype))
    return chain.otherwise(pl.lit(None, dtype=dtype)) if chain is not None else pl.lit(None, dtype=dtype)


def null_empty(frame: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """Empty cells to null over a frame of `stripped` columns, only on the columns that have
    an empty cell (most have none: the CSV reader already gives null for empty fields)."""
    found = frame.select((pl.col(c).str.len_bytes() == 0).any() for c in columns).row(0)
    return frame.with_columns(_null_if_empty(pl.col(c)).alias(c) for c, empty in zip(columns, found, strict=True)
                              if empty)


def parse_datetime(expr: pl.Expr) -> pl.Expr:
    """dd/mm/yyyy[ HH:MM[:SS]], ISO (with T, Z or an offset, converted to local time),
    or an Excel day serial. Impossible dates (31/02/2025) give null."""
    text = expr.str.replace("T", " ", literal=True).str.replace(r"Z$", "+00:00")
    naive = [text.str.to_datetime(f, strict=False, time_unit="us") for f in _NAIVE_FORMATS]
    aware = [
        text.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC")
        .dt.convert_time_zone(LOCAL_TZ)
        .dt.replace_time_zone(None)
        for f in _AWARE_FORMATS
    ]
    serial_days = (
        pl.when(text.str.contains(r"^\d{5}(\.\d+)?$"))
        .then(text.cast(pl.Float64, strict=False))
        .otherwise(None)
    )
    serial = pl.datetime(1899, 12, 30) + pl.duration(microseconds=(serial_days * 86_400_000_000).round(0).cast(pl.Int64))
    return pl.coalesce(*naive, *aware, serial)


_YES = ("co", "da", "x", "1", "true", "yes", "y", "v", "ok", "dung")
_NO = ("khong", "chua", "0", "false", "no", "n", "sai", "-")


def _fold_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised fold for short cells: lower case, common Vietnamese letters unaccented."""
    lowered = expr.str.to_lowercase().str.normalize("NFD").str.replace_all(r"\p{Mn}", "")
    return lowered.str.replace_all("đ", "d", literal=True).str.replace_all(r"[^0-9a-z]", "")


def parse_yes_no(expr: pl.Expr) -> pl.Expr:
    """Có/Không, Đã/Chưa, x/empty, 1/0, true/false, yes/no -> bool. Empty -> False (the
    "x or empty" convention); unrecognised text -> null (the caller rejects the row)."""
    folded = _fold_expr(expr)
    yes = pl.lit(False)
    for word in _YES:
        yes = yes | folded.str.starts_with(word) if word not in ("x", "1", "y", "v", "n", "0") else yes | (folded == word)
    no = pl.lit(False)
    for word in _NO:
        no = no | folded.str.starts_with(word) if len(word) > 2 else no | (folded == word)
    return (
        pl.when(expr.is_null() | (folded == "")).then(False)
        .when(no).then(False)   # "không có" / "chưa số hóa" start with the negative word
        .when(yes).then(True)
        .otherwise(None)
    )


def parse_channel(expr: pl.Expr) -> pl.Expr:
    """Trực tuyến / Trực tiếp / Bưu chính công ích, or codes 1 = trực tiếp, 2 = trực tuyến,
    3 = BCCI -> online | direct | post. Empty -> null; unrecognised -> "invalid"."""
    folded = _fold_expr(expr)
    return (
        pl.when(expr.is_null() | (folded == "")).then(None)
        .when((folded == "2") | folded.str.contains("tructuyen") | folded.str.contains("online") | folded.str.contains("dvc"))
        .then(pl.lit("online"))
        .when((folded == "1") | folded.str.contains("tructiep") | folded.str.contains("motcua"))
        .then(pl.lit("direct"))
        .when((folded == "3") | folded.str.contains("buuchinh") | folded.str.contains("bcci") | folded.str.contains("buudien"))
        .then(pl.lit("post"))
        .otherwise(pl.lit("invalid"))
    )


# ---- whole-column forms of the parsers above, for large files (same results, less work) ----

_SAMPLE = 2000


def _normalise_datetime_text(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace("T", " ", literal=True).str.replace(r"Z$", "+00:00")


def _one_format(expr: pl.Expr, fmt: str) -> pl.Expr:
    # cache=False: the cache of parsed texts costs more than it saves (timestamps are nearly
    # all distinct; even a date-only column reads as fast without it): 64 -> 36 ms per 1M cells.
    if fmt in _AWARE_FORMATS:
        return (expr.str.to_datetime(fmt, strict=False, time_unit="us", time_zone="UTC", cache=False)
                .dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None))
    return expr.str.to_datetime(fmt, strict=False, time_unit="us", cache=False)


def _best_format(texts: pl.Series) -> tuple[str | None, int]:
    """The form that reads most cells of `texts` (a sample), and how many it reads."""
    hits = texts.to_frame("t").select(
        [_one_format(pl.col("t"), f).count().alias(str(i)) for i, f in enumerate(_NAIVE_FORMATS + _AWARE_FORMATS)]
    ).row(0)
    best = max(hits)
    return ((_NAIVE_FORMATS + _AWARE_FORMATS)[hits.index(best)] if best else None), best


def datetime_plan(cells: pl.Series) -> tuple[str, bool] | None:
    """How to read a date column fast: (form, normalise first?) chosen from a sample, or
    None when no single form reads it (the full coalesce then goes over every cell).

    An export writes one column in one form, and a cell that does not fit a form costs
    polars a slow fallback, so the full coalesce is ~30x slower than one strptime. The
    raw text is tried first (normalising "T"/"Z" costs a regex over every cell); only
    when that reads fewer cells than the normalised sample is the column normalised.
    """
    filled = cells.drop_nulls()
    if filled.len() == 0:
        return None
    sample = filled.gather_every(max(1, filled.len() // _SAMPLE))
    raw_fmt, raw_hits = _best_format(sample)
    norm_fmt, norm_hits = _best_format(sample.to_frame("t").select(_normalise_datetime_text(pl.col("t"))).to_series())
    if raw_fmt and raw_hits >= norm_hits:
        return raw_fmt, False
    return (norm_fmt, True) if norm_fmt else None


def fast_datetime(col: str, plan: tuple[str, bool] | None) -> pl.Expr:
    """`parse_datetime` without trying all 17 forms on every cell: the form `plan` chose from
    a sample, as an expression (so that several columns run in parallel in one select);
    `finish_datetime` completes the cells it leaves."""
    if plan is None:
        return parse_datetime(pl.col(col))
    fmt, normalise = plan
    text = _normalise_datetime_text(pl.col(col)) if normalise else pl.col(col)
    return _one_format(text, fmt)


_YEAR_1000 = datetime(1000, 1, 1)


def finish_datetime(cells: pl.Series, out: pl.Series) -> pl.Series:
    """Cells the single form left unread go through the full coalesce. Two-digit years are
    where forms overlap ("25-07-28": d-m-Y and Y-m-d); those go the full way too, whose
    order decides. The forms are otherwise mutually exclusive (each is strict and exact;
    with and without fractional seconds give the same value; a raw cell with "T" or "Z"
    fits no form), so the result is the one `parse_datetime` gives."""
    # A year below 1000 is a two-digit year read as such; compared as a timestamp, not via
    # dt.year() (a calendar computation per cell, 14x slower).
    missed = (cells.is_not_null() & (out.is_null() | (out < _YEAR_1000))).arg_true()
    if missed.len():
        rest = pl.DataFrame({"t": cells.gather(missed)}).select(parse_datetime(pl.col("t"))).to_series()
        out = out.scatter(missed, rest)
    return out
