"""The PDF report as a reader sees it: its pages rendered to PNG with pdftoppm (left in
artifacts/screenshots to look at) and its text read back line by line with pdftotext
(poppler-utils, installed by scripts/install_pdf_tools.sh). A figure is never broken
across lines, the signature block never stands alone on the last page, and the text is
set in the Word file's font family."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from kpi.periods import parse
from loaders.dossiers import load_dossier_file
from reports import builder, pdf, word
from reports.builder import OverdueTask

from .conftest import ARTIFACTS, TODAY

SHOTS = ARTIFACTS / "screenshots"
SIGNATURE = {"Nơi nhận:", "- ……………………;", "- Lưu: VT.", "TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH",
             "(Ký, ghi rõ họ tên, đóng dấu)"}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing: scripts/install_pdf_tools.sh should have installed it")
        pytest.skip(f"{name} not installed (run scripts/install_pdf_tools.sh)")
    return path


def pdf_pages(data: bytes, tmp_path: Path) -> list[list[str]]:
    """The text of each page, as lines with runs of spaces (and no-break spaces) made one."""
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    out = subprocess.run([_tool("pdftotext"), "-enc", "UTF-8", str(path), "-"], check=True,
                         capture_output=True).stdout.decode("utf-8")
    pages = out.split("\f")
    if pages and not pages[-1].strip():
        pages.pop()
    return [[re.sub(r"\s+", " ", line).strip() for line in page.splitlines() if line.strip()] for page in pages]


def render_png(data: bytes, stem: str, tmp_path: Path) -> list[Path]:
    """pdftoppm's PNG of every page, kept in artifacts/screenshots/<stem>-<page>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob(f"{stem}-*.png"):
        old.unlink()
    path = tmp_path / f"{stem}.pdf"
    path.write_bytes(data)
    subprocess.run([_tool("pdftoppm"), "-r", "80", "-png", str(path), str(SHOTS / stem)], check=True)
    return sorted(SHOTS.glob(f"{stem}-*.png"))


@pytest.fixture
def golden(con, fixtures):
    load_dossier_file(con, fixtures / "golden.csv", province="40")
    return con


def big_report(golden) -> builder.Report:
    """The province's October report with a large province's figures: every rate
    184.996/280.495 (the numbers the old PDF broke as "(184.996/280.4" / "95)"), counts in
    millions, a commune behind with six-digit counts, and tasks years late."""
    report = builder.build(golden, "40", parse("2025-10"), TODAY, tasks=[
        OverdueTask("Xây dựng kho dữ liệu dùng chung của tỉnh", "Sở Khoa học và Công nghệ", date(2022, 1, 1),
                    "Năm 2021", "Đang thực hiện", 35),
        OverdueTask("Ban hành kế hoạch chi tiết", "Phòng Văn hóa - Xã hội", date(2025, 9, 25), "Trước 25/9/2025",
                    "Đang thực hiện", 60),
    ])
    kpis = []
    for k in report.kpis:
        if k.kind == "rate":
            k = replace(k, numerator=184_996, denominator=280_495, value=184_996 / 280_495)
        elif k.kind == "count":
            k = replace(k, value=1_280_495.0)
        kpis.append(k)
    behind = [replace(c, numerator=118_204, denominator=236_409, value=118_204 / 236_409) for c in report.communes.behind]
    return replace(report, kpis=kpis, communes=replace(report.communes, behind=behind))


def figures(text: str) -> list[str]:
    """The figures of a cell's text, the words with a digit: "(184.996/280.495)", "66,0%"."""
    return [word for word in text.split(" ") if re.search(r"\d", word)]


def test_pdf_never_breaks_a_figure_across_lines(golden, tmp_path):
    report = big_report(golden)
    data = pdf.to_pdf(report)
    pages = pdf_pages(data, tmp_path)
    lines = [line for page in pages for line in page]
    # Kept whole: targets, gaps and days late ("≥ 80%", "-14,0 điểm %", "1.399 ngày"); the others may
    # wrap at a space but never inside a figure ("66,0%" / "(184.996/280.495)").
    whole = [k.target_text for k in report.kpis] + [k.gap_text for k in report.kpis]
    whole += [c.gap_text for c in report.communes.behind] + [t.late_text for t in report.tasks]
    cells = [k.result_text for k in report.kpis] + [k.deadline_text for k in report.kpis]
    cells += [c.result_text for c in report.communes.behind] + [t.progress_text for t in report.tasks]
    wanted = {t for t in whole if re.search(r"\d", t)} | {f for cell in cells for f in figures(cell)}
    assert {"(184.996/280.495)", "1.280.495", "-14,0 điểm %", "≥ 80%", "(118.204/236.409)", "1.399 ngày"} <= wanted
    # pdftotext guesses spaces from the gaps between glyphs ("≤ 0" may come back "≤0"): compared without them.
    bare = [line.replace(" ", "") for line in lines]
    broken = sorted(f for f in wanted if not any(f.replace(" ", "") in line for line in bare))
    assert broken == [], f"figures broken across lines: {broken}"
    shots = render_png(data, "report_pdf_big_figures", tmp_path)
    assert len(shots) == len(pages) >= 2
    assert all(p.stat().st_size > 10_000 for p in shots)


