"""Dossiers pulled from a one-door system's database through SQLAlchemy, incrementally.

A source is a config (TOML or JSON): a SQLAlchemy URL, a SELECT with a `:since` bind
parameter on a watermark column (e.g. `WHERE updated_at >= :since`), and how the query's
columns map to dossier fields. A pull reads the rows in chunks, turns every value into
text and goes through the same `prepare()` + `write_dossiers()` as an uploaded file, so
validation, rejected rows, replace-not-double-count and undo are identical. One pull is
one batch (one transaction).

Incremental: `sql_sources` keeps per source the highest watermark value pulled; the next
pull passes it as `:since`. Use `>=`, not `>`: rows committed later with a timestamp equal
to the watermark are then not missed, and the boundary rows read again simply replace
themselves (counts do not change). The watermark is saved only after the dossiers are
committed, so a crash in between means a harmless re-read, never a gap. Undoing a pull
rewinds the next pull to that pull's `since` (from the `sql_pulls` log), so what it had
brought comes back with the next pull.

CLI: python -m loaders.sql_source pull --config FILE [--db PATH] [--full] [--format text|json]
     python -m loaders.sql_source status [--db PATH] [--format text|json]
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl

from loaders.dossiers import FIELDS, LoadResult, match_headers, missing_required, prepare, write_dossiers
from loaders.files import ROW, LoadError, RawTable, _unique_headers
from loaders.values import LOCAL_TZ
from store import cli
from store import db as store

INITIAL_WATERMARK = datetime(1900, 1, 1)
KEYS = {"name", "url", "query", "watermark", "province", "mapping", "password_env", "batch_size",
        "initial_watermark", "connect_timeout"}


@dataclass
class SqlSource:
    name: str
    url: str                                   # SQLAlchemy URL; the password may come from password_env
    query: str                                 # SELECT ... WHERE <watermark> >= :since
    watermark: str                             # the query column whose maximum is remembered
    province: str | None = None                # province code for resolving unit names/codes
    mapping: dict[str, str] = field(default_factory=dict)  # query column -> dossier field
    password_env: str | None = None            # name of the environment variable holding the password
    batch_size: int = 10_000
    initial_watermark: object = INITIAL_WATERMARK
    connect_timeout: int = 10                  # seconds (PostgreSQL / MySQL / MariaDB)

    @property
    def label(self) -> str:
        return f"SQL: {self.name}"


@dataclass
class PullResult(LoadResult):
    since_mark: str = ""        # 'type:value' bound to :since
    watermark_mark: str = ""    # 'type:value' saved for the next pull

    @property
    def since(self) -> str:
        return self.since_mark.partition(":")[2]

    @property
    def watermark(self) -> str:
        return self.watermark_mark.partition(":")[2]

    def summary(self) -> dict:
        return {**super().summary(), "since": self.since, "watermark": self.watermark}


# ------------------------------------------------------------------ config

def load_config(path: str | os.PathLike) -> SqlSource:
    """Read a source config (.toml, or .json); LoadError with a Vietnamese message if invalid."""
    path = Path(path)
    if not path.exists():
        raise LoadError(f"Không tìm thấy tệp cấu hình «{path.name}».")
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoadError(f"Tệp cấu hình «{path.name}» không đọc được: {exc}") from None
    return config_from_dict(data, path.name)


def config_from_dict(data: dict, origin: str = "cấu hình") -> SqlSource:
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise LoadError(f"Tệp «{origin}» có khóa không hợp lệ: {', '.join(unknown)} "
                        f"(các khóa dùng được: {', '.join(sorted(KEYS))}).")
    missing = [k for k in ("name", "url", "query", "watermark") if not str(data.get(k) or "").strip()]
    if missing:
        raise LoadError(f"Tệp «{origin}» thiếu khóa bắt buộc: {', '.join(missing)}.")
    mapping = data.get("mapping") or {}
    if not isinstance(mapping, dict):
        raise LoadError(f"Tệp «{origin}»: «mapping» phải là bảng «cột truy vấn = trường hồ sơ».")
    try:
        batch_size, timeout = int(data.get("batch_size", 10_000)), int(data.get("connect_timeout", 10))
    except (TypeError, ValueError):
        raise LoadError(f"Tệp «{origin}»: batch_size và connect_timeout phải là số nguyên.") from None
    province = data.get("province")
    return SqlSource(
        name=str(data["name"]).strip(), url=str(data["url"]).strip(), query=str(data["query"]),
        watermark=str(data["watermark"]).strip(), province=str(province) if province else None,
        mapping={str(k): str(v) for k, v in mapping.items()}, password_env=data.get("password_env") or None,
        batch_size=max(batch_size, 1), connect_timeout=max(timeout, 1),
        initial_watermark=_initial(data.get("initial_watermark"), origin),
    )


def _initial(value, origin: str):
    if value is None or value == "":
        return INITIAL_WATERMARK
    if isinstance(value, (int, datetime)):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise LoadError(f"Tệp «{origin}»: initial_watermark «{value}» không phải ngày (yyyy-mm-dd) hay số.") from None


def _check(source: SqlSource) -> None:
    import sqlalchemy as sa

    bad = {col: f for col, f in source.mapping.items() if f not in FIELDS}
    if bad:
        raise LoadError(f"Nguồn «{source.name}»: trường không hợp lệ trong mapping: "
                        f"{', '.join(f'{c} = {f}' for c, f in bad.items())} (dùng được: {', '.join(FIELDS)}).")
    try:
        params = set(sa.text(source.query).compile().params)
    except sa.exc.SQLAlchemyError as exc:
        raise LoadError(f"Nguồn «{source.name}»: câu truy vấn không hợp lệ: {exc}") from None
    if "since" not in params:
        raise LoadError(f"Nguồn «{source.name}»: câu truy vấn phải lọc theo mốc bằng tham số :since "
                        f"(vd. WHERE {source.watermark} >= :since) để chỉ kéo phần thay đổi.")
    if params - {"since"}:
        raise LoadError(f"Nguồn «{source.name}»: câu truy vấn chỉ được dùng tham số :since "
                        f"(có thêm: {', '.join(sorted(':' + p for p in params - {'since'}))}).")


# ------------------------------------------------------------------ watermark text form

def encode_mark(value) -> str:
    """A watermark value as 'type:text' so it can be bound again with its own type."""
    for kind, types in (("datetime", datetime), ("date", date), ("int", int), ("decimal", Decimal),
                        ("float", float), ("str", str)):
        if isinstance(value, types) and not isinstance(value, bool):
            return f"{kind}:{value.isoformat() if kind in ('datetime', 'date') else value}"
    raise LoadError(f"Cột mốc có kiểu {type(value).__name__} không hỗ trợ (dùng ngày giờ, ngày hoặc số).")


def decode_mark(text: str):
    kind, _, value = text.partition(":")
    parse = {"datetime": datetime.fromisoformat, "date": date.fromisoformat, "int": int, "decimal": Decimal,
             "float": float, "str": str}[kind]
    return parse(value)


def show_mark(text: str | None) -> str:
    """A watermark for people: '09:05:00 10/11/2025', '10/11/2025' or the value as is."""
    if not text:
        return ""
    value = decode_mark(text) if ":" in text and text.partition(":")[0] in _KINDS else text
    if isinstance(value, datetime):
        return f"{value:%H:%M:%S %d/%m/%Y}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


_KINDS = ("datetime", "date", "int", "decimal", "float", "str")


# ------------------------------------------------------------------ the database side

def _url(source: SqlSource):
    """(URL with the password, URL text without it)."""
    import sqlalchemy as sa

    try:
        url = sa.engine.make_url(source.url)
    except sa.exc.ArgumentError:
        raise LoadError(f"Nguồn «{source.name}»: địa chỉ kết nối CSDL «{source.url}» không hợp lệ "
                        "(dạng postgresql+psycopg://người_dùng@máy:cổng/csdl).") from None
    if source.password_env:
        password = os.environ.get(source.password_env)
        if password is None:
            raise LoadError(f"Nguồn «{source.name}»: chưa đặt biến môi trường «{source.password_env}» "
                            "chứa mật khẩu CSDL.")
        url = url.set(password=password)
    if url.get_backend_name() in ("mysql", "mariadb") and "charset" not in url.query:
        url = url.update_query_dict({"charset": "utf8mb4"})  # Vietnamese text needs 4-byte UTF-8
    return url, without_password(url)


def without_password(url) -> str:
    """The URL as text with no password at all (not even '***'): what the store keeps."""
    import sqlalchemy as sa

    url = sa.engine.make_url(url)
    return sa.engine.URL.create(url.drivername, url.username, None, url.host, url.port, url.database,
                                url.query).render_as_string(hide_password=False)


def _detail(exc: BaseException, url) -> str:
    """The driver's message, one line. Drivers do not echo passwords; masking one anyway
    is skipped when it is part of the user/host/database name (masking would only garble)."""
    text = " ".join(str(getattr(exc, "orig", None) or exc).split())
    password = url.password or ""
    if password and not any(password in (part or "") for part in (url.username, url.host, url.database)):
        text = text.replace(password, "***")
    return text[:400]


def _connect_error(source: SqlSource, url, exc) -> LoadError:
    orig = getattr(exc, "orig", None)
    text = str(orig or exc)
    code = orig.args[0] if orig is not None and orig.args and isinstance(orig.args[0], int) else None
    where = f"{url.host or 'localhost'}:{url.port}" if url.port else (url.host or "localhost")
    if code == 1045 or "authentication failed" in text or "password" in text.lower():
        reason = f"sai tên đăng nhập hoặc mật khẩu của người dùng «{url.username}»"
    elif code == 1044:
        reason = f"người dùng «{url.username}» không có quyền vào cơ sở dữ liệu «{url.database}» (hoặc CSDL không tồn tại)"
    elif code == 1049 or ("database" in text and "does not exist" in text):
        reason = f"không có cơ sở dữ liệu «{url.database}»"
    else:
        reason = "máy chủ không phản hồi hoặc từ chối kết nối"
    return LoadError(f"Không kết nối được CSDL của nguồn «{source.name}» ({where}): {reason}. "
                     f"Chi tiết: {_detail(exc, url)}")


def _text_column(series: pl.Series) -> pl.Expr:
    """A typed column as text the dossier parsers read: ISO dates, integers without '.0'."""
    col, dtype = pl.col(series.name), series.dtype
    if dtype == pl.String:
        return col
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone:
            col = col.dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None)
        return col.dt.to_string("%Y-%m-%d %H:%M:%S")
    if dtype == pl.Date:
        return col.dt.to_string("%Y-%m-%d")
    if dtype.is_float() or isinstance(dtype, pl.Decimal):
        return col.cast(pl.String).str.replace(r"(\.\d*?)0+$", "$1").str.replace(r"\.$", "")
    return col.cast(pl.String)  # integers, booleans (true/false), times, all-null chunks


def _py_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _chunk(headers: list[str], rows) -> pl.DataFrame:
    """Typed polars columns from the driver's rows; a column polars cannot type (mixed
    values, UUIDs, JSON, bytes) falls back to Python's text of each value."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in headers]
    series = []
    for name, values in zip(headers, columns, strict=True):
        try:
            s = pl.Series(name, values, strict=True)
        except (TypeError, ValueError, OverflowError, pl.exceptions.PolarsError):
            s = None
        if s is None or s.dtype in (pl.Object, pl.Binary) or s.dtype.is_nested():
            s = pl.Series(name, [_py_text(v) for v in values], dtype=pl.String)
        series.append(s)
    return pl.DataFrame(series)


