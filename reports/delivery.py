"""Delivery of reminders and monthly reports by e-mail, through an outbox in the store.

Two steps, so that a restart never sends a message twice:
  1. generate: what is due now (`plan`) becomes rows of `mail_outbox` with status
     'pending', in ONE transaction; a row's unique key (kind, unit, period or deadline,
     recipient) makes a message generated again (the next run, a restart) no new row.
  2. send: each pending row whose `next_try_at` has come is claimed (its `next_try_at` moved
     CLAIM_MINUTES ahead in a short transaction, so that a second sender skips it), sent, and
     marked 'sent'; a failure is recorded in Vietnamese (`last_error`) and retried with
     backoff (BACKOFF_MINUTES) until MAX_ATTEMPTS, then marked 'failed'. A process killed
     after the SMTP server accepted a message but before the row was marked sends it again
     after the claim expires (at least once); every try of a row carries the same Message-ID
     so that mail clients drop such a copy.
`run_due(con, now)` does both and is what a scheduler calls periodically (it generates nothing
while no SMTP server is configured, so nothing stale piles up); `send_now`, `preview` (dry
run) and `retry_failed` serve the admin page and the CLI (`python -m reports`).

What is due (`plan`), per unit with an active schedule (`mail_schedule`, set on the page):
  * the monthly report of the month before, from the schedule's day of the month on (catching
    up when the scheduler was stopped on that day), Excel + PDF from reports/builder.py,
    figures as of the period's end;
  * each reminder (reports/reminders.py) of the scheduled unit (a province: with its communes)
    that the recipient may see, from `remind_days` before its deadline to the deadline, and
    each missing-upload reminder of the month, once.
Recipients: the active accounts with an e-mail address and one of the schedule's roles whose
unit is the scheduled unit or, for a province, one of its communes. Each receives only what
their scope allows (store.accounts.visible_units): the report of their own unit (an officer
the report of their commune only) and the reminders of units they may see.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import polars as pl

from kpi import format as fmt
from kpi.periods import Period, latest_complete_month, parse
from kpi.units import unit_name
from reports import builder, excel, mail, pdf, reminders
from store import accounts
from store import db as store

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF_MINUTES = (1, 5, 15, 60, 240)   # wait after the 1st, 2nd, … failed try (the last repeats)
CLAIM_MINUTES = 10                      # a claimed row is tried again after this if its sender died
DEFAULT_REMIND_DAYS = 3
DEFAULT_ROLES = ("admin", "leader", "officer")
KINDS = {"report": "Báo cáo tháng", "reminder": "Nhắc hạn", "manual": "Gửi ngay", "test": "Thư thử"}
STATUS = {"pending": "Chờ gửi", "sent": "Đã gửi", "failed": "Gửi thất bại"}
_RUN_LOCK = threading.Lock()


@dataclass(frozen=True)
class Recipient:
    user: accounts.User
    email: str


@dataclass(frozen=True)
class Planned:
    """One message to generate (an outbox row to be)."""
    kind: str
    unit_code: str
    subject_key: str
    recipient: str
    username: str | None
    subject: str
    body: str
    period: str | None = None


@dataclass
class Summary:
    generated: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [f"đã tạo {fmt.number(self.generated)} thư", f"đã gửi {fmt.number(self.sent)}"]
        if self.retrying:
            parts.append(f"{fmt.number(self.retrying)} thư sẽ gửi lại")
        if self.failed:
            parts.append(f"{fmt.number(self.failed)} thư thất bại hẳn")
        return "; ".join(parts).capitalize() + "."


# --- recipients and schedules ------------------------------------------------------------------------

def set_email(con, username: str, email: str | None) -> None:
    """Set (or clear, with '' / None) an account's e-mail address. ValueError in Vietnamese."""
    email = (email or "").strip() or None
    if email is not None and not mail.valid_email(email):
        raise ValueError(f"Địa chỉ thư «{email}» không hợp lệ.")
    with store.write_transaction(con):
        if not con.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchall()[0][0]:
            raise ValueError(f"Không có tài khoản «{username}».")
        con.execute("UPDATE users SET email = ? WHERE username = ?", [email, username])


def addresses(con, viewer: accounts.User) -> pl.DataFrame:
    """The accounts an admin manages (accounts.users_in_scope) with their e-mail addresses."""
    users = accounts.users_in_scope(con, viewer)
    emails = store.query_pl(con, "SELECT username, email FROM users")
    return users.join(emails, on="username", how="left").select("username", "full_name", "role", "unit_code",
                                                                 "email", "active")


