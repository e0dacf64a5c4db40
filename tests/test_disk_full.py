"""Disk full (issue 13, item 3): a load whose store or temp folder is on a full filesystem
says so in Vietnamese (text and `--format json` of `python -m loaders`), naming the file and
keeping "No space left on device" in the detail, never a traceback; the store is as before.

The full filesystems are small tmpfs mounts (needs root and mount permission; skipped with
the reason otherwise)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from loaders.dossiers import load_dossier_file
from loaders.files import LoadError
from store import db as store

from .conftest import FIXTURES, TODAY, db_state

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tmpfs(tmp_path):
    """mount(size) -> a fresh tmpfs of that size (e.g. "2m"), unmounted afterwards."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        where = tmp_path / f"tmpfs{len(mounted)}"
        where.mkdir()
        run = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {run.stderr.strip()}")
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def fill(folder: Path, leave: int) -> None:
    """Fill the filesystem of `folder` until only about `leave` bytes are free."""
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with open(folder / "filler", "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))


def big_export(path: Path, rows: int) -> Path:
    header = "Mã hồ sơ,Mã xã,Đơn vị,Tên TTHC,Lĩnh vực,Kênh nộp,Ngày tiếp nhận,Trạng thái,Toàn trình\n"
    with open(path, "w", encoding="utf-8") as out:
        out.write(header)
        for i in range(rows):
            out.write(f"Z{i:07d}-{i * 7919 % 100003:06d},16969,Xã Nghĩa Thọ,Thủ tục {i % 97},Hộ tịch,Trực tuyến,"
                      f"{1 + i % 28:02d}/09/2025,Đang giải quyết {i},Có\n")
    return path


def vietnamese_disk_full(message: str, name: str) -> None:
    assert f"«{name}»" in message and "hết chỗ trống" in message and "No space left on device" in message, message
    assert "Kho dữ liệu không thay đổi" in message and "Traceback" not in message and "rollback" not in message


def test_full_temp_folder_is_said_in_vietnamese_and_the_store_is_unchanged(con, tmp_path, tmpfs, monkeypatch):
    load_dossier_file(con, FIXTURES / "golden.csv", province="40", today=TODAY)
    before = db_state(con)
    temp = tmpfs("1m")
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    export = big_export(tmp_path / "lon.csv", 60_000)
    with pytest.raises(LoadError) as error:
        load_dossier_file(con, export, province="40", today=TODAY)
    vietnamese_disk_full(str(error.value), "lon.csv")
    assert "thư mục tạm" in str(error.value)
    assert db_state(con) == before
    assert not list(temp.iterdir())  # the staging folder is removed
    monkeypatch.undo()
    # The connection is still usable: the same file loads once there is room.
    assert load_dossier_file(con, export, province="40", today=TODAY).loaded == 60_000


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_full_store_disk_is_said_in_vietnamese_by_the_cli_and_the_store_is_unchanged(tmp_path, tmpfs, fmt):
    disk = tmpfs("12m")
    db = disk / "kpi.duckdb"
    con = store.connect(str(db))
    load_dossier_file(con, FIXTURES / "golden.csv", province="40", today=TODAY)
    before = db_state(con)
    con.close()
    export = big_export(tmp_path / "lon.csv", 60_000)
    fill(disk, 64 * 1024)
    run = subprocess.run([sys.executable, "-m", "loaders", str(export), "--db", str(db), "--province", "40",
                          "--format", fmt], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr[-3000:]
    message = json.loads(run.stdout)["error"] if fmt == "json" else run.stdout
    vietnamese_disk_full(message, "lon.csv")
    assert "kho dữ liệu" in message
    (disk / "filler").unlink()
    con = store.connect(str(db))
    try:
        assert db_state(con) == before
    finally:
        con.close()
