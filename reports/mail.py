"""E-mail through the organisation's SMTP server: settings, composing, sending, and the
Vietnamese text of what went wrong.

Settings live in the store's `meta` (keys `mail.host`, `mail.port`, `mail.security`
= starttls | ssl | none, `mail.username`, `mail.sender`), set by a national admin on the page
«Thư và nhắc hạn». The password comes from the environment variable KPI_SMTP_PASSWORD when
it is set, else from `meta` `mail.password` (set on that page, sealed with the key file beside
the store: store/sealed.py, so a backup holds no usable password); it is never logged, never
put in an error text and never shown back (`Settings` does not carry it).

The standard library's smtplib and email packages do the protocol and MIME work (STARTTLS,
implicit TLS, AUTH, UTF-8 headers, attachments); nothing here re-implements them.
"""

from __future__ import annotations

import email.policy
import os
import re
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from store import db as store
from store import sealed

PASSWORD_ENV = "KPI_SMTP_PASSWORD"
SECURITY = {"starttls": "STARTTLS (cổng 587)", "ssl": "SSL/TLS (cổng 465)", "none": "Không mã hóa (chỉ mạng nội bộ)"}
DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}
TIMEOUT = 30  # seconds per SMTP operation
EMAIL = re.compile(r"[^@\s<>(),;:\"\[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Headers folded at 78 characters lose the space between two RFC 2047 encoded words on Python
# 3.11 ("máy chủ thư" arrives as "máy chủthư" in every mail client): fold only at RFC 5322's
# 998-character line limit, so that a Vietnamese subject stays one encoded run.
POLICY = email.policy.SMTP.clone(max_line_length=998)


class MailError(RuntimeError):
    """A send that failed, with the Vietnamese reason (`str(exc)`). `whole_server`: the server
    itself is unusable (down, login refused), so no other message can go through it now."""

    def __init__(self, message: str, whole_server: bool = False):
        super().__init__(message)
        self.whole_server = whole_server


@dataclass(frozen=True)
class Settings:
    host: str = ""
    port: int = 587
    security: str = "starttls"
    username: str = ""
    sender: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host and self.sender)

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port} ({SECURITY.get(self.security, self.security)})"


def valid_email(address: str | None) -> bool:
    return bool(address) and EMAIL.fullmatch(address.strip()) is not None


def load_settings(con) -> Settings:
    meta = dict(con.execute("SELECT key, value FROM meta WHERE key LIKE 'mail.%'").fetchall())
    security = meta.get("mail.security") or "starttls"
    try:
        port = int(meta.get("mail.port") or DEFAULT_PORTS.get(security, 587))
    except ValueError:
        port = DEFAULT_PORTS.get(security, 587)
    return Settings(meta.get("mail.host") or "", port, security, meta.get("mail.username") or "",
                    meta.get("mail.sender") or "")


def save_settings(con, settings: Settings, password: str | None = None) -> None:
    """Store the settings (and the password when one is given: None or '' keeps the stored one).
    Raises ValueError (Vietnamese) on a setting that cannot work."""
    if settings.security not in SECURITY:
        raise ValueError(f"Kiểu bảo mật «{settings.security}» không hợp lệ.")
    if not settings.host.strip():
        raise ValueError("Cần nhập địa chỉ máy chủ thư (SMTP).")
    if not 0 < int(settings.port) < 65536:
        raise ValueError("Cổng máy chủ thư phải từ 1 đến 65535.")
    if not valid_email(settings.sender):
        raise ValueError(f"Địa chỉ người gửi «{settings.sender}» không hợp lệ.")
    with store.write_transaction(con):
        for key, value in (("host", settings.host.strip()), ("port", str(int(settings.port))),
                           ("security", settings.security), ("username", settings.username.strip()),
                           ("sender", settings.sender.strip())):
            store.set_meta(con, f"mail.{key}", value)
        if password:
            store.set_meta(con, "mail.password", sealed.seal(con, password))


