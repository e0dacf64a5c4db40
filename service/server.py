"""The one server process that owns the store: `python -m service [streamlit options]`
(what `make run` starts).

Streamlit's ASGI app (`st.App`, Starlette) serves the pages; in the same process and on the
same port it mounts the HTTP API at /api (service/api.py, FastAPI: /api/docs), the cookie
login's two routes (/auth/session, /auth/logout), the scheduler of SQL pulls
(service/scheduler.py) and the inbox watcher (service/inbox.py). While it runs it announces
itself next to the store (store/remote.py), so the CLIs go through its API instead of
failing on DuckDB's one-writer lock.

Settings (environment): KPI_DB (the store), KPI_INBOX (inbox root, default
`<store folder>/inbox`), KPI_INBOX_POLL (seconds, default 5), KPI_SOURCES (SQL source
configs, default `<store folder>/sources`), KPI_BACKUPS (default `<store folder>/backups`),
KPI_API_MAX_MB (largest API request, default Streamlit's server.maxUploadSize),
KPI_SCHEDULER=off / KPI_INBOX=off to disable, KPI_MAIL_MINUTES (how often due e-mail is
sent, default 5), KPI_SECURE_COOKIE=1 behind HTTPS.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware
from starlette.routing import Mount

from kpi.periods import today
from service import web_session
from service.addresses import PageAddresses
from service.api import ApiSettings, create_api
from service.inbox import Inbox
from service.scheduler import Scheduler
from store import db as store
from store import jobs, remote

log = logging.getLogger(__name__)
APP = Path(__file__).resolve().parent.parent / "app.py"

try:  # a shared deep link opened first after a restart must not meet the old pages/ folder mode
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False
except ImportError:  # a later Streamlit without the flag: nothing to work around
    pass


def _folder(env: str, db: Path, default: str) -> Path | None:
    value = os.environ.get(env, "")
    if value.strip().lower() == "off":
        return None
    return Path(value) if value else db.parent / default


class Runtime:
    """What the server runs beside the pages, started and stopped by the app's lifespan."""

    def __init__(self, db: Path):
        self.db = db
        self.link: remote.Server | None = None
        self.scheduler: Scheduler | None = None
        self.inbox: Inbox | None = None
        self.sources_dir = _folder("KPI_SOURCES", db, "sources")
        self.inbox_dir = _folder("KPI_INBOX", db, "inbox")

    def start(self, url: str) -> None:
        con = store.shared(self.db).cursor()
        interrupted = jobs.interrupt_running(con)
        if interrupted:
            log.warning("%d job runs were interrupted by the last stop", interrupted)
        web_session.enable(self.db, web_session.secret_for(con), secure=os.environ.get("KPI_SECURE_COOKIE") == "1")
        if os.environ.get("KPI_SCHEDULER", "").lower() != "off":
            self.scheduler = Scheduler(self.db, self.sources_dir, today=today,
                                       mail_minutes=float(os.environ.get("KPI_MAIL_MINUTES") or 5)).start()
        if self.inbox_dir is not None:
            self.inbox = Inbox(self.db, self.inbox_dir, today=today).start(
                every=float(os.environ.get("KPI_INBOX_POLL") or 5))
        self.link = remote.announce(self.db, url)  # last: the CLIs come only once all is ready

    def queue_pull(self, name: str) -> None:
        if self.scheduler is None:
            raise ValueError("Bộ lập lịch của máy chủ đang tắt.")
        self.scheduler.run_now(name)

    def stop(self) -> None:
        if self.link:
            remote.withdraw(self.db, self.link)
        if self.scheduler:
            self.scheduler.stop()
        if self.inbox:
            self.inbox.stop()


RUNTIME: Runtime | None = None  # the running server's (the admin page reads its scheduler)


def _max_body(config) -> int:
    mb = os.environ.get("KPI_API_MAX_MB") or config.get_option("server.maxUploadSize")
    return int(float(mb) * 1_000_000)


def build(db: Path) -> st.App:
    from streamlit import config

    global RUNTIME
    runtime = RUNTIME = Runtime(db)
    settings = ApiSettings(db=db, operator_secret=lambda: runtime.link.secret if runtime.link else None,
                           max_body_bytes=_max_body(config), today=today,
                           backup_dir=_folder("KPI_BACKUPS", db, "backups"), sources_dir=runtime.sources_dir,
                           queue_pull=runtime.queue_pull)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        address = config.get_option("server.address") or "127.0.0.1"
        host = "127.0.0.1" if address in ("0.0.0.0", "::", "") else address
        runtime.start(f"http://{host}:{config.get_option('server.port')}")
        try:
            yield
        finally:
            runtime.stop()

    base = config.get_option("server.baseUrlPath") or ""
    return st.App(APP, routes=[Mount("/api", app=create_api(settings)), *web_session.ROUTES], lifespan=lifespan,
                  middleware=[Middleware(PageAddresses, base=base)])


def _options(argv: list[str]) -> dict:
    """`--server.port 8501 --server.headless true` → {"server.port": 8501, ...}."""
    options, items = {}, list(argv)
    while items:
        key = items.pop(0)
        if not key.startswith("--") or not items:
            raise SystemExit(f"Tham số không hợp lệ: {key}")
        value: object = items.pop(0)
        if value in ("true", "false"):
            value = value == "true"
        elif str(value).isdigit():
            value = int(value)
        options[key[2:]] = value
    return options


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    options = {"browser.gatherUsageStats": False, "client.showErrorDetails": "none",
               **_options(sys.argv[1:] if argv is None else argv)}
    db = store.db_path(None).resolve()
    build(db).run(config=options)
    return 0
