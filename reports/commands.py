"""What `python -m reports send|reminders` does, as one call taking a connection: the CLI on
the store file and the server's API (`POST /api/v1/mail/…`) both call these, so they print
the same. Each returns (exit code, the text to print)."""

from __future__ import annotations

from datetime import datetime

from reports import delivery


def send(con, unit: str, period: str, to: str | None, dry_run: bool, now: datetime) -> tuple[int, str]:
    """Send (or list, dry run) a unit's report for a period: exit code and the text to print."""
    planned, summary = delivery.send_now(con, unit, period, now, to=to, dry_run=dry_run)
    if not planned:
        return 1, "Không có người nhận: chưa tài khoản nào của đơn vị có địa chỉ thư (hoặc dùng --to)."
    lines = [f"{'Chạy thử — sẽ gửi' if dry_run else 'Gửi'} {len(planned)} thư:"]
    lines += [f"  {p.recipient}: {p.subject}" for p in planned]
    if not dry_run:
        lines.append(summary.text)
        lines += [f"  Lỗi: {e}" for e in summary.errors]
    return (0 if dry_run or summary.sent == len(planned) else 1), "\n".join(lines)


def reminders(con, dry_run: bool, now: datetime) -> tuple[int, str]:
    """Generate and send the reminders due now (or list them, dry run)."""
    if dry_run:
        planned = delivery.preview(con, now, kinds=("reminder",))
        lines = [f"Chạy thử — sẽ gửi {len(planned)} thư nhắc hạn:"]
        lines += [f"  {p.recipient}: {p.subject}" for p in planned]
        return 0, "\n".join(lines)
    summary = delivery.run_due(con, now, kinds=("reminder",))
    return (0 if not summary.errors else 1), "\n".join([summary.text] + [f"  Lỗi: {e}" for e in summary.errors])
