"""Injection through paths and names (issue 13, items 13 and 14).

SQL: a path that reaches DuckDB is a bound parameter or a quoted literal, never text spliced
into a statement; the Parquet lake holds KPI data only (no accounts, sessions, audit log).
Markdown/HTML: see the page tests below and tests/pages/test_injection_pages.py.
"""

from __future__ import annotations

import html
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loaders.dossiers import load_dossier_file
from store import backup, lake, sqlquote
from store import db as store

from .conftest import TODAY

ROOT = Path(__file__).resolve().parent.parent
SECRET = "$2b$12$SECRET-HASH-MUST-NOT-LEAK"


def _with_user(con) -> None:
    con.execute("INSERT INTO users (username, full_name, password_hash, role, active, created_at) "
                "VALUES ('admin', 'Quản trị', ?, 'admin', TRUE, ?)", [SECRET, datetime.now()])
    con.execute("INSERT INTO sessions VALUES ('tok', 'admin', now(), now())")


def _payload_folder(tmp_path: Path) -> tuple[Path, Path]:
    """An --out path that, spliced into `COPY t TO '<out>/t.parquet'`, would copy users elsewhere."""
    leak = tmp_path / "leak.csv"
    out = Path(f"{tmp_path}/lake' (FORMAT csv); COPY users TO '{leak}' (FORMAT csv); COPY units TO '{tmp_path}/x")
    return out, leak


