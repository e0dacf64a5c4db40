"""E-mail against a REAL SMTP server (aiosmtpd on 127.0.0.1, a free port), never a mock: the
monthly report arrives with its Excel and PDF, which open and carry `python -m kpi`'s figures;
an officer's copy holds only their commune; the outbox sends a generated message once across a
killed process; a server that refuses the login or is down leaves a Vietnamese error and
stops nothing else."""

from __future__ import annotations

import email
import email.policy
import io
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from pypdf import PdfReader

from kpi.definitions import KPIS
from loaders.dossiers import load_dossier_file
from reports import delivery, excel, mail
from store import accounts
from store import db as store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
NOW = datetime(2025, 12, 15, 8, 0)   # golden data: Sep–Nov 2025; the 15th: the schedule's day
SMTP_USER, SMTP_PASSWORD = "kpi-mailer", "mat-khau-smtp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd handler: keeps every message it accepted; refuses RCPT for `refuse`."""

    def __init__(self, refuse=()):
        self.messages: list[email.message.EmailMessage] = []
        self.refuse = set(refuse)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Hộp thư không tồn tại"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def authenticator(accept: bool):
    def check(server, session, envelope, mechanism, auth_data):
        ok = accept and isinstance(auth_data, LoginPassword) and (
            auth_data.login.decode(), auth_data.password.decode()) == (SMTP_USER, SMTP_PASSWORD)
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535
    return check


@pytest.fixture
def smtp_server():
    """Start real SMTP servers on 127.0.0.1: `start(accept_login=True, refuse=(), tls=None)` ->
    (inbox, port); `tls`: ("starttls" | "ssl", ssl.SSLContext) for an encrypted server."""
    started = []

    def start(accept_login: bool = True, refuse=(), tls=None):
        inbox, port = Inbox(refuse), free_port()
        kwargs = {}
        if tls and tls[0] == "starttls":
            kwargs = {"tls_context": tls[1], "require_starttls": True}
        elif tls:
            kwargs = {"ssl_context": tls[1]}
        controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator(accept_login),
                                auth_require_tls=False, **kwargs)
        controller.start()
        started.append(controller)
        return inbox, port

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def db(tmp_path, monkeypatch):
    """A store file: the golden dossiers (province 40: Nghĩa Thọ 16969, Vân Tụ 17611), a leader of
    the province and an officer of each commune with e-mail addresses (Vân Tụ's officer has none)."""
    monkeypatch.delenv(mail.PASSWORD_ENV, raising=False)
    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    load_dossier_file(con, FIXTURES / "golden.csv", province="40")
    accounts.create_user(con, "lanhdao", "matkhau-lanhdao", "leader", "40", "Lãnh đạo tỉnh", email="lanhdao@tinh.vn")
    accounts.create_user(con, "canbo.nt", "matkhau-canbo1", "officer", "16969", "Cán bộ Nghĩa Thọ")
    delivery.set_email(con, "canbo.nt", "canbo.nt@xa.vn")
    accounts.create_user(con, "canbo.vt", "matkhau-canbo2", "officer", "17611", "Cán bộ Vân Tụ")
    yield con, path
    con.close()


def configure(con, port: int, username: str = SMTP_USER, secret: str | None = SMTP_PASSWORD) -> None:
    mail.save_settings(con, mail.Settings("127.0.0.1", port, "none", username, "kpi@tinh.vn"), secret)


def attachments(msg) -> dict[str, bytes]:
    return {part.get_filename(): part.get_content() for part in msg.iter_attachments()}


def kpi_cli(path: Path, unit: str, period: str) -> dict[str, dict]:
    out = subprocess.run([sys.executable, "-m", "kpi", "--db", str(path), "--unit", unit, "--period", period,
                          "--format", "json"], cwd=ROOT, capture_output=True, text=True, check=True)
    return {r["kpi"]: r for r in json.loads(out.stdout) if r["unit_code"] == unit}


def kpi_rows(xlsx: bytes) -> dict[str, list]:
    """Section I of the report's Excel: KPI label -> its row."""
    ws = openpyxl.load_workbook(io.BytesIO(xlsx))[excel.SHEETS[0]]
    labels = {d.label for d in KPIS.values()}
    return {r[1]: list(r) for r in ws.iter_rows(values_only=True) if r[1] in labels}


