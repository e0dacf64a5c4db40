"""The command-line tools speak Vietnamese (issue 16): argparse's usage, help and errors are
translated for every CLI, and `python -m kpi --format table` has a header and never cuts a
KPI name in the middle of a word."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kpi.definitions import KPIS
from kpi.format import shorten
from kpi.output import TABLE_COLUMNS, table

ROOT = Path(__file__).resolve().parent.parent
CLIS = ["kpi", "loaders", "loaders.sql_source", "store.backup", "loaders.bootstrap", "reports", "store.lake"]
ENGLISH = re.compile(r"\b(usage|options|optional arguments|positional arguments|show this help|error|required|"
                     r"invalid choice|unrecognized arguments|expected one argument)\b", re.IGNORECASE)


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("module", CLIS)
def test_help_is_vietnamese(module):
    result = cli(module, "--help")
    assert result.returncode == 0
    assert "Cách dùng:" in result.stdout and "Hiện hướng dẫn này rồi thoát" in result.stdout
    assert not ENGLISH.search(result.stdout), ENGLISH.search(result.stdout)
    assert not re.search(r"--[a-z-]+ (?!URL\b)[A-Z]{2,}\b", result.stdout), result.stdout  # English metavars (DB)


@pytest.mark.parametrize("args", [["kpi"], ["kpi", "--period"], ["kpi", "--period", "2025-09", "--format", "xml"],
                                  ["kpi", "--period", "2025-09", "--khong-co"], ["loaders"],
                                  ["loaders.sql_source"], ["store.backup", "xoa"]])
def test_argument_errors_are_vietnamese(args):
    result = cli(*args)
    assert result.returncode == 2
    assert ": lỗi: " in result.stderr and not ENGLISH.search(result.stderr), result.stderr


def test_every_option_has_help():
    for module in CLIS:
        text = cli(module, "--help").stdout
        options = re.findall(r"^  (--[a-z-]+)(?: [^ ].*)?$", text, re.MULTILINE)
        assert all(re.search(rf"^  {o}.*\S\s{{2,}}\S", text, re.MULTILINE) or
                   re.search(rf"^  {o}[^\n]*\n {{10,}}\S", text, re.MULTILINE) for o in options), (module, text)


class Row:
    def __init__(self, kpi: str):
        self.unit_code, self.unit_name, self.period, self.kpi = "16969", "Xã Nghĩa Thọ", "2025-09", kpi
        self.value, self.numerator, self.denominator = 0.5, 1, 2
        self.target, self.target_op, self.status = 0.8, ">=", "at_risk"


def test_the_table_has_a_header_and_cuts_names_only_between_words():
    lines = table([Row(k) for k in KPIS if KPIS[k].numerator]).splitlines()
    assert lines[0].split()[:2] == ["Mã", "Đơn"] and "Chỉ tiêu" in lines[0] and "Đánh giá" in lines[0]
    width = dict((name, w) for name, w, _ in TABLE_COLUMNS)["Chỉ tiêu"]
    for kpi in KPIS:
        shown = shorten(KPIS[kpi].label, width)
        assert len(shown) <= width
        if shown != KPIS[kpi].label:
            assert shown.endswith("…") and KPIS[kpi].label.startswith(shown[:-1])
            assert KPIS[kpi].label[len(shown) - 1] == " "        # cut where a word ends
    assert all("≥ " in line for line in lines[1:])


def test_the_loaders_cli_lists_the_registrys_kinds():
    """python -m loaders names the kinds without importing the registry (fast --help and loads
    through the server): its list must stay the registry's."""
    from loaders.__main__ import KINDS
    from loaders.sources import KINDS as REGISTRY

    assert KINDS == REGISTRY
