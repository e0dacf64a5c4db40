"""Reporting periods: a month `2025-09`, a quarter `2025-Q3`, a year `2025`, or a date
range `2025-07-01..2025-09-30` (dd/mm/yyyy also accepted on either side)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # inclusive
    kind: str  # month | quarter | year | range

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def month_aligned(self) -> bool:
        return self.start.day == 1 and (self.end + timedelta(days=1)).day == 1

    def months(self) -> list[date]:
        out, current = [], date(self.start.year, self.start.month, 1)
        while current <= self.end:
            out.append(current)
            current = _add_months(current, 1)
        return out

    def as_of(self, today: date) -> date:
        return min(self.end, today)

    def previous(self) -> Period:
        if self.kind == "month":
            return month(_add_months(self.start, -1))
        if self.kind == "quarter":
            return parse(f"{_add_months(self.start, -3).year}-Q{(_add_months(self.start, -3).month - 1) // 3 + 1}")
        if self.kind == "year":
            return parse(str(self.start.year - 1))
        length = self.days
        return Period(f"{self.start - timedelta(days=length)}..{self.start - timedelta(days=1)}",
                      self.start - timedelta(days=length), self.start - timedelta(days=1), "range")

    def vi(self) -> str:
        """Vietnamese label: Tháng 09/2025, Quý III/2025, Năm 2025, 01/07/2025 – 30/09/2025."""
        if self.kind == "month":
            return f"Tháng {self.start:%m/%Y}"
        if self.kind == "quarter":
            return f"Quý {('I', 'II', 'III', 'IV')[(self.start.month - 1) // 3]}/{self.start.year}"
        if self.kind == "year":
            return f"Năm {self.start.year}"
        return f"{self.start:%d/%m/%Y} – {self.end:%d/%m/%Y}"


def _add_months(d: date, n: int) -> date:
    index = d.year * 12 + d.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month(first: date) -> Period:
    last = calendar.monthrange(first.year, first.month)[1]
    return Period(f"{first:%Y-%m}", date(first.year, first.month, 1), date(first.year, first.month, last), "month")


def _parse_day(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise PeriodError(f"Ngày «{text}» không hợp lệ (dùng yyyy-mm-dd hoặc dd/mm/yyyy).")


def parse(text: str) -> Period:
    text = str(text).strip()
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", text):
        year, mon = int(m[1]), int(m[2])
        if not 1 <= mon <= 12:
            raise PeriodError(f"Tháng «{text}» không hợp lệ.")
        return month(date(year, mon, 1))
    if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", text):
        year, q = int(m[1]), int(m[2])
        start = date(year, 3 * q - 2, 1)
        end = _add_months(start, 3) - timedelta(days=1)
        return Period(f"{year}-Q{q}", start, end, "quarter")
    if m := re.fullmatch(r"(\d{4})", text):
        year = int(m[1])
        return Period(text, date(year, 1, 1), date(year, 12, 31), "year")
    if ".." in text:
        left, right = text.split("..", 1)
        start, end = _parse_day(left), _parse_day(right)
        if end < start:
            raise PeriodError(f"Khoảng thời gian «{text}»: ngày kết thúc trước ngày bắt đầu.")
        return Period(f"{start:%Y-%m-%d}..{end:%Y-%m-%d}", start, end, "range")
    raise PeriodError(
        f"Kỳ «{text}» không hợp lệ. Dùng tháng 2025-09, quý 2025-Q3, năm 2025 hoặc khoảng 2025-07-01..2025-09-30."
    )


def latest_complete_month(today: date) -> Period:
    return month(_add_months(date(today.year, today.month, 1), -1))


def today() -> date:
    """Today, or $KPI_TODAY (ISO date) so that a demo or a test sees a fixed day everywhere."""
    import os

    override = os.environ.get("KPI_TODAY")
    return date.fromisoformat(override) if override else date.today()
