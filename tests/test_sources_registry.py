"""One explicit registry of source kinds (loaders/sources.py) and one list of KPI component
providers (kpi/providers.py): nothing registers itself on import, so a fresh process that
imports only the registry detects, loads and undoes every kind, and one that imports only
the KPI engine gets every source's components."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from loaders import sources
from store import db as store

from .conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
PROVINCE = "40"
FILES = {  # kind -> a file of it
    "dossiers": FIXTURES / "golden.csv",
    "template": FIXTURES / "template_06a.csv",
    "catalogue": FIXTURES / "catalogue_nghia_tho.csv",
    "archive": FIXTURES / "archive_nghe_an.csv",
    "tasks": FIXTURES / "tasks_van_tu.csv",
}


def _sql_config(tmp_path: Path) -> Path:
    """A one-door database (SQLite) with two dossiers and its source config."""
    db = tmp_path / "motcua.sqlite"
    with sqlite3.connect(db) as c:
        c.execute("""CREATE TABLE ho_so (ma_ho_so TEXT, ma_xa TEXT, ma_tthc TEXT, ten_tthc TEXT, linh_vuc TEXT,
                     kenh_nop TEXT, ngay_tiep_nhan TEXT, han_xu_ly TEXT, ngay_co_ket_qua TEXT, trang_thai TEXT,
                     toan_trinh TEXT, updated_at TEXT)""")
        c.executemany("INSERT INTO ho_so VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            ("SQL01", "16969", "1.001193", "Đăng ký khai sinh", "Hộ tịch", "Trực tuyến", "2025-09-02 08:00:00",
             "2025-09-10", "2025-09-09 10:00:00", "Đã trả kết quả", "Có", "2025-09-09 10:00:00"),
            ("SQL02", "16969", "9.999001", "Thủ tục mới", "Hộ tịch", "Trực tiếp", "2025-09-03 08:00:00",
             "2025-09-12", None, "Đang giải quyết", "Không", "2025-09-03 08:00:00")])
    config = tmp_path / "motcua.toml"
    config.write_text(
        f'name = "Một cửa thử"\nurl = "sqlite:///{db}"\nwatermark = "updated_at"\nprovince = "{PROVINCE}"\n'
        'query = "SELECT * FROM ho_so WHERE updated_at >= :since ORDER BY updated_at"\n'
        '[mapping]\nma_xa = "unit_code"\n', encoding="utf-8")
    return config


def _run(script: str, *args: str) -> dict | list:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_every_kind_is_declared_once_with_the_tables_its_batches_write(con):
    assert [k.kind for k in sources.SOURCE_KINDS] == ["dossiers", "template", "catalogue", "archive", "tasks", "sql"]
    assert sources.KINDS == ("dossiers", "template", "catalogue", "archive", "tasks")  # CLI --kind, upload page
    assert set(sources.LABELS) == set(sources.KIND)
    for kind in sources.SOURCE_KINDS:
        assert kind.label and kind.label != kind.kind and kind.tables, kind.kind
        assert (kind.detect is None) == (kind.kind in ("dossiers", "sql")), kind.kind
        assert kind.undo is not None or kind.keys, f"{kind.kind}: generic undo needs the replacement keys"
        for table in kind.tables:
            columns = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
            assert "batch_id" in columns, (kind.kind, table)
            if kind.undo is None:
                assert {"superseded_by", *kind.keys} <= columns, (kind.kind, table)
    source = (ROOT / "loaders" / "sources.py").read_text(encoding="utf-8")
    assert "inspect" not in source and "register(" not in source


def test_load_file_refuses_a_kind_that_is_not_a_file(tmp_path, con):
    import pytest

    from loaders.files import LoadError

    with pytest.raises(LoadError, match="Không hỗ trợ loại tệp «sql»"):
        sources.load_file(con, _sql_config(tmp_path), kind="sql")


LOAD = r"""
import json, sys
from pathlib import Path
from loaders import sources
from store import db as store
early = [m for m in ("loaders.batches", "loaders.dossiers", "loaders.template", "loaders.catalogue",
                     "loaders.archive", "loaders.tasks", "loaders.sql_source") if m not in sys.modules]
files = json.loads(sys.argv[2])
con = store.connect(sys.argv[1])
out = {"missing_after_import": early, "detected": {}, "batches": {}, "loaded": {}}
for kind, path in files.items():
    out["detected"][kind] = sources.detect_kind(Path(path))