def recipients(con, unit_code: str, roles=DEFAULT_ROLES) -> list[Recipient]:
    """Active accounts with an e-mail address and one of `roles` whose unit is `unit_code` or
    (a province) one of its communes, by unit then name."""
    rows = con.execute(
        """SELECT u.username, u.full_name, u.role, u.unit_code, u.grants, u.email FROM users u
           JOIN units n ON n.code = u.unit_code
           WHERE u.active AND u.email IS NOT NULL AND list_contains(?::VARCHAR[], u.role)
             AND (u.unit_code = ? OR (n.province_code = ? AND n.level = 'commune'))
           ORDER BY u.unit_code, u.username""", [list(roles), unit_code, unit_code]).fetchall()
    return [Recipient(accounts.User(n, f or "", r, c, tuple(g or ())), e) for n, f, r, c, g, e in rows]


def schedules(con) -> pl.DataFrame:
    return store.query_pl(con, "SELECT s.*, u.full_name AS unit_name FROM mail_schedule s "
                               "LEFT JOIN units u ON u.code = s.unit_code ORDER BY s.unit_code")


def save_schedule(con, unit_code: str, report_day: int | None, remind_days: int = DEFAULT_REMIND_DAYS,
                  roles=DEFAULT_ROLES, active: bool = True) -> None:
    """Add or replace a unit's schedule. ValueError in Vietnamese."""
    if not con.execute("SELECT count(*) FROM units WHERE code = ?", [unit_code]).fetchall()[0][0]:
        raise ValueError(f"Mã đơn vị «{unit_code}» không có trong danh mục đơn vị hành chính.")
    if report_day is not None and not 1 <= int(report_day) <= 28:
        raise ValueError("Ngày gửi báo cáo tháng phải từ 1 đến 28.")
    if not 0 <= int(remind_days) <= 60:
        raise ValueError("Số ngày nhắc trước hạn phải từ 0 đến 60.")
    unknown = [r for r in roles if r not in accounts.ROLES]
    if unknown or not roles:
        raise ValueError("Cần chọn ít nhất một vai trò nhận thư hợp lệ.")
    with store.write_transaction(con):
        con.execute("INSERT OR REPLACE INTO mail_schedule VALUES (?, ?, ?, ?, ?)",
                    [unit_code, report_day, int(remind_days), list(roles), bool(active)])


def delete_schedule(con, unit_code: str) -> None:
    with store.write_transaction(con):
        con.execute("DELETE FROM mail_schedule WHERE unit_code = ?", [unit_code])


# --- what is due ---------------------------------------------------------------------------------------

def report_subject(con, unit_code: str, period: Period) -> str:
    return f"[KPI CĐS] Báo cáo kết quả chuyển đổi số {period.vi().lower()} — {unit_name(con, unit_code)}"


def _report_planned(con, kind: str, recipient: Recipient | None, to: str, unit_code: str, period: Period,
                    key: str) -> Planned:
    return Planned(kind, unit_code, key, to, recipient.user.username if recipient else None,
                   report_subject(con, unit_code, period),
                   "Báo cáo (tệp Excel và PDF) được lập khi gửi, số liệu tính đến hết kỳ.", period.label)


def _reminder_planned(rem: reminders.Reminder, recipient: Recipient) -> Planned:
    subject = f"[KPI CĐS] {rem.label}: {rem.unit_name} — {rem.when_text}"
    lines = [f"Kính gửi {recipient.user.full_name or recipient.user.username},", "",
             "Hệ thống KPI chuyển đổi số xin nhắc:", "", f"- {rem.text}"]
    if rem.missing_names and rem.level != "commune":
        lines.append(f"- Xã/phường chưa tải dữ liệu: {rem.names_text}.")
    lines += ["", "Thư này được gửi tự động, mỗi việc một lần; vui lòng không trả lời thư này."]
    return Planned("reminder", rem.unit_code, rem.key, recipient.email, recipient.user.username, subject,
                   "\n".join(lines))


def plan(con, now: datetime, kinds=("report", "reminder")) -> list[Planned]:
    """Every message due at `now` by the schedules (whether or not already in the outbox)."""
    today = now.date()
    out: list[Planned] = []
    for sched in schedules(con).filter(pl.col("active")).iter_rows(named=True):
        people = recipients(con, sched["unit_code"], sched["roles"])
        if "report" in kinds and sched["report_day"] and today.day >= sched["report_day"]:
            period = latest_complete_month(today)
            for r in people:
                out.append(_report_planned(con, "report", r, r.email, r.user.unit_code, period, period.label))
        if "reminder" in kinds and people:
            days = max(sched["remind_days"], 0)
            scope = accounts.visible_units(con, accounts.User("", "", "leader", sched["unit_code"]))
            pool = reminders.for_units(con, scope, today, window=days)
            for r in people:
                for rem in reminders.for_user(con, r.user, today, window=days, pool=pool):
                    if rem.kind == "missing_upload" or 0 <= rem.days_left <= days:
                        out.append(_reminder_planned(rem, r))
    return out


