"""The audit log's details in Vietnamese (loaders.audit_text, the admin page's log): issue 16
item 5, no Python dict, raw role, cap name or unformatted number on screen."""

from __future__ import annotations

from loaders.audit_text import audit_detail


def test_upload_and_undo_counts():
    assert audit_detail("upload", "#2 {'rows_read': 1234, 'loaded': 1230, 'replaced': 0, 'duplicates': 1, "
                                  "'rejected': 3}") == (
        "Lần tải #2: 1.234 dòng đọc, 1.230 dòng nạp, 0 thay thế, 1 trùng lặp, 3 từ chối")
    assert audit_detail("undo", "#7 {'removed': 46230, 'restored': 2}") == (
        "Lần tải #7: 46.230 dòng gỡ, 2 phiên bản trước khôi phục")


def test_new_account_role_and_unit_by_name():
    names = {"40": "Tỉnh Nghệ An"}
    assert audit_detail("create_user", "lanhdao (leader, 40)", names.get) == "lanhdao (Lãnh đạo, Tỉnh Nghệ An)"
    assert audit_detail("create_user", "qt (admin, toàn quốc)", names.get) == "qt (Quản trị, toàn quốc)"


def test_cap_and_preset():
    assert audit_detail("set_limit", "max_rows = 500000") == "Số dòng tối đa của trang tính: 500.000"
    assert audit_detail("save_preset", 'mau.csv: {"Mã HS": "dossier_id", "Xã": "unit_code"}') == (
        "Tệp «mau.csv»: «Mã HS» → Mã hồ sơ; «Xã» → Mã đơn vị")
    cut = 'mau.csv: {"Mã HS": "dossier_id", "Xã": "unit_co'  # cut at 500 characters when logged
    assert "dossier_id" not in audit_detail("save_preset", cut)


def test_unknown_details_are_kept_with_their_numbers_grouped():
    assert audit_detail("login", "127.0.0.1") == "127.0.0.1"
    assert audit_detail("edit_targets", "1234 dòng") == "1.234 dòng"
    assert audit_detail("login", None) == ""