def test_monthly_report_arrives_with_both_files_and_kpi_cli_figures(db, smtp_server):
    con, path = db
    inbox, port = smtp_server()
    configure(con, port)
    delivery.save_schedule(con, "40", report_day=15, remind_days=3, roles=("leader", "officer"))

    summary = delivery.run_due(con, NOW, kinds=("report",))
    assert (summary.generated, summary.sent, summary.retrying, summary.failed) == (2, 2, 0, 0)
    assert sorted(m["To"] for m in inbox.messages) == ["canbo.nt@xa.vn", "lanhdao@tinh.vn"]
    con.close()  # `python -m kpi` opens the store file itself

    for address, unit in (("lanhdao@tinh.vn", "40"), ("canbo.nt@xa.vn", "16969")):
        (msg,) = inbox.to(address)
        files = attachments(msg)
        assert sorted(files) == [f"bao_cao_CDS_{unit}_2025-11.pdf", f"bao_cao_CDS_{unit}_2025-11.xlsx"]
        # The Excel opens and its section I carries the CLI's figures for that unit and period.
        expected = kpi_cli(path, unit, "2025-11")
        rows = kpi_rows(files[f"bao_cao_CDS_{unit}_2025-11.xlsx"])
        assert rows
        for kpi, row in expected.items():
            line = rows.get(KPIS[kpi].label)
            if line is None:
                assert row["value"] is None  # a catalogue/archive KPI without any data is left out
                continue
            shown = line[4] if isinstance(line[4], str) else KPIS[kpi].format(line[4])
            assert shown == KPIS[kpi].format(row["value"]), kpi
            if row["value"] is not None and row["denominator"] is not None and KPIS[kpi].kind != "count":
                assert (line[5], line[6]) == (row["numerator"], row["denominator"]), kpi
        # The PDF opens and shows the headline figure as the CLI computes it.
        pdf_text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(
            files[f"bao_cao_CDS_{unit}_2025-11.pdf"])).pages)
        full = expected["full_online_rate"]
        assert KPIS["full_online_rate"].format(full["value"]) in pdf_text
        assert "tháng 11/2025" in msg["Subject"]
        assert KPIS["full_online_rate"].format(full["value"]) in msg.get_body(("plain",)).get_content()


def test_officer_copy_holds_only_their_commune(db, smtp_server):
    con, _ = db
    inbox, port = smtp_server()
    configure(con, port)
    delivery.save_schedule(con, "40", report_day=15, roles=("officer",))
    delivery.run_due(con, NOW, kinds=("report",))
    (msg,) = inbox.messages  # Vân Tụ's officer has no address; the leader's role is not chosen
    assert msg["To"] == "canbo.nt@xa.vn"
    files = attachments(msg)
    book = openpyxl.load_workbook(io.BytesIO(files["bao_cao_CDS_16969_2025-11.xlsx"]))
    cells = " ".join(str(v) for ws in book for row in ws.iter_rows(values_only=True) for v in row if v is not None)
    pdf_text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(files["bao_cao_CDS_16969_2025-11.pdf"])).pages)
    body = msg.get_body(("plain",)).get_content()
    for text in (cells, pdf_text, body):
        assert "Nghĩa Thọ" in text
        assert "Vân Tụ" not in text and "17611" not in text and "Tỉnh Nghệ An" not in text


def test_a_second_run_sends_nothing_and_a_rerun_of_generate_adds_nothing(db, smtp_server):
    con, _ = db
    inbox, port = smtp_server()
    configure(con, port)
    delivery.save_schedule(con, "40", report_day=15, roles=("leader",))
    assert delivery.run_due(con, NOW, kinds=("report",)).sent == 1
    again = delivery.run_due(con, NOW.replace(day=20), kinds=("report",))
    assert (again.generated, again.sent) == (0, 0)
    assert len(inbox.messages) == 1
    # Before the schedule's day nothing of the month is due.
    assert delivery.plan(con, datetime(2026, 1, 14, 9), kinds=("report",)) == []


KILLER = textwrap.dedent("""
    import os, sys
    from datetime import datetime
    from reports import delivery
    from store import db as store
    con = store.connect(sys.argv[1])
    n = delivery.generate(con, datetime.fromisoformat(sys.argv[2]))
    print(n, flush=True)
    os.kill(os.getpid(), 9)   # killed after the pending rows were committed, before any send
""")


