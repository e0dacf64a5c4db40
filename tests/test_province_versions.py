"""units.province_versions: a province's cache key moves with its own uploads and undos only
(so the national map recomputes one province after an upload, not 34)."""

from __future__ import annotations

from datetime import date

from kpi.units import data_version, province_versions
from loaders.batches import undo_batch
from loaders.dossiers import load_dossier_file

from .test_api import HEADER

TODAY = date(2025, 11, 15)


def write(tmp_path, name: str, commune: str, ids: list[str]):
    path = tmp_path / name
    path.write_text(HEADER + "".join(f"{i},{commune},1.001193,Đăng ký khai sinh,Hộ tịch,Trực tuyến,02/10/2025,"
                                     "10/10/2025,09/10/2025,Đã trả kết quả,Có,Có,Có,Có\n" for i in ids),
                    encoding="utf-8")
    return path


def test_a_provinces_version_moves_with_its_own_batches_only(con, tmp_path):
    before = province_versions(con)
    assert before["40"] == ("tỉnh", "40", 0, 0) and len(before) == 34
    nghe_an = load_dossier_file(con, write(tmp_path, "a.csv", "16969", ["A1"]), province="40", today=TODAY)
    after_40 = province_versions(con)
    assert after_40["40"] == ("tỉnh", "40", nghe_an.batch_id, 0)
    assert after_40["01"] == before["01"]                        # Hà Nội untouched
    ha_noi = load_dossier_file(con, write(tmp_path, "b.csv", "00004", ["B1"]), province="01", today=TODAY)
    after_01 = province_versions(con)
    assert after_01["40"] == after_40["40"] and after_01["01"] == ("tỉnh", "01", ha_noi.batch_id, 0)
    undo_batch(con, nghe_an.batch_id)
    undone = province_versions(con)
    assert undone["40"] == ("tỉnh", "40", nghe_an.batch_id, 1) and undone["01"] == after_01["01"]
    assert data_version(con) == (ha_noi.batch_id, 1)
    # A batch that names no province and wrote no unit counts for every province.
    con.execute("INSERT INTO batches (batch_id, kind, loaded_at, status) VALUES (99, 'tasks', now(), 'active')")
    everywhere = province_versions(con)
    assert everywhere["40"][2] == everywhere["01"][2] == everywhere["25"][2] == 99