def test_fit_widths_gives_each_column_its_widest_word():
    doc = pdf.FPDF(unit="mm", format="A4")
    doc.add_font(pdf.FAMILY, "B", str(pdf.SERIF_BOLD))
    doc.set_font(pdf.FAMILY, "B", 10)
    widths = pdf.fit_widths(doc, ["STT", "Chỉ tiêu", "Kết quả"], [["1", "Tỷ lệ hồ sơ", "66,0% (184.996/280.495)"]],
                            [10, 60, 15], flexible=1)
    need = doc.get_string_width("(184.996/280.495)") + 2 * pdf.PADDING
    assert widths[2] >= need > 15 and sum(widths) == pytest.approx(85) and widths[0] == 10
    # No room left for the text column's own widest word: None (the table then shrinks its font).
    assert pdf.fit_widths(doc, ["A", "B"], [["x", "(184.996/280.495)"]], [5, 10], flexible=0) is None


@pytest.mark.parametrize("lines", range(1, 36, 2))
def test_signature_is_never_alone_on_its_page(golden, tmp_path, lines):
    """Recommendations of 1..35 paragraphs move the end of the report down through a whole
    page, so the signature block falls at every height of it, the bottom included."""
    report = builder.build(golden, "16969", parse("2025-Q3"), TODAY, recommendations="\n".join(
        f"Kiến nghị {i}: đề nghị Sở Khoa học và Công nghệ hỗ trợ kết nối dữ liệu." for i in range(1, lines + 1)))
    pages = pdf_pages(pdf.to_pdf(report), tmp_path)
    last = pages[-1]
    assert "CHỦ TỊCH" in last and not any("CHỦ TỊCH" in line for page in pages[:-1] for line in page)
    others = [line for line in last if line not in SIGNATURE and not re.fullmatch(r"\d+/\d+", line)]
    assert others, f"the signature block is alone on page {len(pages)}"
    assert f"Kiến nghị {lines}:" in " ".join(last)  # the last paragraph goes with it


def test_pdf_is_set_in_the_word_files_font_family(golden, tmp_path):
    assert word.FONT == "Times New Roman"
    for path in (pdf.SERIF_REGULAR, pdf.SERIF_BOLD, pdf.SERIF_ITALIC, pdf.SERIF_BOLD_ITALIC):
        assert path.exists() and path.stat().st_size > 100_000
    licence = (pdf.FONTS / "LICENSE-Liberation.txt").read_text(encoding="utf-8")
    assert "SIL OPEN FONT LICENSE Version 1.1" in licence and "Times New Roman" in licence
    report = builder.build(golden, "16969", parse("2025-Q3"), TODAY)
    data = pdf.to_pdf(report)
    path = tmp_path / "r.pdf"
    path.write_bytes(data)
    fonts = subprocess.run([_tool("pdffonts"), str(path)], check=True, capture_output=True, text=True).stdout
    embedded = {line.split()[0].split("+")[-1] for line in fonts.splitlines()[2:]}
    assert {"LiberationSerif", "LiberationSerifBold", "LiberationSerifItalic"} <= embedded
    assert all(" yes yes yes " in line for line in fonts.splitlines()[2:])  # embedded, subset, Unicode
    text = "\n".join(line for page in pdf_pages(data, tmp_path) for line in page)
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc",
                     "Nghĩa Thọ, ngày 15 tháng 11 năm 2025", "Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến",
                     "66,7% (2/3)", "-13,3 điểm %", "V. ĐỀ XUẤT, KIẾN NGHỊ"):
        assert expected in text, expected
    render_png(data, "report_pdf_commune", tmp_path)