def _insert(con, rows: list[Planned], now: datetime) -> int:
    """Insert the rows not yet in the outbox (same unique key), in the caller's transaction."""
    added = 0
    for p in rows:
        got = con.execute(
            """INSERT INTO mail_outbox (id, kind, unit_code, subject_key, recipient, username, subject, body, period,
                   created_at, status, attempts, next_try_at)
               VALUES (nextval('mail_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)
               ON CONFLICT DO NOTHING RETURNING id""",
            [p.kind, p.unit_code, p.subject_key, p.recipient, p.username, p.subject, p.body, p.period, now, now],
        ).fetchall()
        added += len(got)
    return added


def generate(con, now: datetime, kinds=("report", "reminder")) -> int:
    """Step 1: the messages due now become 'pending' outbox rows, all in one transaction.
    Returns how many were new."""
    planned = plan(con, now, kinds)
    with store.write_transaction(con):
        return _insert(con, planned, now)


# --- sending -------------------------------------------------------------------------------------------

def _message_id(row: dict, settings: mail.Settings) -> str:
    key = "|".join(str(row[k]) for k in ("kind", "unit_code", "subject_key", "recipient"))
    domain = settings.sender.rpartition("@")[2] or "kpi-cds"
    return f"<kpi-cds-{row['id']}-{hashlib.sha256(key.encode()).hexdigest()[:16]}@{domain}>"


def report_files(con, unit_code: str, period_label: str, today: date) -> tuple[builder.Report, bytes, bytes]:
    """The report of a unit and period (figures as of the period's end, or today while it
    runs) as Excel and PDF, the same files as the Reports page."""
    report = builder.build(con, unit_code, parse(period_label), today,
                           tasks=builder.overdue_tasks(con, unit_code, today))
    return report, excel.to_xlsx(report), pdf.to_pdf(report)


def report_body(report: builder.Report, greeting: str) -> str:
    lines = [f"Kính gửi {greeting},", "",
             f"Hệ thống KPI chuyển đổi số gửi {report.heading[0].lower()}{report.heading[1:]} "
             f"(số liệu tính đến ngày {fmt.day(report.as_of)}).", ""]
    if not report.has_data:
        lines += [report.no_data_text, ""]
    lines.append("Các chỉ tiêu:")
    lines += [f"- {k.label}: {k.result_text} — {k.status_label}" for k in report.kpis]
    lines += ["", "Tệp đính kèm: báo cáo Excel (.xlsx) và PDF, cùng nội dung với trang «Báo cáo».",
              "", "Thư này được gửi tự động; vui lòng không trả lời thư này."]
    return "\n".join(lines)


def _build(con, row: dict, settings: mail.Settings, today: date, cache: dict):
    attachments = []
    body = row["body"]
    if row["kind"] in ("report", "manual"):
        user = accounts.account(con, row["username"]) if row["username"] else None
        if row["username"] and (user is None or not accounts.can_view(con, user, row["unit_code"])):
            raise mail.MailError(f"Tài khoản «{row['username']}» không còn được xem số liệu của đơn vị này "
                                 "(hoặc đã bị khóa): không gửi.")
        key = (row["unit_code"], row["period"])
        if key not in cache:
            cache[key] = report_files(con, row["unit_code"], row["period"], today)
        report, xlsx, pdf_bytes = cache[key]
        body = report_body(report, (user.full_name or user.username) if user else "Quý cơ quan")
        attachments = [(f"{report.file_stem}.xlsx", xlsx, mail.XLSX), (f"{report.file_stem}.pdf", pdf_bytes,
                                                                        "application/pdf")]
    return mail.compose(settings, row["recipient"], row["subject"], body, attachments, _message_id(row, settings))


def _claim(con, row_id: int, now: datetime) -> bool:
    with store.write_transaction(con):
        got = con.execute("UPDATE mail_outbox SET next_try_at = ? WHERE id = ? AND status = 'pending' "
                          "AND next_try_at <= ? RETURNING id",
                          [now + timedelta(minutes=CLAIM_MINUTES), row_id, now]).fetchall()
    return bool(got)


def _mark_sent(con, row_id: int, now: datetime) -> None:
    with store.write_transaction(con):
        con.execute("UPDATE mail_outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL "
                    "WHERE id = ?", [now, row_id])


