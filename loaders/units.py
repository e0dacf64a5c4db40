"""Resolve the unit names and codes written in exports to official unit codes.

docs/domain.md's rule: within the chosen province, match the exact name first (ignoring case,
spacing and a leading "UBND", "Xã", "Phường", "Đặc khu"), and only then the name without
diacritics, and only where that is unique. An ambiguous name is rejected, never guessed.
Resolution runs once per distinct value in a file, not per row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from kpi.text import nfc_lower, strip_diacritics

_ORGAN = re.compile(r"^(ủy ban nhân dân|uỷ ban nhân dân|ubnd)\s*")
_KIND = re.compile(r"^(xã|phường|đặc khu|tỉnh|thành phố|tp\.?)\s*")


def _without_organ(text: str) -> str:
    return _ORGAN.sub("", nfc_lower(text).replace("_", " ")).strip(" .,-")


def name_key(text: str) -> str:
    """'UBND xã Nghĩa Thọ' -> 'nghĩa thọ' (case, spacing, organ and unit kind dropped)."""
    return _KIND.sub("", _without_organ(text)).strip(" .,-")


@dataclass(frozen=True)
class Resolution:
    code: str | None
    reason: str | None = None  # Vietnamese, when code is None


class UnitResolver:
    """Maps written unit names or codes to unit codes, within a province when one is given."""

    def __init__(self, con: duckdb.DuckDBPyConnection, province_code: str | None = None):
        query = "SELECT code, name, full_name, level, province_code FROM units"
        params: list = []
        if province_code:
            query += " WHERE province_code = ?"
            params.append(province_code)
        self.province_code = province_code
        self.units = con.execute(query, params).fetchall()
        if province_code and not self.units:
            raise ValueError(f"Không có tỉnh/thành phố mã {province_code}.")
        self.by_code = {u[0]: u for u in self.units}
        # The province as an official names it ("Tỉnh Nghệ An"), not by its code.
        self.province_name = (self.by_code[province_code][2] if province_code in self.by_code
                              else f"tỉnh/thành phố mã {province_code}")
        self._full: dict[str, set[str]] = {}
        self._exact: dict[str, set[str]] = {}
        self._plain: dict[str, set[str]] = {}
        for code, name, full_name, _level, _prov in self.units:
            self._full.setdefault(_without_organ(full_name), set()).add(code)
            self._exact.setdefault(name_key(name), set()).add(code)
            self._plain.setdefault(strip_diacritics(name_key(name)), set()).add(code)

    def resolve_code(self, value: str) -> Resolution:
        text = str(value).strip()
        if text.endswith(".0") and text[:-2].isdigit():  # a code that went through a spreadsheet number
            text = text[:-2]
        if not text.isdigit():
            return Resolution(None, f"mã đơn vị «{value}» không hợp lệ")
        candidates = (text.zfill(5), text.zfill(2)) if len(text) <= 5 else (text,)
        found = [c for c in dict.fromkeys(candidates) if c in self.by_code]
        if len(found) == 1:
            return Resolution(found[0])
        if len(found) > 1:  # "25": province 25 or commune 00025 with its zeros lost; never guessed
            return self._ambiguous(value, set(found), "mã")
        where = f" thuộc {self.province_name}" if self.province_code else ""
        return Resolution(None, f"không có đơn vị mã «{value}»{where}")

    def resolve_name(self, value: str) -> Resolution:
        text = str(value).strip()
        if text.isdigit():
            return self.resolve_code(text)
        for index, key in ((self._full, _without_organ(text)), (self._exact, name_key(text))):
            codes = index.get(key, set())
            if len(codes) == 1:
                return Resolution(next(iter(codes)))
            if len(codes) > 1:
                return self._ambiguous(value, codes)
        codes = self._plain.get(strip_diacritics(name_key(text)), set())
        if len(codes) == 1:
            return Resolution(next(iter(codes)))
        if len(codes) > 1:
            return self._ambiguous(value, codes)
        where = f" trong {self.province_name}" if self.province_code else ""
        return Resolution(None, f"không tìm thấy đơn vị «{value}»{where}")

    def _ambiguous(self, value: str, codes: set[str], what: str = "tên") -> Resolution:
        names = ", ".join(f"{self.by_code[c][2]} ({c})" for c in sorted(codes))
        return Resolution(None, f"{what} đơn vị «{value}» không rõ ràng: khớp {names}")
