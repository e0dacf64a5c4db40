"""Tải dữ liệu lên: officers upload exports. The kind is detected, the column mapping is
shown and can be corrected (and saved for next month), rows are validated before
anything is written, then loaded in one transaction; rejected rows come back as a file
to fix and re-upload; every upload is listed and can be undone."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
from pathlib import Path

import polars as pl
import streamlit as st

from kpi import format as fmt
from loaders import history, sources
from loaders.batches import UndoError, undo_batch
from loaders.dossiers import FIELDS, load_dossier_file, match_headers
from loaders.files import LoadError
from loaders.preview import preview_dossier_file
from store import accounts
from ui import auth, data, state, widgets
from ui.text import md

widgets.page_style()
sel = state.sidebar()
st.title("Tải dữ liệu lên")
st.caption(f"Đơn vị đang chọn: {md(sel.unit_name)} · tên đơn vị trong tệp được đối chiếu trong {md(sel.province_name)}")

# The mapping's choices are the fields' Vietnamese labels (unique, like the fields).
SKIP = "(bỏ qua)"
FIELD_BY_LABEL = {label: key for key, (label, _h) in FIELDS.items()}
FIELD_CHOICES = [SKIP, *FIELD_BY_LABEL]


def _field_of(choice: str | None) -> str | None:
    return FIELD_BY_LABEL.get(choice or SKIP)


def _choice_of(field: str | None) -> str:
    return FIELDS[field][0] if field in FIELDS else SKIP


ROWS_NOTE = "Số dòng là số dòng như khi mở tệp bằng Excel (dòng tiêu đề là dòng 1 nếu nằm ở dòng đầu tệp)."
HISTORY_ROWS = 20
UPLOAD_PREFIX = "kpi-upload-"
STALE_HOURS = 12  # no run lasts this long: a copy this old was left by a process that died


def _save(upload, folder: Path) -> Path:
    """A copy of the upload for the loaders to read, in `folder`: a temporary directory that
    lives only as long as this run of the page (removed when the run ends, however it ends),
    so no uploaded file outlives the preview or load that needs it."""
    digest = hashlib.sha256(upload.getvalue()).hexdigest()[:12]
    path = folder / f"{digest}{Path(upload.name).suffix.lower() or '.csv'}"
    if not path.exists():
        path.write_bytes(upload.getvalue())
    return path


def _sweep_stale() -> None:
    """Remove upload copies left by a process that died mid-run (or by older versions)."""
    cutoff = time.time() - STALE_HOURS * 3600
    for folder in Path(tempfile.gettempdir()).glob(f"{UPLOAD_PREFIX}*"):
        try:
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            pass


def _undo(batch_id: int, account) -> None:
    """The undo button's action: the upload it was drawn for, undone as `account` (the
    undo itself checks again that it is active and that the account may write its units)."""
    try:
        with accounts.acting_as(account):
            counts = undo_batch(data.cursor(), batch_id, user=account.username if account else None)
    except (UndoError, accounts.AccessDenied) as exc:
        st.session_state["undo_error"] = str(exc)
        return
    st.session_state["undo_message"] = (
        f"Đã hoàn tác lần tải #{batch_id}: gỡ {fmt.number(counts.get('removed', 0))} dòng, "
        f"khôi phục {fmt.number(counts.get('restored', 0))} phiên bản trước.")


def _load(kind, path, name, manual, period, user, bar):
    if kind == "dossiers":
        return load_dossier_file(data.cursor(), path, sel.province, name=name, mapping=manual, user=user,
                                 progress=lambda f, m: bar.progress(min(1.0, f), text=m))
    return sources.load_file(data.cursor(), path, kind=kind, province=sel.province, period=period, user=user,
                             name=name)


account = auth.current()
if account is None or account.role not in accounts.WRITER_ROLES:  # hidden from the menu; a typed link ends here
    role = accounts.ROLES.get(account.role, account.role) if account else ""
    st.error(f"Tài khoản vai trò «{role}» không được tải dữ liệu lên: chỉ cán bộ một cửa và quản trị viên.")
    st.stop()
user = account.username
if account and account.role == "officer" and sel.unit != account.unit_code:
    st.warning("Cán bộ một cửa chỉ tải dữ liệu lên cho xã/phường của mình.")
uploads = widgets.file_uploader("Chọn tệp (CSV hoặc Excel .xlsx), có thể chọn nhiều tệp", ["csv", "xlsx", "txt"],
                                accept_multiple_files=True)

_sweep_stale()
with tempfile.TemporaryDirectory(prefix=UPLOAD_PREFIX, ignore_cleanup_errors=True) as upload_dir:
    for index, upload in enumerate(uploads or []):
        path = _save(upload, Path(upload_dir))
        with st.container(border=True):
            st.subheader(md(upload.name))
            detected = sources.detect_kind(path)
            kinds = list(sources.KINDS)
            kind = st.selectbox("Loại dữ liệu (tự nhận biết, có thể sửa)", kinds, index=kinds.index(detected),
                                format_func=lambda k: history.KIND_LABELS.get(k, k), key=f"kind_{index}_{path.stem}")
            manual = None
            period = None
            try:
                if kind == "dossiers":
                    # as the account, so the preview also shows the rows the write check will refuse
                    with accounts.acting_as(account):
                        con = data.cursor()
                        # read and validated once, with the preset saved for its headers if any
                        preview = preview_dossier_file(con, path, sel.province, name=upload.name, user=user)
                        table, fields = preview.table, preview.fields
                        if preview.preset:
                            st.caption("Đã áp dụng mẫu ánh xạ cột đã lưu cho bộ tiêu đề này.")
                        st.markdown("**Ánh xạ cột** (sửa nếu hệ thống nhận sai):")
                        by_header = {h: f for f, h in fields.items()}
                        editor = st.data_editor(
                            pl.DataFrame({"Cột trong tệp": table.headers,
                                          "Trường dữ liệu": [_choice_of(by_header.get(h)) for h in table.headers]}),
                            column_config={"Trường dữ liệu": st.column_config.SelectboxColumn(options=FIELD_CHOICES,
                                                                                              required=True),
                                           "Cột trong tệp": st.column_config.TextColumn(disabled=True)},
                            hide_index=True, key=f"map_{index}_{path.stem}", width="stretch")
                        edited = {row["Cột trong tệp"]: _field_of(row["Trường dữ liệu"]) for row in editor.iter_rows(named=True)}
                        manual = {h: f for h, f in edited.items() if f}
                        if manual != {h: f for f, h in fields.items()}:
                            preview = preview_dossier_file(con, path, sel.province, name=upload.name,
                                                           manual=manual)
                            table, fields = preview.table, match_headers(preview.table.headers, manual)
                        if st.button("Lưu ánh xạ này làm mẫu cho tháng sau", key=f"preset_{index}_{path.stem}"):
                            try:
                                history.save_preset(data.cursor(), table.headers, manual, upload.name, user or None)
                                st.success("Đã lưu mẫu ánh xạ cột.")
                            except accounts.AccessDenied as exc:
                                st.error(md(str(exc)))
                        # The counts add up to the rows read, and "sẽ được nạp" is what the load
                        # then reports as loaded (repeats within the file skipped, last one kept).
                        repeats = preview.duplicates
                        c1, c2, c3, c4 = st.columns(4)
                        c1.metric("Số dòng đọc được", fmt.number(preview.frame.height))
                        c2.metric("Dòng sẽ được nạp", fmt.number(preview.to_load))
                        c3.metric("Dòng trùng lặp trong tệp", fmt.number(repeats.height))
                        c4.metric("Dòng sẽ bị từ chối", fmt.number(preview.rejected))
                        st.caption(ROWS_NOTE)
                        with st.expander("Xem trước 20 dòng đầu"):
                            widgets.table(preview.head(20), widths={"Dòng": 60})
                        if repeats.height:
                            st.warning(
                                f"{fmt.number(repeats.height)} dòng trùng mã hồ sơ với một dòng sau trong tệp: "
                                "chỉ dòng sau cùng được nạp, các dòng này được bỏ qua.")
                            widgets.plain_table(repeats.head(50))
                        if preview.rejected:
                            bad = preview.rejected_rows()
                            st.markdown(f"**Các dòng sẽ bị từ chối** (hiển thị {fmt.number(min(bad.height, 50))}/"
                                        f"{fmt.number(bad.height)}):")
                            widgets.plain_table(bad.head(50))
                elif kind == "template":
                    period = st.text_input("Kỳ báo cáo (nếu biểu mẫu không ghi, vd. 2025-10)", value="",
                                           key=f"period_{index}_{path.stem}") or None
            except LoadError as exc:
                st.error(md(str(exc)))
                continue

            already = st.session_state.get(f"result_{path.stem}")
            if not already and st.button("Nạp vào kho dữ liệu", type="primary", key=f"load_{index}_{path.stem}"):
                bar = st.progress(0.0, text="Bắt đầu…")
                try:
                    with accounts.acting_as(account):
                        result = _load(kind, path, upload.name, manual, period, user, bar)
                    bar.progress(1.0, text="Hoàn tất.")
                    st.session_state[f"result_{path.stem}"] = result.summary()
                except (LoadError, accounts.AccessDenied) as exc:
                    bar.empty()
                    st.error(f"Tệp bị từ chối, kho dữ liệu không thay đổi: {md(str(exc))}")
            summary = st.session_state.get(f"result_{path.stem}")
            if summary:
                st.success(
                    f"Đã nạp lần tải #{summary['batch_id']}: {fmt.number(summary['loaded'])} dòng "
                    f"(thay thế {fmt.number(summary['replaced'])}, trùng lặp {fmt.number(summary['duplicates'])}), "
                    f"từ chối {fmt.number(len(summary['rejected']))}."
                )
                for warning in summary.get("warnings", []):
                    st.warning(md(warning))
                if summary["rejected"]:
                    rejected = history.rejected_frame(data.cursor(), summary["batch_id"])
                    st.caption(ROWS_NOTE)
                    widgets.plain_table(rejected.select("Dòng", "Cột lỗi", "Lý do").head(50))
                    widgets.excel_button(rejected, f"dong_bi_tu_choi_{summary['batch_id']}",
                                         "Tải các dòng bị từ chối (Excel) để sửa và tải lại",
                                         key=f"rej_{summary['batch_id']}")

st.divider()
st.subheader(f"Lịch sử tải lên — {md(sel.unit_name)}")
if message := st.session_state.pop("undo_message", None):
    st.success(md(message))
if refusal := st.session_state.pop("undo_error", None):
    st.error(md(refusal))
log = history.history(data.cursor(), province=sel.province if sel.is_province else None,
                      unit=None if sel.is_province else sel.unit)
if log.is_empty():
    widgets.empty_state("Chưa có lần tải lên nào cho đơn vị này.")
else:
    shown = log.select(
        pl.col("batch_id").alias("Lần tải"),
        pl.col("kind").replace_strict(history.KIND_LABELS, default=pl.col("kind")).alias("Loại"),
        pl.col("file_name").alias("Tệp"),
        pl.col("loaded_at").alias("Thời gian"),
        pl.col("loaded_by_name").alias("Người tải"),
        pl.col("loaded").alias("Dòng nạp"), pl.col("replaced").alias("Thay thế"),
        pl.col("rejected").alias("Từ chối"),
        pl.when(pl.col("status") == "active").then(pl.lit("Đang dùng"))
        .otherwise(pl.format("Đã hoàn tác {}", pl.col("undone_at").dt.strftime("%d/%m/%Y %H:%M"))).alias("Trạng thái"),
    )
    # The latest uploads in a table whose texts wrap (a grid cuts them at 1366 px: "Đã hoàn tác
    # 07/12/202"); the whole history is in the Excel file.
    if shown.height > HISTORY_ROWS:
        st.caption(f"{fmt.number(HISTORY_ROWS)} lần tải gần nhất trong {fmt.number(shown.height)}; "
                   "tải Excel để xem toàn bộ.")
    widgets.plain_table(shown.head(HISTORY_ROWS))
    widgets.excel_button(shown, f"lich_su_tai_len_{sel.unit}", "Tải lịch sử (Excel)", key="history_xlsx")
    # Offered: the active uploads this account may undo (the undo checks the same again).
    active = log.filter(pl.col("status") == "active")
    offered = history.undoable(data.cursor(), account, active["batch_id"].to_list())
    rows = {r["batch_id"]: r for r in active.iter_rows(named=True)}
    # The picker shows the store as it is now: when the offered uploads changed since the last
    # run (an upload or undo here, in another session or by the CLI), it starts again on the
    # newest instead of keeping a choice made over an older list.
    if st.session_state.get("undo_offered") != offered:
        st.session_state.pop("undo_pick", None)
        st.session_state["undo_offered"] = offered
    if offered:
        col1, col2 = st.columns([2, 3])
        chosen = col1.selectbox("Chọn lần tải để hoàn tác", offered, key="undo_pick",
                                format_func=lambda b: history.describe(rows[b]))
        # The confirmation and the button belong to the upload they name (their keys carry its
        # number), and the button undoes exactly that number, whatever the picker shows later.
        # (a label renders Markdown: the file name is shown literally)
        confirm = col2.checkbox(f"Tôi xác nhận hoàn tác toàn bộ lần tải {md(history.describe(rows[chosen]))}",
                                key=f"undo_confirm_{chosen}")
        col2.button("Hoàn tác", disabled=not confirm, key=f"undo_go_{chosen}", on_click=_undo,
                    args=(int(chosen), account))
