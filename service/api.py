"""The HTTP API, mounted at /api in the dashboard's own process (service/server.py): the same
core functions as the pages and the CLIs, for other systems and for the CLIs while the
dashboard serves the store. OpenAPI document at /api/docs.

Who calls: a personal API token (store/api_tokens.py), acting as its account under the one
scope rule; or the local operator secret of `<store>.server.json` (store/remote.py), acting
as the OS account like the CLI. Wrong or revoked token 401, out of scope 403, a body over
the upload cap 413. Every message is Vietnamese.
"""

from __future__ import annotations

import hmac
import json
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, File, Form, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from kpi.format import number
from kpi.output import KpiRequestError, kpi_text
from kpi.periods import PeriodError
from kpi.units import data_version
from loaders import history, sources
from loaders.batches import UndoError, undo_batch
from loaders.files import LoadError
from loaders.sql_source import load_config, pull, sources_status
from reports import commands
from store import accounts, api_tokens, backup, jobs, lake, sqlquote
from store import db as store

UPLOAD_PREFIX = "kpi_api_"
MEDIA = {"json": "application/json; charset=utf-8", "csv": "text/csv; charset=utf-8",
         "table": "text/plain; charset=utf-8"}


@dataclass(frozen=True)
class Caller:
    user: accounts.User | None   # None: the local operator (the OS account)

    @property
    def operator(self) -> bool:
        return self.user is None

    @property
    def name(self) -> str | None:
        return self.user.username if self.user else None


@dataclass
class ApiSettings:
    db: Path
    operator_secret: Callable[[], str | None]   # the secret of <store>.server.json, once written
    max_body_bytes: int
    today: Callable[[], date] = date.today
    backup_dir: Path | None = None
    sources_dir: Path | None = None
    queue_pull: Callable[[str], None] | None = None   # the server's scheduler: run a scheduled source now


def plain(value):
    """As the CLIs print JSON (`json.dumps(..., default=str)`): dates as `str()` gives them,
    so a CLI printing the API's answer prints what it would have printed itself."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def safe_name(name: str | None) -> str:
    """An uploaded file's name as kept in the history: its last path part, printable, ≤ 200."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if ch.isprintable()).strip().lstrip(".") or "tep_tai_len"
    return base[:200]


def _settings(request: Request) -> ApiSettings:
    return request.app.state.settings


def caller(request: Request) -> Caller:
    """Who is calling: the operator secret, or a personal token (401 otherwise)."""
    settings = _settings(request)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "Thiếu mã truy cập API: gửi tiêu đề «Authorization: Bearer <mã>».",
                            headers={"WWW-Authenticate": "Bearer"})
    secret = settings.operator_secret()
    if secret and hmac.compare_digest(token.encode(), secret.encode()):
        return Caller(None)
    user = api_tokens.user_for(store.shared(settings.db).cursor(), token, f"{request.method} {request.url.path}")
    if user is None:
        raise HTTPException(401, "Mã truy cập API không đúng, đã hết hạn hoặc đã bị thu hồi.",
                            headers={"WWW-Authenticate": "Bearer"})
    return Caller(user)


Who = Annotated[Caller, Depends(caller)]