def test_killed_between_generated_and_sent_sends_once(db, smtp_server):
    con, path = db
    inbox, port = smtp_server()
    configure(con, port)
    delivery.save_schedule(con, "40", report_day=15, remind_days=3, roles=("leader", "officer"))
    con.close()
    proc = subprocess.run([sys.executable, "-c", KILLER, str(path), NOW.isoformat()], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    generated = int(proc.stdout.strip())
    assert generated >= 2 and inbox.messages == []

    con = store.connect(path)  # the restart
    try:
        pending = con.execute("SELECT count(*) FROM mail_outbox WHERE status = 'pending'").fetchall()[0][0]
        assert pending == generated
        first = delivery.run_due(con, NOW)
        assert (first.generated, first.sent) == (0, generated)
        second = delivery.run_due(con, NOW)
        assert (second.generated, second.sent) == (0, 0)
        assert len(inbox.messages) == generated
        keys = [(m["To"], m["Subject"]) for m in inbox.messages]
        assert len(set(keys)) == len(keys)
    finally:
        con.close()


@pytest.mark.parametrize("subject", [
    "[KPI CĐS] Thư thử cấu hình máy chủ thư",
    "[KPI CĐS] Nhắc hạn: Phường Đồng Phú — còn 2 ngày (hạn 10/12/2025) Hạn báo cáo quý thử cấu hình máy chủ thư",
])
def test_vietnamese_subjects_keep_their_spaces(subject):
    """Python 3.11's default folding dropped the space between two encoded words («máy chủthư»)."""
    msg = mail.compose(mail.Settings("h", 25, "none", "", "kpi@tinh.vn"), "a@xa.vn", subject, "Nội dung")
    back = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert back["Subject"] == subject and back.get_content().strip() == "Nội dung"


@pytest.fixture
def server_tls(tmp_path, monkeypatch):
    """A self-signed certificate for 127.0.0.1 (openssl), trusted by the client through
    SSL_CERT_FILE (ssl.create_default_context reads it): the client verifies as in production."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out",
                    str(cert), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost"], check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_encrypted_servers_with_login(db, smtp_server, server_tls, security):
    con, _ = db
    inbox, port = smtp_server(tls=(security, server_tls))
    mail.save_settings(con, mail.Settings("127.0.0.1", port, security, SMTP_USER, "kpi@tinh.vn"), SMTP_PASSWORD)
    assert delivery.send_test(con, "quantri@tinh.vn", NOW).sent == 1
    assert [m["Subject"] for m in inbox.messages] == ["[KPI CĐS] Thư thử cấu hình máy chủ thư"]
    # The wrong kind for the port: a Vietnamese reason, not a traceback.
    other = "ssl" if security == "starttls" else "starttls"
    mail.save_settings(con, mail.Settings("127.0.0.1", port, other, SMTP_USER, "kpi@tinh.vn"))
    summary = delivery.send_test(con, "quantri@tinh.vn", NOW.replace(hour=9))
    expected = {"ssl": "Lỗi mã hóa SSL/TLS với máy chủ thư", "starttls": "Máy chủ thư"}[other]
    assert summary.sent == 0
    assert summary.errors == [f"{expected} 127.0.0.1:{port}{'' if other == 'ssl' else ' ngắt kết nối giữa chừng'}: "
                              "kiểm tra kiểu bảo mật và cổng."]


def test_login_refused_is_logged_in_vietnamese_and_retried_with_backoff(db, smtp_server):
    con, _ = db
    _, port = smtp_server(accept_login=False)
    configure(con, port)
    delivery.save_schedule(con, "40", report_day=15, roles=("leader", "officer"))
    summary = delivery.run_due(con, NOW, kinds=("report",))   # returns; nothing raises
    assert (summary.generated, summary.sent, summary.retrying) == (2, 0, 2)
    (error,) = summary.errors
    assert error.startswith(f"Máy chủ thư 127.0.0.1:{port} từ chối đăng nhập của tài khoản «kpi-mailer»")
    assert SMTP_PASSWORD not in error
    rows = con.execute("SELECT status, attempts, last_error, next_try_at FROM mail_outbox").fetchall()
    assert all(r[:3] == ("pending", 1, error) for r in rows)
    assert all(r[3] == NOW.replace(minute=1) for r in rows)  # 1 minute after the first failure
    table = delivery.log_table(delivery.outbox(con))
    assert table["Kết quả"].to_list() == [f"Lỗi lần 1: {error} — sẽ thử lại lúc 08:01 15/12/2025"] * 2
    assert table["Trạng thái"].to_list() == ["Chờ gửi lại"] * 2
    # Not before the backoff; then, with the right password, both go once.
    assert delivery.send_pending(con, NOW.replace(second=30)).sent == 0
    inbox, port = smtp_server()
    configure(con, port)
    assert delivery.send_pending(con, NOW.replace(minute=1)).sent == 2
    assert len(inbox.messages) == 2


def test_server_down_then_gives_up_after_max_attempts(db, smtp_server):
    con, _ = db
    configure(con, free_port())  # nothing listens there
    delivery.save_schedule(con, "40", report_day=None, remind_days=3, roles=("officer",))
    delivery.send_test(con, "quantri@tinh.vn", NOW)
    (row,) = con.execute("SELECT status, attempts, last_error FROM mail_outbox").fetchall()
    assert row[:2] == ("pending", 1)
    assert row[2].startswith("Không kết nối được máy chủ thư 127.0.0.1:") and "không chạy hoặc sai cổng" in row[2]
    moment = NOW
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        moment = con.execute("SELECT next_try_at FROM mail_outbox").fetchall()[0][0]
        delivery.send_pending(con, moment)
    assert con.execute("SELECT status, attempts FROM mail_outbox").fetchall() == [("failed", delivery.MAX_ATTEMPTS)]
    assert delivery.send_pending(con, moment.replace(year=2030)).sent == 0  # given up: never again
    assert delivery.log_table(delivery.outbox(con))["Trạng thái"].to_list() == ["Gửi thất bại"]
    # The admin fixes the server and sends the failed ones again, from now.
    inbox, port = smtp_server()
    configure(con, port)
    assert delivery.retry_failed(con, moment) == 1
    assert delivery.send_pending(con, moment).sent == 1 and len(inbox.messages) == 1


def test_nothing_is_generated_while_no_server_is_configured(db):
    con, _ = db
    delivery.save_schedule(con, "40", report_day=15, roles=("leader", "officer"))
    summary = delivery.run_due(con, NOW)
    assert summary.errors == ["Chưa cấu hình máy chủ thư (địa chỉ máy chủ và người gửi): chưa tạo thư nào."]
    assert con.execute("SELECT count(*) FROM mail_outbox").fetchall() == [(0,)]


def test_a_refused_recipient_does_not_stop_the_others(db, smtp_server):
    con, _ = db
    inbox, port = smtp_server(refuse={"lanhdao@tinh.vn"})
    configure(con, port)
    delivery.save_schedule(con, "40", report_day=15, roles=("leader", "officer"))
    summary = delivery.run_due(con, NOW, kinds=("report",))
    assert (summary.sent, summary.retrying) == (1, 1)
    assert [m["To"] for m in inbox.messages] == ["canbo.nt@xa.vn"]
    (error,) = summary.errors
    assert error == "Máy chủ thư từ chối địa chỉ nhận: lanhdao@tinh.vn (mã 550)."


def test_reminders_go_once_each_to_whom_they_concern(db, smtp_server):
    con, _ = db
    inbox, port = smtp_server()
    configure(con, port)
    delivery.save_schedule(con, "40", report_day=None, remind_days=3, roles=("leader", "officer"))
    # 08/12/2025: last month (November) Vân Tụ has no data (expected: it had data before);
    # Nghĩa Thọ has. The leader is told the province's missing commune; Nghĩa Thọ's officer nothing.
    summary = delivery.run_due(con, datetime(2025, 12, 8, 7))
    assert summary.sent == 1
    (msg,) = inbox.messages
    assert msg["To"] == "lanhdao@tinh.vn"
    body = msg.get_body(("plain",)).get_content()
    assert "Tháng 11/2025: 1 xã/phường chưa tải dữ liệu" in body and "Xã Vân Tụ" in body
    assert delivery.run_due(con, datetime(2025, 12, 9, 7)).sent == 0


def test_send_now_dry_run_and_to_address(db, smtp_server):
    con, _ = db
    inbox, port = smtp_server()
    configure(con, port)
    planned, summary = delivery.send_now(con, "40", "2025-10", NOW, dry_run=True)
    assert sorted((p.recipient, p.unit_code) for p in planned) == [("canbo.nt@xa.vn", "16969"),
                                                                   ("lanhdao@tinh.vn", "40")]
    assert inbox.messages == [] and con.execute("SELECT count(*) FROM mail_outbox").fetchall() == [(0,)]
    planned, summary = delivery.send_now(con, "16969", "2025-10", NOW, to="vanthu@xa.vn")
    assert summary.sent == 1 and [m["To"] for m in inbox.messages] == ["vanthu@xa.vn"]
    assert sorted(attachments(inbox.messages[0])) == ["bao_cao_CDS_16969_2025-10.pdf",
                                                      "bao_cao_CDS_16969_2025-10.xlsx"]


def test_the_password_is_never_shown_or_logged(db, smtp_server, monkeypatch):
    con, _ = db
    _, port = smtp_server(accept_login=False)
    configure(con, port)
    settings = mail.load_settings(con)
    assert SMTP_PASSWORD not in repr(settings)
    assert mail.password_source(con) == "đã lưu trên trang quản trị (đã mã hóa)"
    monkeypatch.setenv(mail.PASSWORD_ENV, "tu-bien-moi-truong")
    assert mail.password(con) == "tu-bien-moi-truong" and mail.password_source(con) == "biến môi trường KPI_SMTP_PASSWORD"
    delivery.send_test(con, "quantri@tinh.vn", NOW)
    logged = " ".join(str(v) for row in con.execute("SELECT * FROM mail_outbox").fetchall() for v in row)
    assert "tu-bien-moi-truong" not in logged and SMTP_PASSWORD not in logged


def test_cli_send_dry_run_and_send(db, smtp_server):
    con, path = db
    inbox, port = smtp_server()
    configure(con, port)
    con.close()
    env = os.environ | {"KPI_DB": str(path)}
    dry = subprocess.run([sys.executable, "-m", "reports", "send", "--unit", "16969", "--period", "2025-10",
                          "--dry-run"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "canbo.nt@xa.vn" in dry.stdout and "Chạy thử" in dry.stdout and inbox.messages == []
    sent = subprocess.run([sys.executable, "-m", "reports", "send", "--unit", "16969", "--period", "2025-10",
                           "--to", "vanthu@xa.vn"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert sent.returncode == 0, sent.stderr
    assert [m["To"] for m in inbox.messages] == ["vanthu@xa.vn"]
    bad = subprocess.run([sys.executable, "-m", "reports", "send", "--unit", "16969", "--period", "2025-13"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "Tháng «2025-13» không hợp lệ" in bad.stderr
    helptext = subprocess.run([sys.executable, "-m", "reports", "--help"], cwd=ROOT, env=env, capture_output=True,
                              text=True).stdout
    assert "Gửi báo cáo" in helptext and "nhắc hạn" in helptext
    assert helptext.startswith("Cách dùng: python -m reports") and "show this help" not in helptext
    assert "--db TỆP" in helptext
    missing = subprocess.run([sys.executable, "-m", "reports", "send", "--period", "2025-10"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    assert missing.returncode == 2 and "lỗi: thiếu tham số bắt buộc: --unit" in missing.stderr


def test_a_deadline_reminder_goes_n_days_before_and_once(db, smtp_server):
    """Phường Đồng Phú reports quarterly before the 10th (and the party office before the 15th)
    of the quarter's last month; its officer is reminded 3 days before each, once."""
    con, _ = db
    inbox, port = smtp_server()
    configure(con, port)
    accounts.create_user(con, "canbo.dp", "matkhau-canbo3", "officer", "25363", "Cán bộ Đồng Phú",
                         email="canbo.dp@phuong.vn")
    delivery.save_schedule(con, "25363", report_day=None, remind_days=3, roles=("officer",))

    def deadlines_sent() -> list[str]:
        return [m["Subject"] for m in inbox.messages if "Hạn báo cáo" in m["Subject"]]

    delivery.run_due(con, datetime(2025, 12, 6, 7))
    assert deadlines_sent() == []
    delivery.run_due(con, datetime(2025, 12, 7, 7))
    assert deadlines_sent() == ["[KPI CĐS] Hạn báo cáo: Phường Đồng Phú — còn 3 ngày (hạn 10/12/2025)"]
    delivery.run_due(con, datetime(2025, 12, 8, 7))
    delivery.run_due(con, datetime(2025, 12, 12, 7))
    assert deadlines_sent() == ["[KPI CĐS] Hạn báo cáo: Phường Đồng Phú — còn 3 ngày (hạn 10/12/2025)",
                                "[KPI CĐS] Hạn báo cáo: Phường Đồng Phú — còn 3 ngày (hạn 15/12/2025)"]
    # Its officer account makes Đồng Phú expected to upload: November's missing data, once.
    missing = [m for m in inbox.messages if "Chưa tải dữ liệu" in m["Subject"]]
    assert len(missing) == 1 and "Tháng 11/2025: Phường Đồng Phú chưa tải dữ liệu" in missing[0].get_body(
        ("plain",)).get_content()
    assert {m["To"] for m in inbox.messages} == {"canbo.dp@phuong.vn"}


def test_the_servers_scheduler_sends_what_is_due(db, smtp_server):
    """The always-on server's scheduler (service/scheduler.py) runs the outbox by itself: a
    unit whose report day has come gets its monthly report without anyone asking, once."""
    import time

    from service.scheduler import Scheduler

    con, path = db
    inbox, port = smtp_server()
    configure(con, port)
    delivery.save_schedule(con, "40", report_day=1, remind_days=3, roles=("leader",))
    scheduler = Scheduler(path, None, mail_minutes=0.02).start()   # every 1.2 s
    try:
        deadline = time.monotonic() + 60
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.3)
        time.sleep(3)                                             # two more rounds: nothing sent twice
    finally:
        scheduler.stop()
    reports = [m for m in inbox.messages if m.get_content_maintype() == "multipart"]
    assert len(reports) == 1 and reports[0]["To"] == "lanhdao@tinh.vn", [m["Subject"] for m in inbox.messages]
    assert len(attachments(reports[0])) == 2


