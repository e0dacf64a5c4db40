"""The text a load's result is printed as by the CLIs (`python -m loaders`, `python -m
loaders.sql_source pull`): file, kind, counts, rejected rows with their reasons."""

from __future__ import annotations

from kpi.format import number
from loaders.sources import LABELS


def summary_text(s: dict) -> str:
    """One file's result as the officer reads it (also `python -m loaders.sql_source pull`)."""
    if "error" in s:
        return f"LỖI  {s['error']}"
    lines = [
        f"{s['file']} ({LABELS.get(s['kind'], s['kind'])}): đọc {number(s['rows_read'])} dòng, nạp {number(s['loaded'])}, "
        f"thay thế {number(s['replaced'])}, trùng {number(s['duplicates'])}, từ chối {number(len(s['rejected']))} "
        f"(lần tải #{s['batch_id']})"
    ]
    lines += [f"  - dòng {r['row']}: {r['reason']}" for r in s["rejected"][:50]]
    if len(s["rejected"]) > 50:
        lines.append(f"  ... và {number(len(s['rejected']) - 50)} dòng khác")
    lines += [f"  ! {w}" for w in s.get("warnings", [])]
    return "\n".join(lines)