def create_api(settings: ApiSettings) -> FastAPI:
    api = FastAPI(title="API bảng điều khiển KPI chuyển đổi số", version="1",
                  description="Số liệu KPI, tải dữ liệu lên và lịch sử tải lên, theo đúng phạm vi của tài khoản.",
                  docs_url="/docs", openapi_url="/openapi.json", redoc_url=None)
    api.state.settings = settings
    api.add_middleware(BodyLimit, limit=settings.max_body_bytes)

    def cursor():
        return store.shared(settings.db).cursor()

    @api.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())[1:]) or "yêu cầu" for e in exc.errors()[:5])
        return JSONResponse({"detail": f"Tham số không hợp lệ hoặc thiếu: {where}."}, status_code=400)

    @api.exception_handler(accounts.AccessDenied)
    async def _denied(request: Request, exc: accounts.AccessDenied):
        return JSONResponse({"detail": str(exc)}, status_code=403)


    @api.get("/v1/health", summary="Máy chủ còn hoạt động")
    def health():
        return {"status": "ok", "data_version": list(data_version(cursor()))}

    @api.get("/v1/kpi", summary="Chỉ tiêu KPI, đúng như `python -m kpi` in ra")
    def kpi(who: Who, period: str, unit: str | None = None, by: str | None = None,
            kpi: Annotated[list[str] | None, Query()] = None, format: str = "json", today: str | None = None):
        try:
            as_of = date.fromisoformat(today) if today else settings.today()
        except ValueError:
            raise HTTPException(400, f"Ngày «{today}» không hợp lệ (dạng 2025-12-31).") from None
        try:
            text = kpi_text(cursor(), period=period, unit=unit, by=by, kpis=kpi, today=as_of, user=who.user,
                            format=format)
        except KpiRequestError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        return Response(text, media_type=MEDIA[format])

    @api.post("/v1/uploads", summary="Tải một hoặc nhiều tệp lên (mỗi tệp một giao dịch)")
    def upload(who: Who, files: Annotated[list[UploadFile], File()],
               kind: Annotated[str | None, Form()] = None, province: Annotated[str | None, Form()] = None,
               period: Annotated[str | None, Form()] = None, unit: Annotated[str | None, Form()] = None,
               user: Annotated[str | None, Form()] = None) -> list[dict]:
        if kind is not None and kind not in sources.KINDS:
            raise HTTPException(400, f"Loại tệp «{kind}» không hỗ trợ (chọn: {', '.join(sources.KINDS)}).")
        # Only the operator names who loaded (like the CLI's --user); a token's account is itself.
        loaded_by = (user or None) if who.operator else who.name
        results = []
        folder = Path(tempfile.mkdtemp(prefix=UPLOAD_PREFIX))
        try:
            for index, item in enumerate(files):
                name = safe_name(item.filename)
                path = folder / str(index) / name
                path.parent.mkdir()
                with path.open("wb") as out:
                    shutil.copyfileobj(item.file, out, 1 << 20)
                try:
                    with accounts.acting_as(who.user):
                        result = sources.load_file(cursor(), path, kind=kind, province=province, period=period,
                                                   user=loaded_by, unit=unit)
                    results.append(result.summary())
                except LoadError as exc:
                    results.append({"file": name, "error": str(exc)})
                finally:
                    path.unlink(missing_ok=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return plain(results)

    @api.get("/v1/uploads", summary="Lịch sử tải lên mà tài khoản được xem")
    def uploads(who: Who, unit: str | None = None, limit: int = 200) -> list[dict]:
        con = cursor()
        if unit:
            accounts.check_view(con, who.user, unit)
        rows = history.visible_history(con, who.user, unit=unit, limit=min(max(limit, 1), 5000))
        return [{k: (v.isoformat(timespec="seconds") if isinstance(v, datetime) else v) for k, v in r.items()}
                for r in rows]

    @api.post("/v1/uploads/{batch_id}/undo", summary="Hoàn tác một lần tải lên")
    def undo(who: Who, batch_id: int) -> dict:
        try:
            with accounts.acting_as(who.user):
                counts = undo_batch(cursor(), batch_id, user=who.name)
        except UndoError as exc:
            raise HTTPException(409 if "đã được hoàn tác" in str(exc) else 404, str(exc)) from None
        return {"batch_id": batch_id, **counts}

    def admin_only(who: Caller) -> None:
        if who.user is not None and who.user.role != "admin":
            raise HTTPException(403, f"Tài khoản «{who.user.username}» không phải quản trị viên.")

    @api.post("/v1/backups", summary="Sao lưu toàn bộ kho (quản trị)")
    def make_backup(who: Who, out: Annotated[str | None, Form()] = None) -> dict:
        admin_only(who)
        if who.user is not None and who.user.unit_code is not None:
            raise HTTPException(403, "Chỉ quản trị viên toàn hệ thống được sao lưu toàn bộ kho.")
        if out and not who.operator:
            raise HTTPException(403, "Chỉ người vận hành trên máy chủ được chọn thư mục sao lưu.")
        target = Path(out) if out else (settings.backup_dir or settings.db.parent / "backups") / \
            datetime.now().strftime("kpi-%Y%m%d-%H%M%S")
        try:
            manifest = backup.create(cursor(), target)
        except backup.BackupError as exc:
            raise HTTPException(400, str(exc)) from None
        return plain({"folder": str(target), **manifest})

    @api.post("/v1/lake/export", summary="Xuất kho ra thư mục Parquet của kho dữ liệu quốc gia (người vận hành)")
    def lake_export(who: Who, out: Annotated[str, Form()]) -> dict:
        if not who.operator:  # a folder on the server's disk: only the operator on that machine
            raise HTTPException(403, "Chỉ người vận hành trên máy chủ được xuất kho dữ liệu quốc gia.")
        try:
            return lake.export(cursor(), Path(out))
        except sqlquote.UnsafeSQLText as exc:
            raise HTTPException(400, str(exc)) from None

    @api.get("/v1/sources", summary="Các nguồn SQL, lịch kéo và các lần chạy (quản trị)")
    def sql_sources(who: Who) -> dict:
        admin_only(who)
        con = cursor()
        return plain({"sources": sources_status(con), "schedules": jobs.schedules(con), "runs": jobs.runs(con, 50)})

    def mail_now(now: str | None) -> datetime:
        try:
            return datetime.fromisoformat(now) if now else datetime.now()
        except ValueError:
            raise HTTPException(400, f"Thời điểm «{now}» không hợp lệ.") from None

    @api.post("/v1/mail/send", summary="Gửi báo cáo của một đơn vị cho một kỳ (quản trị), như `python -m reports send`")
    def mail_send(who: Who, unit: Annotated[str, Form()], period: Annotated[str, Form()],
                  to: Annotated[str | None, Form()] = None, dry_run: Annotated[bool, Form()] = False,
                  now: Annotated[str | None, Form()] = None) -> dict:
        admin_only(who)
        con = cursor()
        accounts.check_view(con, who.user, unit)
        try:
            code, text = commands.send(con, unit, period, to or None, dry_run, mail_now(now))
        except (PeriodError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from None
        return {"code": code, "text": text}

    @api.post("/v1/mail/reminders", summary="Gửi các thư nhắc hạn đến hạn (quản trị toàn hệ thống), như "
                                            "`python -m reports reminders`")
    def mail_reminders(who: Who, dry_run: Annotated[bool, Form()] = False,
                       now: Annotated[str | None, Form()] = None) -> dict:
        admin_only(who)
        if who.user is not None and who.user.unit_code is not None:
            raise HTTPException(403, "Chỉ quản trị viên toàn hệ thống được gửi thư nhắc hạn của mọi đơn vị.")
        code, text = commands.reminders(cursor(), dry_run, mail_now(now))
        return {"code": code, "text": text}

    @api.post("/v1/sources/{name}/run", status_code=202,
              summary="Đưa một nguồn đã đặt lịch vào hàng đợi của bộ lập lịch ngay (quản trị)")
    def run_scheduled(who: Who, name: str) -> dict:
        admin_only(who)
        if settings.queue_pull is None:
            raise HTTPException(503, "Bộ lập lịch của máy chủ đang tắt.")
        try:
            settings.queue_pull(name)
        except ValueError as exc:  # ScheduleError: no such scheduled source
            raise HTTPException(404, str(exc)) from None
        return {"queued": name}

    @api.post("/v1/sources/pull", summary="Kéo dữ liệu từ một nguồn SQL ngay (quản trị)")
    def pull_now(who: Who, config: Annotated[str | None, Form()] = None, name: Annotated[str | None, Form()] = None,
                 full: Annotated[bool, Form()] = False, user: Annotated[str | None, Form()] = None) -> dict:
        admin_only(who)
        if config and not who.operator:
            raise HTTPException(403, "Chỉ người vận hành trên máy chủ được chỉ định tệp cấu hình; hãy dùng tên nguồn.")
        if not config:
            known = {s["name"]: s["config_file"] for s in jobs.schedules(cursor())}
            if name not in known or settings.sources_dir is None:
                raise HTTPException(404, f"Không có nguồn SQL đã đặt lịch tên «{name}».")
            config = str(settings.sources_dir / known[name])
        try:
            source = load_config(config)
            with accounts.acting_as(who.user):
                result = pull(cursor(), source, user=(user or None) if who.operator else who.name, full=full,
                              today=settings.today())
        except LoadError as exc:
            return {"file": Path(config).name, "error": str(exc)}
        return plain(result.summary() | {"since_mark": result.since_mark, "watermark_mark": result.watermark_mark})

    return api


class BodyLimit:
    """Refuses a request body over `limit` bytes with 413, whether it declares its length or
    streams it: the count is kept as the body arrives, before anything is parsed or spooled.
    A streamed body that goes over is cut there (the app sees its end) and whatever the app
    then answers is replaced by the 413."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            return await self._refuse(scope, receive, send)
        seen, over = 0, False

        async def counted():
            nonlocal seen, over
            if over:
                return {"type": "http.request", "body": b"", "more_body": False}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    over = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            return message

        async def guarded(message):
            if not over:
                await send(message)
            elif message["type"] == "http.response.start":
                await self._refuse(scope, receive, send)

        await self.app(scope, counted, guarded)

    async def _refuse(self, scope, receive, send):
        response = JSONResponse({"detail": f"Yêu cầu quá lớn: tối đa {number(self.limit / 1_000_000, 1)} MB."},
                                status_code=413)
        await response(scope, receive, send)