def password(con) -> str | None:
    """KPI_SMTP_PASSWORD, else the one set on the admin page, else None (no login). Raises
    MailError (whole_server) when the stored one cannot be unsealed here."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    rows = con.execute("SELECT value FROM meta WHERE key = 'mail.password'").fetchall()
    value = rows[0][0] if rows and rows[0][0] else None
    if value is None or not sealed.is_sealed(value):
        return value  # none, or stored before sealing (migration 0008 seals it on the next write open)
    try:
        return sealed.unseal(con, value)
    except sealed.Unreadable as exc:
        raise MailError(f"Mật khẩu máy chủ thư đã lưu không đọc được: {exc}. Hãy nhập lại mật khẩu trên trang "
                        "«Thư và nhắc hạn».", whole_server=True) from None


def password_source(con) -> str:
    """Where the password comes from, for the page (never the password itself)."""
    if os.environ.get(PASSWORD_ENV):
        return f"biến môi trường {PASSWORD_ENV}"
    try:
        stored = password(con)
    except MailError:
        return "đã lưu nhưng không đọc được trên máy này (thiếu tệp khóa của kho): hãy nhập lại"
    return "đã lưu trên trang quản trị (đã mã hóa)" if stored else "chưa đặt (gửi không đăng nhập)"


def compose(settings: Settings, to: str, subject: str, body: str,
            attachments: list[tuple[str, bytes, str]] = (), message_id: str | None = None) -> EmailMessage:
    """A UTF-8 message with its attachments (file name, bytes, MIME type). The same
    `message_id` for every try of one outbox row lets a mail client drop a duplicate."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = formataddr(("Hệ thống KPI chuyển đổi số", settings.sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=True)
    if message_id:
        msg["Message-ID"] = message_id
    msg.set_content(body)
    for name, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return msg


def connect(settings: Settings, secret: str | None) -> smtplib.SMTP:
    """An open, logged-in SMTP session. Raises MailError (whole_server) in Vietnamese."""
    if not settings.configured:
        raise MailError("Chưa cấu hình máy chủ thư (địa chỉ máy chủ và người gửi).", whole_server=True)
    context = ssl.create_default_context()
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(settings.host, settings.port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT)
        try:
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.username and secret:
                smtp.login(settings.username, secret)
        except BaseException:
            smtp.close()
            raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes one Vietnamese reason
        raise MailError(explain(exc, settings), whole_server=True) from None
    return smtp


def send(smtp: smtplib.SMTP, msg: EmailMessage, settings: Settings) -> None:
    """Send one message on an open session. Raises MailError in Vietnamese; `whole_server`
    when the session itself broke (the caller reconnects for the next message)."""
    try:
        refused = smtp.send_message(msg)
    except smtplib.SMTPRecipientsRefused as exc:
        raise MailError(explain(exc, settings)) from None
    except (smtplib.SMTPServerDisconnected, OSError) as exc:
        raise MailError(explain(exc, settings), whole_server=True) from None
    except smtplib.SMTPException as exc:
        raise MailError(explain(exc, settings)) from None
    if refused:
        raise MailError(f"Máy chủ thư từ chối địa chỉ nhận: {', '.join(refused)}.")


def close(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def explain(exc: BaseException, settings: Settings) -> str:
    """The Vietnamese reason of an SMTP failure (never the password, never a traceback)."""
    where = f"{settings.host}:{settings.port}"
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (f"Máy chủ thư {where} từ chối đăng nhập của tài khoản «{settings.username}» "
                f"(mã {exc.smtp_code}): kiểm tra tài khoản và mật khẩu.")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return f"Máy chủ thư {where} không hỗ trợ STARTTLS hoặc đăng nhập: kiểm tra kiểu bảo mật và cổng."
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = ", ".join(f"{addr} (mã {code})" for addr, (code, _msg) in exc.recipients.items())
        return f"Máy chủ thư từ chối địa chỉ nhận: {refused}."
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"Máy chủ thư từ chối địa chỉ người gửi «{settings.sender}» (mã {exc.smtp_code})."
    if isinstance(exc, smtplib.SMTPDataError):
        return f"Máy chủ thư từ chối nội dung thư (mã {exc.smtp_code})."
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return f"Máy chủ thư {where} ngắt kết nối giữa chừng: kiểm tra kiểu bảo mật và cổng."
    if isinstance(exc, ssl.SSLError):
        return f"Lỗi mã hóa SSL/TLS với máy chủ thư {where}: kiểm tra kiểu bảo mật và cổng."
    if isinstance(exc, socket.gaierror):
        return f"Không tìm thấy máy chủ thư «{settings.host}»: kiểm tra địa chỉ máy chủ."
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"Máy chủ thư {where} không trả lời (quá {TIMEOUT} giây)."
    if isinstance(exc, ConnectionRefusedError):
        return f"Không kết nối được máy chủ thư {where}: máy chủ không chạy hoặc sai cổng."
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"Máy chủ thư {where} trả lỗi (mã {exc.smtp_code})."
    if isinstance(exc, OSError):
        return f"Không kết nối được máy chủ thư {where} (lỗi mạng)."
    return f"Lỗi khi gửi thư qua {where}."