def _mark_failed(con, row_id: int, attempts: int, error: str, now: datetime) -> str:
    """Record a failed try; 'pending' with the next try after the backoff, or 'failed'."""
    attempts += 1
    status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
    wait = BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1]
    with store.write_transaction(con):
        con.execute("UPDATE mail_outbox SET status = ?, attempts = ?, last_error = ?, next_try_at = ? WHERE id = ?",
                    [status, attempts, error, now + timedelta(minutes=wait), row_id])
    return status


def send_pending(con, now: datetime, ids: list[int] | None = None) -> Summary:
    """Step 2: send every pending row whose time has come (or only `ids`). One SMTP session for
    all; when the server is down or refuses the login, every row of this run records that
    reason and waits for its next try; nothing raises."""
    summary = Summary()
    where = "status = 'pending' AND next_try_at <= $now" + (" AND list_contains($ids, id)" if ids is not None else "")
    params = {"now": now} | ({"ids": list(ids)} if ids is not None else {})
    rows = store.query_pl(con, f"SELECT * FROM mail_outbox WHERE {where} ORDER BY id", params).to_dicts()
    if not rows:
        return summary
    settings, smtp, server_error, cache = mail.load_settings(con), None, None, {}
    try:
        secret = mail.password(con)
    except mail.MailError as exc:  # stored but not readable here: every row records why
        secret, server_error = None, exc
    try:
        for row in rows:
            if not _claim(con, row["id"], now):
                continue  # another sender has it
            try:
                if server_error is not None:
                    raise server_error
                msg = _build(con, row, settings, now.date(), cache)
                if smtp is None:
                    smtp = mail.connect(settings, secret)
                mail.send(smtp, msg, settings)
            except mail.MailError as exc:
                if exc.whole_server:
                    mail.close(smtp)
                    smtp, server_error = None, exc
                error = str(exc)
            except Exception:  # a report that could not be made: the others still go
                log.exception("mail_outbox %s: không lập được thư", row["id"])
                error = "Không lập được nội dung thư hoặc báo cáo (chi tiết trong nhật ký máy chủ)."
            else:
                _mark_sent(con, row["id"], now)
                summary.sent += 1
                continue
            status = _mark_failed(con, row["id"], row["attempts"], error, now)
            summary.retrying += status == "pending"
            summary.failed += status == "failed"
            if error not in summary.errors:
                summary.errors.append(error)
    finally:
        mail.close(smtp)
    return summary


def run_due(con, now: datetime | None = None, kinds=("report", "reminder")) -> Summary:
    """THE periodic job: generate what is due, then send every pending row whose time has come.
    Safe to call as often as wanted, and from two threads (one runs at a time)."""
    now = now or datetime.now()
    if not mail.load_settings(con).configured:  # nothing piles up to go out, stale, once configured
        return Summary(errors=["Chưa cấu hình máy chủ thư (địa chỉ máy chủ và người gửi): chưa tạo thư nào."])
    with _RUN_LOCK:
        generated = generate(con, now, kinds)
        summary = send_pending(con, now)
    summary.generated = generated
    return summary


def send_now(con, unit_code: str, period: str | Period, now: datetime | None = None, to: str | None = None,
             dry_run: bool = False, roles=DEFAULT_ROLES) -> tuple[list[Planned], Summary]:
    """Send a unit's report for a period now (the admin's button, `python -m reports send`):
    to `to` only, else to the unit's recipients (each their own unit's report). A new message
    every time (its key carries the moment). `dry_run`: only what would be sent."""
    now = now or datetime.now()
    period = parse(period) if isinstance(period, str) else period
    if not con.execute("SELECT count(*) FROM units WHERE code = ?", [unit_code]).fetchall()[0][0]:
        raise ValueError(f"Mã đơn vị «{unit_code}» không có trong danh mục đơn vị hành chính.")
    key = f"{period.label}@{now.isoformat(timespec='seconds')}"
    if to:
        if not mail.valid_email(to):
            raise ValueError(f"Địa chỉ thư «{to}» không hợp lệ.")
        planned = [_report_planned(con, "manual", None, to.strip(), unit_code, period, key)]
    else:
        planned = [_report_planned(con, "manual", r, r.email, r.user.unit_code, period, key)
                   for r in recipients(con, unit_code, roles)]
    if dry_run or not planned:
        return planned, Summary()
    with store.write_transaction(con):
        ids = [r[0] for p in planned for r in con.execute(
            """INSERT INTO mail_outbox (id, kind, unit_code, subject_key, recipient, username, subject, body, period,
                   created_at, status, attempts, next_try_at)
               VALUES (nextval('mail_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?)
               ON CONFLICT DO NOTHING RETURNING id""",
            [p.kind, p.unit_code, p.subject_key, p.recipient, p.username, p.subject, p.body, p.period, now, now],
        ).fetchall()]
    summary = send_pending(con, now, ids)
    summary.generated = len(ids)
    return planned, summary


