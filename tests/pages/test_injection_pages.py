"""Issue 13 item 13: text from URL parameters, uploaded files (procedure names, fields,
statuses, task lists) and accounts (full names) is shown literally on every page: no
Markdown link, tracking image, LaTeX or directive survives, and HTML blocks escape it.

The check: in every element Streamlit renders as Markdown (markdown, captions, alerts,
titles, widget and button labels, help texts), the hostile URL `http://evil.example` never
appears unescaped (escaped Markdown reads `http\\://evil`, escaped HTML `http&#58;//evil`),
and the hostile text did reach the page in its escaped form (so the test is not vacuous).
"""

from __future__ import annotations

import json
import re

import pytest

from loaders.dossiers import load_dossier_file
from loaders.tasks import load_tasks_file
from store import accounts
from store import db as store

from .conftest import FIXTURES, app, login

LINK = "[Phiên đã hết hạn – đăng nhập lại](http://evil.example/login)"
IMAGE = "![](http://evil.example/track.png)"
EVIL = re.compile(r"(?<!\\)://evil")  # `://` not preceded by the backslash of an escaped `:`
TASKS_CSV = f"""STT,Nhiệm vụ,Trụ cột,Đơn vị chủ trì,Đơn vị phối hợp,Thời hạn,Trạng thái,Tiến độ (%),Ghi chú
1,"{LINK}",Thể chế,"{IMAGE}",,31/10/2025,Đang thực hiện,40,"$x$ :red[đỏ]"
2,"Dòng một

[bấm](http://evil.example/2)",Dữ liệu,Công an xã,,30/11/2025,Đang thực hiện,10,
3,"<a href=""http://evil.example/3"">Xem</a>",Dữ liệu,"<b>Công an</b>",,15/12/2025,Đang thực hiện,20,
"""
LABELLED = ("button", "selectbox", "radio", "multiselect", "text_input", "number_input", "checkbox", "toggle",
            "metric", "expander", "tabs", "download_button")
VALUED = ("markdown", "caption", "info", "warning", "error", "success", "title", "header", "subheader", "toast",
          "latex")


@pytest.fixture
def hostile_db(golden_db, tmp_path):
    tasks = tmp_path / "nhiem_vu.csv"
    tasks.write_text(TASKS_CSV, encoding="utf-8")
    con = store.connect(golden_db)
    try:
        assert load_dossier_file(con, FIXTURES / "hostile" / "markdown_injection.csv", province="40").loaded == 2
        assert load_tasks_file(con, tasks, "40", unit="16969").loaded == 3
        accounts.create_user(con, "tancong", "matkhau-tancong", "admin", None, f"{LINK} {IMAGE}")
    finally:
        con.close()
    return golden_db


def rendered(at) -> list[tuple[str, str]]:
    """(element kind, text) of everything Streamlit renders as Markdown or HTML."""
    out = []
    for kind in VALUED:
        for element in getattr(at, kind, []):
            out.append((kind, str(getattr(element, "value", "") or getattr(element, "body", ""))))
    for kind in LABELLED:
        try:
            elements = at.get(kind)
        except Exception:  # noqa: BLE001 - an element type this Streamlit does not have
            continue
        for element in elements:
            for attr in ("label", "help", "placeholder"):
                text = getattr(element, attr, None) or getattr(getattr(element, "proto", None), attr, None)
                if isinstance(text, str) and text:
                    out.append((f"{kind}.{attr}", text))
    return out


def assert_inert(at, *expected_escaped: str) -> None:
    assert not at.exception, at.exception
    texts = rendered(at)
    leaks = [(kind, text) for kind, text in texts if EVIL.search(text)]
    assert not leaks, leaks
    everything = "\n".join(text for _, text in texts)
    for needle in expected_escaped:
        assert needle in everything, needle


def run(page: str, **params):
    at = app(page, token=login(__import__("os").environ["KPI_DB"], "tancong", "matkhau-tancong"), **params)
    at.run()
    return at


def test_drilldown_url_parameters_are_literal(hostile_db):
    at = run("drilldown", tinh="40", don_vi="16969", ky="2025-09", linh_vuc=LINK, trang_thai=IMAGE)
    assert_inert(at, r"\[Phiên đã hết hạn – đăng nhập lại\]\(http\://evil\.example/login\)")


def test_drilldown_procedure_field_and_status_from_the_file_are_literal(hostile_db):
    at = run("drilldown", tinh="40", don_vi="16969", ky="2025-09", tthc="9.999101",
             linh_vuc="![](http://evil.example/t.png)", trang_thai="[bấm vào đây](http://evil.example/s)")
    assert_inert(at, r"\!\[\]\(http\://evil\.example/t\.png\)", r"\[bấm vào đây\]")


@pytest.mark.parametrize("params", [dict(tinh="40", ky="2025-09"), dict(tinh="40", don_vi="16969", ky="2025-09")])
def test_drilldown_children_and_lists(hostile_db, params):
    assert_inert(run("drilldown", **params))


def test_sidebar_full_name_is_literal(hostile_db):
    at = run(None, tinh="40", don_vi="16969", ky="2025-09")  # through app.py, which draws the account
    assert_inert(at, r"\[Phiên đã hết hạn")


def test_tasks_page_escapes_task_texts(hostile_db):
    at = run("tasks", tinh="40", don_vi="16969")
    assert_inert(at, "&#91;Phiên đã hết hạn")
    tables = "\n".join(m.value for m in at.markdown if 'class="tk-table"' in m.value)
    assert "\n\n" not in tables and "<img" not in tables
    # Plotly renders hover and tick texts as HTML (links included): the task texts arrive escaped
    specs = "\n".join(json.dumps(json.loads(chart.proto.spec), ensure_ascii=False) for chart in at.get("plotly_chart"))
    assert "evil.example/3" in specs and "<a href" not in specs and "<b>Công an" not in specs


def test_reports_preview_escapes_task_texts(hostile_db):
    assert_inert(run("reports", tinh="40", don_vi="16969", ky="2025-Q3"))


@pytest.mark.parametrize("page", ["map", "upload", "admin"])
def test_other_pages(hostile_db, page):
    assert_inert(run(page, tinh="40", don_vi="16969", ky="2025-09"))
