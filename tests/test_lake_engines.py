"""Acceptance of issue 19: the same KPIs from the store, from its exported lake read by
DuckDB, and from the lake read by Spark SQL (local[2]), printed by `python -m kpi` as
identical JSON.

A messy dossier export, a clean one, a TT 01/2020 template report, a service catalogue and
archive statistics are loaded into a store file by `python -m loaders`, exported by
`python -m store.lake export`, then `python -m kpi` runs with `--db`, `--lake` and
`--lake --engine spark` for a month, a quarter, a year and a date range, for the province
and `--by commune`. One Spark session serves the module (its fixture); the CLI's main()
runs in-process, plus one real subprocess for the Spark path. Spark answers each of the
engine's ~10 statements in 1-3 s on this 2-core machine (job scheduling, not data), so it
runs --by commune in-process for every period (the province's records lead that output)
and the province alone in the subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kpi import __main__ as kpi_cli
from kpi import lake_engine
from loaders import __main__ as loaders_cli
from store import lake as store_lake

from .conftest import FIXTURES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TODAY = "2025-11-15"
PERIODS = ("2025-10", "2025-Q4", "2025", "2025-09-01..2025-10-15")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("lake_engines")
    db, lake = root / "kpi.duckdb", root / "lake"
    for files in (("messy.csv", "golden.csv"), ("template_06a.csv",), ("catalogue_province.csv",),
                  ("archive_nghe_an.csv",)):
        code = loaders_cli.main([*(str(FIXTURES / f) for f in files), "--db", str(db), "--province", "40",
                                 "--format", "json"])
        assert code == 0, files
    assert store_lake.main(["export", "--db", str(db), "--out", str(lake)]) == 0
    return db, lake


@pytest.fixture(scope="module")
def spark():
    session = lake_engine.spark_session()  # local[2], 1g driver, no UI, bound to 127.0.0.1
    yield session
    session.stop()


def _kpi_json(capsys, *args) -> str:
    capsys.readouterr()
    code = kpi_cli.main([*args, "--today", TODAY, "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


@pytest.mark.parametrize("period", PERIODS)
def test_store_lake_and_spark_print_identical_json(exported, spark, capsys, period):
    db, lake = exported
    province = ("--period", period, "--unit", "40")
    communes = (*province, "--by", "commune")
    from_store = _kpi_json(capsys, "--db", str(db), *communes)
    assert _kpi_json(capsys, "--lake", str(lake), *communes) == from_store
    assert _kpi_json(capsys, "--lake", str(lake), "--engine", "spark", *communes) == from_store
    province_only = _kpi_json(capsys, "--db", str(db), *province)
    assert _kpi_json(capsys, "--lake", str(lake), *province) == province_only
    # the province's own records lead the --by commune output: Spark printed them above (and
    # prints them alone in test_spark_cli_in_a_real_process)
    records, alone = json.loads(from_store), json.loads(province_only)
    assert records[:len(alone)] == alone and len(records) > 100 * len(alone)  # 130 communes
    # the sources all take part: dossiers, the template (October), the catalogue, the archive
    by_kpi = {r["kpi"]: r for r in alone}
    assert by_kpi["received"]["numerator"] and by_kpi["online_services"]["value"], by_kpi
    assert {r["status"] for r in records} - {"no_data"}


def test_spark_cli_in_a_real_process(exported, capsys):
    """The command as a ministry types it, for the province alone: its own JVM, same JSON as
    the store's."""
    db, lake = exported
    args = ["--period", "2025-Q4", "--unit", "40", "--today", TODAY, "--format", "json"]
    run = subprocess.run([sys.executable, "-m", "kpi", "--lake", str(lake), "--engine", "spark",
                          "--spark-master", "local[1]", *args],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout == _kpi_json(capsys, "--db", str(db), *args[:-4])
    assert "Traceback" not in run.stderr and "FutureWarning" not in run.stderr


def test_lake_cli_refuses_a_folder_that_is_no_lake(tmp_path, capsys):
    code = kpi_cli.main(["--lake", str(tmp_path), "--period", "2025-Q4", "--unit", "40"])
    assert code == 2
    assert "không phải thư mục dữ liệu đã xuất" in capsys.readouterr().err


def test_spark_master_from_sparks_own_configuration(tmp_path, monkeypatch):
    """No --spark-master and no $SPARK_MASTER: spark-defaults.conf decides, local[2] only
    when it names no master."""
    monkeypatch.delenv("SPARK_HOME", raising=False)
    monkeypatch.setenv("SPARK_CONF_DIR", str(tmp_path))
    assert lake_engine._configured_master() is None
    (tmp_path / "spark-defaults.conf").write_text("# cluster\nspark.executor.memory 4g\nspark.master   yarn\n")
    assert lake_engine._configured_master() == "yarn"
