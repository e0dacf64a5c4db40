"""The audit log's details as an admin reads them (the admin page's "Nhật ký thao tác").

The log keeps what each action wrote when it happened (store.accounts.log): upload and undo
counts as Python dicts ("#2 {'rows_read': 1234, ...}"), a saved column mapping as JSON, a
changed cap by its name ("max_rows = 500000"), a new account's role by its code. Old entries
stay as they were written, so they are read here, never rewritten: each is turned into
Vietnamese with formatted numbers, and a detail this module does not recognise is shown as
written. No Streamlit."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable

from kpi.format import number
from loaders.dossiers import FIELDS
from loaders.limits import LABELS as LIMIT_LABELS
from store.accounts import ROLES

# What each count of an upload or undo is called.
COUNTS = {"rows_read": "dòng đọc", "loaded": "dòng nạp", "replaced": "thay thế", "duplicates": "trùng lặp",
          "rejected": "từ chối", "removed": "dòng gỡ", "restored": "phiên bản trước khôi phục"}

_BATCH = re.compile(r"^#(\d+) (\{.*\})$", re.S)
_NEW_USER = re.compile(r"^(?P<name>.*) \((?P<role>\w+), (?P<unit>[^)]*)\)$", re.S)
_LIMIT = re.compile(r"^(?P<name>\w+) = (?P<value>-?\d+)$")
_PRESET = re.compile(r"^(?P<file>.*?): (?P<mapping>\{.*)$", re.S)
_LONE_NUMBER = re.compile(r"(?<![\d.,/:#«-])\d{4,}(?![\d/:-]|[.,]\d)")


def _counts(text: str) -> str | None:
    try:
        counts = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return None
    if not isinstance(counts, dict) or not all(isinstance(v, int) for v in counts.values()):
        return None
    return ", ".join(f"{number(v)} {COUNTS.get(k, k)}" for k, v in counts.items())


def _mapping(text: str) -> str:
    """{"header": "field", ...} as "header → field's label; ..." (cut JSON: field names only)."""
    field_label = {key: label for key, (label, _headers) in FIELDS.items()}
    try:
        mapping = json.loads(text)
        return "; ".join(f"«{header}» → {field_label.get(f, f)}" for header, f in mapping.items())
    except (ValueError, AttributeError):
        words = re.compile(r'"(' + "|".join(map(re.escape, field_label)) + r')"')
        return words.sub(lambda m: field_label[m.group(1)], text).strip("{}")


def audit_detail(action: str, detail: str | None, unit_name: Callable[[str], str] | None = None) -> str:
    """The Vietnamese text of one audit entry's detail ('' without one). `unit_name` turns a
    unit code into its name (a new account's unit)."""
    if not detail:
        return ""
    if action in ("upload", "undo") and (m := _BATCH.match(detail)):
        counts = _counts(m.group(2))
        if counts is not None:
            return f"Lần tải #{m.group(1)}: {counts}"
    if action == "create_user" and (m := _NEW_USER.match(detail)) and m["role"] in ROLES:
        unit = m["unit"]
        if unit and unit != "toàn quốc" and unit_name:
            unit = unit_name(unit)
        return f"{m['name']} ({ROLES[m['role']]}, {unit})"
    if action == "set_limit" and (m := _LIMIT.match(detail)) and m["name"] in LIMIT_LABELS:
        return f"{LIMIT_LABELS[m['name']]}: {number(int(m['value']))}"
    if action == "save_preset" and (m := _PRESET.match(detail)):
        return f"Tệp «{m['file']}»: {_mapping(m['mapping'])}"
    return _LONE_NUMBER.sub(lambda m: number(int(m.group(0))), detail)