def retry_failed(con, now: datetime | None = None) -> int:
    """Give the messages that failed for good (MAX_ATTEMPTS) a new series of tries, from now
    (the admin fixed the settings). Returns how many."""
    now = now or datetime.now()
    with store.write_transaction(con):
        return len(con.execute("UPDATE mail_outbox SET status = 'pending', attempts = 0, next_try_at = ? "
                               "WHERE status = 'failed' RETURNING id", [now]).fetchall())


def send_test(con, to: str, now: datetime | None = None) -> Summary:
    """A short test message through the current settings (the page's «Gửi thư thử»)."""
    now = now or datetime.now()
    if not mail.valid_email(to):
        raise ValueError(f"Địa chỉ thư «{to}» không hợp lệ.")
    row = Planned("test", "", now.isoformat(timespec="seconds"), to.strip(), None,
                  "[KPI CĐS] Thư thử cấu hình máy chủ thư",
                  "Thư thử từ hệ thống KPI chuyển đổi số: cấu hình máy chủ thư hoạt động.")
    with store.write_transaction(con):
        _insert(con, [row], now)
    ids = [r[0] for r in con.execute("SELECT id FROM mail_outbox WHERE kind = 'test' AND subject_key = ? "
                                     "AND recipient = ?", [row.subject_key, row.recipient]).fetchall()]
    return send_pending(con, now, ids)


def preview(con, now: datetime | None = None, kinds=("report", "reminder")) -> list[Planned]:
    """Dry run of run_due: the messages it would generate now that the outbox does not hold
    yet, then those already waiting whose time has come. Writes nothing."""
    now = now or datetime.now()
    held = {tuple(r) for r in con.execute(
        "SELECT kind, unit_code, subject_key, recipient FROM mail_outbox").fetchall()}
    new = [p for p in plan(con, now, kinds) if (p.kind, p.unit_code, p.subject_key, p.recipient) not in held]
    waiting = [Planned(r["kind"], r["unit_code"], r["subject_key"], r["recipient"], r["username"], r["subject"],
                       r["body"], r["period"])
               for r in store.query_pl(con, "SELECT * FROM mail_outbox WHERE status = 'pending' AND next_try_at <= $now "
                                            "ORDER BY id", {"now": now}).to_dicts()]
    return list({(p.kind, p.unit_code, p.subject_key, p.recipient): p for p in new + waiting}.values())


def outbox(con, units: set[str] | None = None, limit: int = 500) -> pl.DataFrame:
    """The delivery log, newest first (rows about `units` only, when given)."""
    where = "TRUE" if units is None else "(list_contains($units, unit_code) OR unit_code = '')"
    params = {"limit": int(limit)} | ({} if units is None else {"units": sorted(units)})
    return store.query_pl(con, f"SELECT * FROM mail_outbox WHERE {where} ORDER BY created_at DESC, id DESC "
                               "LIMIT $limit", params)


def log_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The delivery log as the admin page shows it, in Vietnamese."""
    def result(r: dict) -> str:
        if r["status"] == "sent":
            return f"Đã gửi lúc {r['sent_at']:%H:%M %d/%m/%Y}"
        if r["status"] == "failed":
            return f"Thất bại sau {r['attempts']} lần: {r['last_error'] or ''}"
        if r["attempts"]:
            return (f"Lỗi lần {r['attempts']}: {r['last_error'] or ''} — sẽ thử lại lúc "
                    f"{r['next_try_at']:%H:%M %d/%m/%Y}")
        return "Chờ gửi"

    rows = frame.to_dicts()
    return pl.DataFrame({
        "Thời điểm tạo": [f"{r['created_at']:%H:%M %d/%m/%Y}" for r in rows],
        "Loại": [KINDS.get(r["kind"], r["kind"]) for r in rows],
        "Gửi đến": [r["recipient"] for r in rows],
        "Nội dung": [r["subject"] for r in rows],
        "Trạng thái": ["Chờ gửi lại" if r["status"] == "pending" and r["attempts"] else
                       STATUS.get(r["status"], r["status"]) for r in rows],
        "Kết quả": [result(r) for r in rows],
    }, schema={c: pl.String for c in ("Thời điểm tạo", "Loại", "Gửi đến", "Nội dung", "Trạng thái", "Kết quả")})
