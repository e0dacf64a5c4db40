"""Scheduled pulls of SQL sources inside the server (APScheduler), while the pages serve.

An admin sets, per source config file in the sources folder ($KPI_SOURCES, default
`<store folder>/sources`), a cron expression (5 fields: minute hour day month weekday, in
the server's local time) on the admin page (store/jobs.py). Each source is its own job on a
small thread pool, so a slow or failing source never blocks the others; a job never runs
twice at once and missed runs are coalesced into one. A failed pull is recorded with its
Vietnamese error and retried after 1, 2, 4 ... minutes (at most RETRIES times), then waits
for its next scheduled time. Every run is a row of `job_runs` (time, rows, rejected, error).

A pull is one transaction and its watermark is saved only after the dossiers are committed
(loaders/sql_source.py), so a server killed mid-pull leaves the store as before that batch
and the next pull brings what was missed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from loaders.files import LoadError
from loaders.sql_source import load_config, pull
from store import accounts, jobs
from store import db as store

log = logging.getLogger(__name__)
RETRIES = 3
FIRST_RETRY = timedelta(minutes=1)
CONFIG_SUFFIXES = (".toml", ".json")


class ScheduleError(ValueError):
    """Vietnamese message: why a schedule cannot be saved."""


def parse_cron(text: str) -> CronTrigger:
    """A 5-field cron expression, or ScheduleError naming what is wrong."""
    fields = (text or "").split()
    if len(fields) != 5:
        raise ScheduleError("Lịch phải có đúng 5 trường: phút giờ ngày tháng thứ (ví dụ «30 1 * * *»: 1 giờ 30 mỗi ngày).")
    try:
        return CronTrigger.from_crontab(" ".join(fields))
    except ValueError as exc:
        raise ScheduleError(f"Lịch «{text}» không hợp lệ: {exc}") from None


def config_files(folder: Path | None) -> list[str]:
    """Source config files an admin may schedule (names only, inside the sources folder)."""
    if folder is None or not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix in CONFIG_SUFFIXES)


def save(con, by: accounts.User | None, folder: Path | None, config_file: str, cron: str, enabled: bool = True) -> str:
    """Check and store a schedule; returns the source's name (its config's `name`)."""
    if config_file not in config_files(folder):
        raise ScheduleError(f"Không có tệp cấu hình «{config_file}» trong thư mục nguồn của máy chủ.")
    parse_cron(cron)
    try:
        source = load_config(folder / config_file)
    except LoadError as exc:
        raise ScheduleError(str(exc)) from None
    jobs.set_schedule(con, by, source.name, config_file, " ".join(cron.split()), enabled)
    return source.name


class Scheduler:
    """The server's scheduler: `start()`, `reload()` after a schedule changes, `stop()`."""

    def __init__(self, db: Path, folder: Path | None, today: Callable[[], date] = date.today,
                 retry_base: timedelta = FIRST_RETRY, mail_minutes: float = 5):
        self.db, self.folder, self.today, self.retry_base = db, folder, today, retry_base
        self.mail_minutes = mail_minutes
        self._scheduler = BackgroundScheduler(executors={"default": ThreadPoolExecutor(2)},
                                              job_defaults={"coalesce": True, "max_instances": 1,
                                                            "misfire_grace_time": 3600})
        self._lock = threading.Lock()
        self._signature: tuple = ()

    def start(self) -> Scheduler:
        self._scheduler.start()
        self.reload()
        # Schedules changed elsewhere (another admin session, the API) are picked up every minute.
        self._scheduler.add_job(self.reload, "interval", minutes=1, id="reload", replace_existing=True)
        # Reminders and monthly reports due by e-mail (reports/delivery.py: an outbox, so a
        # restart never sends twice); nothing happens while no mail server is configured.
        self._scheduler.add_job(self.mail, "interval", minutes=self.mail_minutes, id="mail", replace_existing=True)
        return self

    def mail(self) -> None:
        from reports import delivery

        try:
            delivery.run_due(store.shared(self.db).cursor(), datetime.now())
        except Exception:  # noqa: BLE001 - the outbox records per message; this keeps the job alive
            log.exception("mail delivery failed")

    def stop(self) -> None:
        self._scheduler.shutdown(wait=False)

    def reload(self) -> None:
        with self._lock:
            wanted = [s for s in jobs.schedules(store.shared(self.db).cursor()) if s["enabled"]]
            signature = tuple((s["name"], s["config_file"], s["cron"]) for s in wanted)
            if signature == self._signature:
                return
            for job in self._scheduler.get_jobs():
                if job.id.startswith("pull:"):
                    job.remove()
            for s in wanted:
                try:
                    trigger = parse_cron(s["cron"])
                except ScheduleError as exc:
                    log.warning("schedule %s: %s", s["name"], exc)
                    continue
                self._scheduler.add_job(self.run, trigger, args=[s["name"], s["config_file"]], id=f"pull:{s['name']}",
                                        replace_existing=True)
            self._signature = signature

    def run(self, name: str, config_file: str, attempt: int = 1) -> int:
        """One pull of a source, recorded; a failure schedules its retry. Returns the run id."""
        con = store.shared(self.db).cursor()
        run_id = jobs.start_run(con, "pull", name, attempt)
        try:
            if self.folder is None:
                raise LoadError("Máy chủ chưa có thư mục cấu hình nguồn SQL.")
            with accounts.acting_as(None):
                result = pull(con, load_config(self.folder / config_file), today=self.today())
        except Exception as exc:  # noqa: BLE001 - any failure is recorded, retried, and stops nothing else
            message = str(exc) if isinstance(exc, (LoadError, accounts.AccessDenied)) else \
                f"Lỗi khi kéo dữ liệu từ nguồn «{name}»: {type(exc).__name__}: {exc}"
            retry_at = None
            if attempt <= RETRIES:
                retry_at = datetime.now() + self.retry_base * (2 ** (attempt - 1))
                self._scheduler.add_job(self.run, DateTrigger(retry_at), args=[name, config_file, attempt + 1],
                                        id=f"retry:{name}", replace_existing=True)
            jobs.finish_run(con, run_id, "failed", error=message[:2000], next_try_at=retry_at)
            log.warning("pull %s failed (attempt %d): %s", name, attempt, message)
            return run_id
        jobs.finish_run(con, run_id, "ok", rows_read=result.rows_read, loaded=result.loaded,
                        rejected=len(result.rejected), batch_id=result.batch_id)
        return run_id

    def run_now(self, name: str) -> None:
        """Queue one pull of a scheduled source at once (the admin page's button)."""
        known = {s["name"]: s["config_file"] for s in jobs.schedules(store.shared(self.db).cursor())}
        if name not in known:
            raise ScheduleError(f"Không có nguồn SQL đã đặt lịch tên «{name}».")
        self._scheduler.add_job(self.run, args=[name, known[name]], id=f"now:{name}", replace_existing=True)