for source in sources.SOURCE_KINDS:
    result = source.load(con, Path(files[source.kind] if source.kind in files else sys.argv[3]),
                         province=sys.argv[4], unit=None, period=None, user=None, name=None, mapping=None)
    out["batches"][source.kind], out["loaded"][source.kind] = result.batch_id, result.loaded
    out.setdefault("rows", {})[source.kind] = {
        t: con.execute(f"SELECT count(*) FROM {t} WHERE batch_id = ?", [result.batch_id]).fetchall()[0][0]
        for t in source.tables}
print(json.dumps(out))
"""

UNDO = r"""
import json, sys
from loaders import batches
from store import db as store
assert "loaders.sources" not in sys.modules and "loaders.catalogue" not in sys.modules, sorted(sys.modules)
con = store.connect(sys.argv[1])
print(json.dumps({b: batches.undo_batch(con, int(b)) for b in sys.argv[2:]}))
"""


def test_a_fresh_process_with_only_the_registry_detects_loads_and_undoes_every_kind(tmp_path):
    path = tmp_path / "kpi.duckdb"
    store.connect(path).close()
    files = {k: str(p) for k, p in FILES.items()}
    loaded = _run(LOAD, str(path), json.dumps(files), str(_sql_config(tmp_path)), PROVINCE)
    assert loaded["missing_after_import"] == []  # the registry imports every loader itself
    assert loaded["detected"] == {k: k for k in FILES}
    assert set(loaded["batches"]) == set(sources.KIND)
    for kind, rows in loaded["rows"].items():
        assert loaded["loaded"][kind] > 0 and rows[sources.KIND[kind].tables[0]] == loaded["loaded"][kind], kind
    assert loaded["rows"]["sql"]["procedures_added"] == 1  # the unknown procedure 9.999001

    ids = {str(b): kind for kind, b in loaded["batches"].items()}
    undone = _run(UNDO, str(path), *sorted(ids, key=int, reverse=True))  # newest first
    con = store.connect(path)
    try:
        for batch, kind in ids.items():
            assert undone[batch]["removed"] == loaded["loaded"][kind], kind
            for table in sources.KIND[kind].tables:
                assert con.execute(f"SELECT count(*) FROM {table} WHERE batch_id = ?",
                                   [int(batch)]).fetchall()[0][0] == 0, (kind, table)
        assert con.execute("SELECT count(*) FROM batches WHERE status <> 'undone'").fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM dossiers").fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM procedures WHERE procedure_code = '9.999001'").fetchall()[0][0] == 0
    finally:
        con.close()


def test_the_kpi_providers_are_one_explicit_list():
    from kpi import engine, providers
    from kpi import sources as kpi_sources

    assert not hasattr(engine, "register_provider")
    assert [p.counts for p in providers.PROVIDERS] == [
        engine.dossier_components, kpi_sources.template_components, kpi_sources.catalogue_components,
        kpi_sources.archive_components]
    assert engine.providers() is providers.PROVIDERS


KPI = r"""
import json, sys
import duckdb
from kpi import engine
from kpi.periods import parse
assert "kpi.sources" not in sys.modules and "kpi.providers" not in sys.modules  # nothing imported as a side effect
con = duckdb.connect(sys.argv[1], read_only=True)
values = engine.compute(con, parse("2025-10"), sys.argv[2], today=parse("2025-12").end)
loaders = sorted(m for m in sys.modules if m == "loaders" or m.startswith("loaders."))
print(json.dumps({"values": {v.kpi: [v.value, v.numerator, v.denominator] for v in values}, "loaders": loaders}))
"""


def test_the_engine_alone_in_a_fresh_process_gets_every_source_s_components(tmp_path):
    from kpi.engine import compute
    from kpi.periods import parse
    from loaders.archive import load_archive_file
    from loaders.catalogue import load_catalogue_file
    from loaders.template import load_template_file

    path = tmp_path / "kpi.duckdb"
    con = store.connect(path)
    load_template_file(con, FILES["template"], province=PROVINCE)
    load_catalogue_file(con, FILES["catalogue"], province=PROVINCE)
    load_archive_file(con, FILES["archive"], province=PROVINCE)
    here = {v.kpi: [v.value, v.numerator, v.denominator]
            for v in compute(con, parse("2025-10"), PROVINCE, today=parse("2025-12").end)}
    con.close()
    fresh = _run(KPI, str(path), PROVINCE)
    assert fresh["loaders"] == []  # the KPI providers need nothing of the loaders
    assert fresh["values"] == here
    for kpi in ("online_services", "location_free_rate", "archive_digitisation_rate", "received", "on_time_rate"):
        assert fresh["values"][kpi][0] is not None, kpi  # catalogue, archive and template counts all came
