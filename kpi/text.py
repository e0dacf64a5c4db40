"""Text folding used to match headers, unit names and cell values.

Vietnamese exports spell the same thing many ways ("Mã hồ sơ", "MA HO SO", "mã_hồ_sơ").
Everything that compares user text goes through these few functions so that the
rules stay identical for headers, units and yes/no cells.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def nfc_lower(text: str) -> str:
    """Unicode NFC, lower case, single spaces, trimmed: keeps diacritics."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", str(text)).lower()).strip()


def strip_diacritics(text: str) -> str:
    """Remove Vietnamese diacritics ("Nghĩa Thọ" -> "Nghia Tho"); đ/Đ become d/D."""
    decomposed = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def fold(text: str) -> str:
    """Case-, diacritics-, space- and punctuation-insensitive key ("Mã hồ sơ" -> "mahoso")."""
    return _NON_ALNUM.sub("", strip_diacritics(nfc_lower(text)))