def _every_file(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def test_lake_export_to_a_hostile_path_writes_only_the_literal_folder(con, fixtures, tmp_path):
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    _with_user(con)
    out, leak = _payload_folder(tmp_path)
    counts = lake.export(con, out)
    assert not leak.exists()
    files = _every_file(tmp_path)
    assert files and all(out in f.parents for f in files), sorted(map(str, files - {f for f in files
                                                                                   if out in f.parents}))
    assert counts["dossiers"] == 10 and (out / "units" / "lake_source=40" / "data.parquet").exists()
    for secret_table in ("users", "sessions", "audit_log"):
        assert secret_table not in counts and not (out / secret_table).exists()
    for f in files:
        assert SECRET.encode() not in f.read_bytes(), f
    # and the lake reads back
    opened = lake.open_store(out)
    assert opened.execute("SELECT count(*) FROM dossiers").fetchall() == [(10,)]


def test_lake_export_cli_with_a_quote_in_the_path(fixtures, tmp_path):
    db = tmp_path / "kpi.duckdb"
    con = store.connect(db)
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    _with_user(con)
    con.close()
    out, leak = _payload_folder(tmp_path / "cli")
    run = subprocess.run([sys.executable, "-m", "store.lake", "export", "--db", str(db), "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert not leak.exists() and (out / "dossiers").is_dir() and not (out / "users").exists()
    assert "users" not in run.stdout


def test_lake_export_refuses_control_characters_in_the_path(con, tmp_path):
    for bad in ("lake\nx", "lake\x00x", "lake\x1b[2Jx"):
        with pytest.raises(sqlquote.UnsafeSQLText, match="ký tự điều khiển"):
            lake.export(con, tmp_path / bad)
    assert not list(tmp_path.iterdir())


def test_open_store_ignores_foreign_files_in_the_lake(con, fixtures, tmp_path):
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    out = tmp_path / "la'ke"
    lake.export(con, out)
    # a file whose name is SQL is not turned into a view named by it
    units = (out / "units" / "lake_source=40" / "data.parquet").read_bytes()
    (out / 'x AS SELECT 1; CREATE TABLE pwned AS SELECT 1; --"".parquet').write_bytes(units)
    (out / 'x AS SELECT 1; CREATE TABLE pwned AS SELECT 1; --"').mkdir()
    (out / 'x AS SELECT 1; CREATE TABLE pwned AS SELECT 1; --"' / "lake_source=40").mkdir()
    (out / 'x AS SELECT 1; CREATE TABLE pwned AS SELECT 1; --"' / "lake_source=40" / "data.parquet").write_bytes(units)
    opened = lake.open_store(out)
    names = {r[0] for r in opened.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert "pwned" not in names and "dossiers" in names and "units" in names


def test_backup_paths_with_quotes_and_payloads(con, fixtures, tmp_path):
    load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY)
    _with_user(con)
    out, leak = _payload_folder(tmp_path)
    manifest = backup.create(con, out)
    assert not leak.exists() and (out / "manifest.json").exists() and manifest["tables"]["dossiers"] == 10
    restored = tmp_path / "re'stored.duckdb"
    backup.restore(out, restored)
    check = store.connect(restored)
    assert check.execute("SELECT count(*) FROM dossiers").fetchall() == [(10,)]
    check.close()


def test_backup_refuses_control_characters_with_a_vietnamese_message(con, tmp_path):
    with pytest.raises(backup.BackupError, match="ký tự điều khiển"):
        backup.create(con, tmp_path / "bak\x00x")
    with pytest.raises(backup.BackupError, match="ký tự điều khiển"):
        backup.create(con, tmp_path / "bak\nx")
    assert not list(tmp_path.iterdir())


def test_quoting_helpers():
    assert sqlquote.literal("a'b") == "'a''b'"
    assert sqlquote.identifier('t"x') == '"t""x"'
    for bad in ("a\x00", "a\n", "a\r", "a\x7f", "a\u2028"):
        with pytest.raises(sqlquote.UnsafeSQLText):
            sqlquote.literal(bad)


# --- Markdown / HTML (item 13): the helpers and the shared HTML pieces -----------------------------

HOSTILE_TEXTS = ["[Phiên đã hết hạn…](http://evil.example/)", "![](http://evil.example/t.png)", "$\\frac{1}{0}$",
                 ":red[ĐỎ] :material/warning: :smile:", "# Tiêu đề\n\n- mục", "<img src=x onerror=alert(1)>",
                 "a | b\n|---|", "**đậm** _nghiêng_ ~~gạch~~ `mã`", "\\[đã thoát\\](http://evil.example/)",
                 "www.evil.example http://evil.example", "dòng 1\r\n\r\n[x](http://evil.example/)"]


def _unescape_md(text: str) -> str:
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", text)


@pytest.mark.parametrize("raw", HOSTILE_TEXTS)
def test_md_makes_every_markdown_character_literal(raw):
    from ui.text import md

    out = md(raw)
    assert "\n" not in out and "\r" not in out
    # every Markdown character is escaped (preceded by an odd number of backslashes)
    for match in re.finditer(r"(\\*)([`*_\[\]()#+\-.!|<>~$:@&])", out):
        assert len(match.group(1)) % 2 == 1, (raw, out, match.start())
    assert not re.search(r"(?<!\\)://", out) and "](" not in out
    assert _unescape_md(out) == re.sub(r"[\r\n]+", " ", raw)


@given(st.text(max_size=60))
def test_md_round_trips_any_text(raw):
    from ui.text import md

    assert _unescape_md(md(raw)) == re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+", " ", raw)


@pytest.mark.parametrize("raw", HOSTILE_TEXTS)
def test_html_text_is_inert_as_html_and_as_markdown(raw):
    from ui.text import html_text

    out = html_text(raw)
    assert not re.search(r"[<>\"'\n\r\[\]!$`|]", out), out
    assert "://" not in out
    assert html.unescape(out) == re.sub(r"[\r\n]+", " ", raw)


def test_kpi_card_and_empty_state_escape_their_texts(monkeypatch):
    from ui import widgets

    row = {"kpi": "full_online_rate", "status": "no_data", "value": None, "numerator": None, "denominator": None,
           "basis": "[danh mục](http://evil.example/)"}
    card = widgets.card(row, note="![](http://evil.example/t.png)\n\n[x](http://evil.example/)")
    assert "://evil" not in card and "<img" not in card and "&#91;danh mục&#93;" in card  # `:` is `&#58;`
    shown = []
    monkeypatch.setattr(widgets.st, "info", lambda body, **_: shown.append(body))
    widgets.empty_state("Chưa có hồ sơ của [x](http://evil.example/)", "![](http://evil.example/t.png)")
    assert r"\[x\]\(http\://evil" in shown[0] and not re.search(r"(?<!\\)://", shown[0])


def test_plain_table_escapes_cells_and_headers(monkeypatch):
    """st.table renders Markdown in cells: the upload page's rejected rows go through plain_table."""
    import polars as pl

    from ui import widgets

    shown = []
    monkeypatch.setattr(widgets.st, "table", lambda frame, **_: shown.append(frame))
    widgets.plain_table(pl.DataFrame({"Dòng": [2, 3], "[Cột](http://evil.example/)": ["![](http://evil.example/t)", None]}))
    frame = shown[0]
    assert frame["Dòng"].to_list() == ["2", "3"]           # shown as display_frame formats numbers
    assert frame.columns[1] == r"\[Cột\]\(http\://evil\.example/\)"
    assert frame[frame.columns[1]].to_list()[0] == r"\!\[\]\(http\://evil\.example/t\)"
    assert frame[frame.columns[1]].to_list()[1] in (None, "")   # an empty cell stays empty


def test_dossier_load_with_a_quote_in_the_temp_folder(con, fixtures, tmp_path, monkeypatch):
    """The loader's staging files are read through a quoted literal, not a spliced path."""
    import tempfile

    odd = tmp_path / "t'mp'); DROP TABLE users; --"
    odd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(odd))
    assert load_dossier_file(con, fixtures / "golden.csv", province="40", today=TODAY).loaded == 10
    assert con.execute("SELECT count(*) FROM users").fetchall() == [(0,)]