def read_rows(source: SqlSource, since) -> tuple[list[str], pl.DataFrame, object]:
    """Run the query once with `since`; (headers, all values as text, max watermark or None)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    url, _public = _url(source)
    backend = url.get_backend_name()
    connect_args = {"connect_timeout": source.connect_timeout} if backend in ("postgresql", "mysql", "mariadb") else {}
    try:
        engine = sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except (sa.exc.NoSuchModuleError, ModuleNotFoundError, sa.exc.ArgumentError) as exc:
        raise LoadError(f"Nguồn «{source.name}»: không có trình điều khiển cho CSDL «{url.drivername}» ({exc}).") from None
    try:
        try:
            conn = engine.connect()
        except sa.exc.DBAPIError as exc:
            raise _connect_error(source, url, exc) from None
        with conn:
            try:
                headers, frame, mark = _read(conn, backend, source, since)
            except sa.exc.DBAPIError as exc:
                conn.invalidate()  # possibly broken mid-stream: drop it, the server rolls back
                raise LoadError(f"CSDL từ chối câu truy vấn của nguồn «{source.name}»: "
                                f"{_detail(exc, url)}") from None
            conn.rollback()  # the pull only reads; never commit anything on the source
            return headers, frame, mark
    finally:
        engine.dispose()


def _read(conn, backend: str, source: SqlSource, since):
    import sqlalchemy as sa

    options = {"stream_results": True, "max_row_buffer": source.batch_size}
    if backend == "postgresql":
        options["postgresql_readonly"] = True
    elif backend in ("mysql", "mariadb"):
        conn.exec_driver_sql("START TRANSACTION READ ONLY")
    result = conn.execution_options(**options).execute(sa.text(source.query), {"since": since})
    if not result.returns_rows:
        raise LoadError(f"Câu truy vấn của nguồn «{source.name}» không trả về dòng dữ liệu nào (cần SELECT).")
    headers = _unique_headers(list(map(str, result.keys())))  # (iterating `result` would read rows)
    try:
        if source.watermark not in headers:
            raise LoadError(f"Câu truy vấn của nguồn «{source.name}» không trả về cột mốc «{source.watermark}» "
                            f"(các cột: {', '.join(headers)}).")
        _fields(source, headers)  # fail before reading the rows
    except LoadError:
        result.close()
        raise
    parts, marks = [], []
    while rows := result.fetchmany(source.batch_size):
        typed = _chunk(headers, rows)
        mark = typed[source.watermark].max()
        if mark is not None:
            marks.append(mark)
        parts.append(typed.select([_text_column(typed[h]) for h in headers]))
    frame = pl.concat(parts) if parts else pl.DataFrame(schema={h: pl.String for h in headers})
    return headers, frame, max(marks) if marks else None


def _fields(source: SqlSource, headers: list[str]) -> dict[str, str]:
    absent = [c for c in source.mapping if c not in headers]
    if absent:
        raise LoadError(f"Nguồn «{source.name}»: mapping nêu cột không có trong kết quả truy vấn: "
                        f"{', '.join(absent)} (các cột: {', '.join(headers)}).")
    fields = match_headers(headers, source.mapping)
    missing = missing_required(fields)
    if missing:
        raise LoadError(f"Câu truy vấn của nguồn «{source.name}» thiếu cột bắt buộc: {', '.join(missing)} "
                        f"(các cột: {', '.join(headers)}; đặt tên cột theo tiêu đề quen thuộc hoặc khai báo mapping).")
    return fields


# ------------------------------------------------------------------ the store side

def _state(con, source: SqlSource, full: bool) -> tuple[object, list[int], list[str]]:
    """(since for this pull, undone pulls it replays, warnings)."""
    public = _url(source)[1]
    row = con.execute("SELECT url, query_hash, last_watermark FROM sql_sources WHERE name = ?",
                      [source.name]).fetchall()
    undone = con.execute(
        """SELECT p.batch_id, p.since FROM sql_pulls p JOIN batches b USING (batch_id)
           WHERE p.source_name = ? AND b.status = 'undone' AND NOT p.replayed ORDER BY p.batch_id""",
        [source.name],
    ).fetchall()
    warnings = []
    if full or not row or row[0][2] is None:
        since = source.initial_watermark
    elif undone:
        since = decode_mark(undone[0][1])  # the earliest undone pull's start: bring its rows back
        warnings.append(f"Kéo lại từ mốc {show_mark(undone[0][1])} vì lần kéo #{undone[0][0]} đã được hoàn tác.")
    else:
        since = decode_mark(row[0][2])
    if row and not full:
        if row[0][1] != _query_hash(source):
            warnings.append("Câu truy vấn đã thay đổi so với lần kéo trước; nếu cần nạp lại toàn bộ, "
                            "hãy kéo với tùy chọn --full.")
        if row[0][0] != public:
            warnings.append(f"Địa chỉ CSDL đã thay đổi (trước: {row[0][0]}).")
    return since, [u[0] for u in undone], warnings


def _query_hash(source: SqlSource) -> str:
    return hashlib.sha256(" ".join(source.query.split()).encode()).hexdigest()


def _save_state(con, source: SqlSource, since_text: str, mark_text: str, batch_id: int | None,
                rows_read: int, replayed: list[int]) -> None:
    public = _url(source)[1]
    with store.write_transaction(con):  # the process's write lock, like every other write
        con.execute(
            """INSERT OR REPLACE INTO sql_sources
               (name, url, query_hash, watermark_column, last_watermark, last_pull_at, last_batch_id, province_code)
               VALUES (?, ?, ?, ?, ?, ?, coalesce(?, (SELECT last_batch_id FROM sql_sources WHERE name = ?)), ?)""",
            [source.name, public, _query_hash(source), source.watermark, mark_text, datetime.now(),
             batch_id, source.name, source.province],
        )
        if batch_id is not None:
            con.execute("INSERT INTO sql_pulls VALUES (?, ?, ?, ?, ?, ?, false)",
                        [batch_id, source.name, datetime.now(), since_text, mark_text, rows_read])
        if replayed:
            con.execute("UPDATE sql_pulls SET replayed = true WHERE batch_id IN (SELECT unnest(?))", [replayed])


def pull(con, source: SqlSource, *, user: str | None = None, today: date | None = None,
         full: bool = False) -> PullResult:
    """Pull what changed since the last pull into the store. LoadError (store untouched)
    when the source cannot be read; rows that fail validation come back as rejected."""
    _check(source)
    since, replayed, warnings = _state(con, source, full)
    headers, frame, mark = read_rows(source, since)
    since_text = encode_mark(since)
    mark_text = encode_mark(mark) if mark is not None else since_text
    if frame.height and mark is None:
        warnings.append(f"Cột mốc «{source.watermark}» trống ở mọi dòng: mốc không tiến lên.")
    fields = _fields(source, headers)
    batch_id, counts, rejected = None, {"loaded": 0, "replaced": 0, "duplicates": 0}, []
    if frame.height:
        table = RawTable(source.label, headers, frame.lazy().with_row_index(ROW, offset=1), header_row=0)
        try:
            prepared = prepare(con, table, fields, source.province, today or date.today())
        except pl.exceptions.PolarsError as exc:
            raise LoadError(f"Dữ liệu của nguồn «{source.name}» không đọc được: {exc}") from None
        result = write_dossiers(con, prepared, name=source.label, kind="sql", file_hash=None,
                                province=source.province, user=user, mapping=fields)
        batch_id, rejected = result.batch_id, result.rejected
        counts = {"loaded": result.loaded, "replaced": result.replaced, "duplicates": result.duplicates}
    _save_state(con, source, since_text, mark_text, batch_id, frame.height, replayed)
    return PullResult(file=source.label, kind="sql", batch_id=batch_id, rows_read=frame.height, **counts,
                      rejected=rejected, warnings=warnings, mapping=fields,
                      since_mark=since_text, watermark_mark=mark_text)


def sources_status(con) -> list[dict]:
    rows = store.query_pl(con, "SELECT * FROM sql_sources ORDER BY name")
    return rows.to_dicts()


# ------------------------------------------------------------------ CLI

def _text(s: dict) -> str:
    from loaders.cli_text import summary_text

    return summary_text(s)


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser("python -m loaders.sql_source", "Kéo hồ sơ từ CSDL một cửa (SQL) vào kho KPI.")
    sub = parser.add_subparsers(dest="command", required=True, title="Lệnh", metavar="LỆNH")
    pull_cmd = sub.add_parser("pull", help="Kéo phần thay đổi kể từ lần kéo trước")
    pull_cmd.add_argument("--config", required=True, type=Path, metavar="TỆP", help="Tệp cấu hình nguồn (.toml hoặc .json)")
    pull_cmd.add_argument("--full", action="store_true", help="Kéo lại toàn bộ, bỏ qua mốc đã lưu")
    pull_cmd.add_argument("--user", default=None, metavar="TÊN", help="Người kéo (ghi vào lịch sử)")
    status_cmd = sub.add_parser("status", help="Các nguồn SQL và mốc đã kéo")
    for cmd in (pull_cmd, status_cmd):
        cli.add_db(cmd)
        cmd.add_argument("--format", default="text", choices=("text", "json"), help="Định dạng kết quả (mặc định: text)")
    args = parser.parse_args(argv)

    from store import remote

    server = remote.find(store.db_path(args.db))
    if server is not None and args.command == "pull":
        return _pull_through_server(server, args)
    if server is not None:
        return _status_through_server(server, args)
    con = store.connect(args.db)
    try:
        if args.command == "status":
            rows = sources_status(con)
            if args.format == "json":
                print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
            for r in rows if args.format == "text" else []:
                print(f"{r['name']}: mốc {show_mark(r['last_watermark'])}, kéo lúc {r['last_pull_at']:%H:%M %d/%m/%Y}, "
                      f"lần tải #{r['last_batch_id']} ({r['url']})")
            return 0
        try:
            result = pull(con, load_config(args.config), user=args.user, full=args.full)
            summary = result.summary()
        except LoadError as exc:
            result, summary = None, {"file": str(args.config.name), "error": str(exc)}
    finally:
        con.close()
    marks = None if result is None else (result.since_mark, result.watermark_mark)
    return _print_pull(summary, marks, args.format)


def _print_pull(summary: dict, marks: tuple[str, str] | None, form: str) -> int:
    if form == "json":
        print(json.dumps(summary, ensure_ascii=False, indent=2, default=str))
    elif marks is None or summary["rows_read"]:
        print(_text(summary))
        if marks:
            print(f"  mốc: {show_mark(marks[0])} → {show_mark(marks[1])}")
    else:
        print(f"{summary['file']} (Cơ sở dữ liệu một cửa (SQL)): không có dòng nào thay đổi kể từ mốc {show_mark(marks[0])}")
    return 1 if "error" in summary else 0


def _pull_through_server(server, args) -> int:
    """The same pull by the running server (which owns the store), printed the same way."""
    from store import remote

    fields = {"config": str(args.config.resolve()), "full": "true" if args.full else "false", "user": args.user}
    try:
        status, _, body = remote.request(server, "POST", "/api/v1/sources/pull", fields=fields)
    except remote.RemoteError as exc:
        summary = {"file": args.config.name, "error": str(exc)}
        return _print_pull(summary, None, args.format)
    if status != 200:
        return _print_pull({"file": args.config.name, "error": remote.answer(status, body)}, None, args.format)
    answer = json.loads(body)
    marks = None if "error" in answer else (answer.pop("since_mark"), answer.pop("watermark_mark"))
    return _print_pull(answer, marks, args.format)


def _status_through_server(server, args) -> int:
    from store import remote

    status, _, body = remote.request(server, "GET", "/api/v1/sources")
    if status != 200:
        print(remote.answer(status, body), file=sys.stderr)
        return 1
    rows = json.loads(body)["sources"]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return 0
    for r in rows:
        pulled = datetime.fromisoformat(r["last_pull_at"]) if r["last_pull_at"] else None
        print(f"{r['name']}: mốc {show_mark(r['last_watermark'])}, kéo lúc {pulled:%H:%M %d/%m/%Y}, "
              f"lần tải #{r['last_batch_id']} ({r['url']})")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