def test_the_stored_password_is_sealed_and_a_backup_holds_no_usable_copy(db, smtp_server, tmp_path):
    """Fixed defect: the SMTP password set on the page sat in `meta` in clear, so every backup
    (Parquet files of every table) carried it. It is now sealed with a key file beside the
    store: the store and its backups hold no readable copy; a store restored on another
    machine without the key says so, and mail waits with that reason instead of failing
    silently or raising."""
    from store import backup, sealed

    con, path = db
    inbox, port = smtp_server()
    configure(con, port)
    stored = con.execute("SELECT value FROM meta WHERE key = 'mail.password'").fetchall()[0][0]
    assert stored.startswith(sealed.PREFIX) and SMTP_PASSWORD not in stored
    key = sealed.key_path(path)
    assert key.exists() and key.stat().st_mode & 0o077 == 0  # the key: owner only
    assert mail.password(con) == SMTP_PASSWORD
    assert delivery.send_test(con, "quantri@tinh.vn", NOW).sent == 1  # logs in with it

    saved = tmp_path / "sao-luu"
    backup.create(con, saved)
    for file in saved.rglob("*"):
        if file.is_file():
            assert SMTP_PASSWORD.encode() not in file.read_bytes(), file.name

    # The backup restored on a machine without this store's key file.
    elsewhere = tmp_path / "may-khac" / "kpi.duckdb"
    backup.restore(saved, elsewhere)
    other = store.connect(elsewhere)
    try:
        assert mail.password_source(other) == "đã lưu nhưng không đọc được trên máy này (thiếu tệp khóa của kho): hãy nhập lại"
        summary = delivery.send_test(other, "quantri@tinh.vn", NOW.replace(minute=5))
        assert summary.sent == 0 and summary.errors[0].startswith("Mật khẩu máy chủ thư đã lưu không đọc được")
        mail.save_settings(other, mail.load_settings(other), SMTP_PASSWORD)  # entered again
        assert mail.password(other) == SMTP_PASSWORD
    finally:
        other.close()


def test_a_password_stored_in_clear_by_an_earlier_release_is_sealed_on_upgrade(db):
    from store import migrations, sealed

    con, path = db
    con.execute("INSERT OR REPLACE INTO meta VALUES ('mail.password', 'mat-khau-cu')")
    con.execute("DELETE FROM migrations WHERE name = '0008_seal_mail_password'")
    assert mail.password(con) == "mat-khau-cu"  # still usable before the upgrade
    con.close()
    again = store.connect(path)
    try:
        assert "0008_seal_mail_password" in migrations.applied(again)
        value = again.execute("SELECT value FROM meta WHERE key = 'mail.password'").fetchall()[0][0]
        assert sealed.is_sealed(value) and "mat-khau-cu" not in value
        assert mail.password(again) == "mat-khau-cu"
    finally:
        again.close()
