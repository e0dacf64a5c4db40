"""Every KPI of docs/domain.md, declared once: id, Vietnamese label, numerator and denominator
(names of components), and how the value is formed. The CLI, the pages, the reports and
the tests all read this table."""

from __future__ import annotations

from dataclasses import dataclass

from kpi import format as fmt
from kpi.periods import Period


@dataclass(frozen=True)
class KpiDef:
    id: str
    label: str                    # Vietnamese, for pages and reports
    numerator: str                # component name
    denominator: str | None       # component name; None for a plain count
    kind: str                     # rate | count | ratio
    source: str                   # dossier | catalogue | archive | (dossier+catalogue)
    formula: str                  # Vietnamese, shown where a figure is traced
    higher_is_better: bool = True
    annualised: bool = False      # value x 365 / days in the period
    # A count that must be positive for the KPI to have data behind it (dossiers_per_service:
    # dossiers received in the period); without it the KPI is "no data", not 0.
    requires: str | None = None
    # Short column header: a KPI that has one is a column of the drill-down's tables.
    short: str | None = None

    def value(self, numerator: float | None, denominator: float | None, period: Period) -> float | None:
        if numerator is None:
            return None
        if self.denominator is None:
            return float(numerator)
        if not denominator:
            return None  # no data is not zero
        value = numerator / denominator
        if self.annualised:
            value *= 365 / period.days
        return value

    def format(self, value: float | None) -> str:
        """The one text of this KPI's value (kpi.format.format_value): cards, tables, CLI, reports."""
        return fmt.format_value(self, value)

    def format_target(self, value: float | None) -> str:
        return fmt.format_target(self, value)

    def format_gap(self, gap: float, signed: bool = True) -> str:
        return fmt.format_gap(self, gap, signed)


KPIS: dict[str, KpiDef] = {k.id: k for k in (
    KpiDef("received", "Hồ sơ tiếp nhận", "received", None, "count", "dossier",
           "Số hồ sơ tiếp nhận trong kỳ", short="Tiếp nhận"),
    KpiDef("online_submission_rate", "Tỷ lệ hồ sơ nộp trực tuyến", "received_online", "received", "rate", "dossier",
           "Hồ sơ nộp trực tuyến / hồ sơ tiếp nhận trong kỳ", short="Nộp trực tuyến"),
    KpiDef("full_online_rate", "Tỷ lệ hồ sơ xử lý hoàn toàn trực tuyến", "fully_online", "fully_online_known", "rate",
           "dossier", "Hồ sơ xử lý toàn trình / hồ sơ tiếp nhận trong kỳ (có thông tin toàn trình)", short="Toàn trình"),
    KpiDef("digitisation_rate", "Tỷ lệ hồ sơ được số hóa", "digitised", "digitised_known", "rate", "dossier",
           "Hồ sơ đã số hóa / hồ sơ tiếp nhận trong kỳ"),
    KpiDef("data_reuse_rate", "Tỷ lệ hồ sơ tái sử dụng dữ liệu", "data_reused", "data_reused_known", "rate", "dossier",
           "Hồ sơ tái sử dụng dữ liệu số hóa / hồ sơ tiếp nhận trong kỳ"),
    KpiDef("e_result_rate", "Tỷ lệ cấp kết quả điện tử", "e_result", "e_result_known", "rate", "dossier",
           "Hồ sơ có kết quả điện tử / hồ sơ giải quyết xong trong kỳ", short="Kết quả điện tử"),
    KpiDef("on_time_rate", "Tỷ lệ giải quyết đúng hạn", "finished_on_time", "finished_with_due", "rate", "dossier",
           "Hồ sơ giải quyết xong không quá hạn / hồ sơ giải quyết xong có ngày hẹn trả", short="Đúng hạn"),
    KpiDef("overdue_open", "Hồ sơ đang giải quyết quá hạn", "overdue_open", None, "count", "dossier",
           "Hồ sơ đã nhận, chưa có kết quả và đã quá hạn tại cuối kỳ (hoặc hôm nay)", higher_is_better=False,
           short="Quá hạn chưa giải quyết"),
    KpiDef("paid_online_rate", "Tỷ lệ hồ sơ thanh toán trực tuyến", "paid_online", "paid_online_known", "rate",
           "dossier", "Hồ sơ thanh toán trực tuyến / hồ sơ tiếp nhận trong kỳ (có thông tin thanh toán)",
           short="Thanh toán trực tuyến"),
    KpiDef("online_services", "Số dịch vụ công trực tuyến", "services", None, "count", "catalogue",
           "Dịch vụ trong danh mục của đơn vị (toàn trình + một phần)"),
    KpiDef("full_online_services_on_portal", "DVCTT toàn trình trên Cổng DVCQG", "services_full_on_portal", None,
           "count", "catalogue", "Dịch vụ toàn trình được công khai trên Cổng Dịch vụ công quốc gia"),
    # Numerator and data check count only the dossiers of units that have a catalogue (a province
    # without its own: its communes with one), so both sides cover the same units (docs/domain.md).
    KpiDef("dossiers_per_service", "Hồ sơ trực tuyến bình quân mỗi dịch vụ (năm)", "catalogued_received_online",
           "services_counted", "ratio", "dossier+catalogue",
           "Hồ sơ trực tuyến trong kỳ / dịch vụ không được miễn chỉ tiêu, quy ra năm (× 365 / số ngày của kỳ)",
           annualised=True, requires="catalogued_received"),
    KpiDef("location_free_rate", "Tỷ lệ TTHC không phụ thuộc địa giới hành chính", "services_location_free",
           "services_listed", "rate", "catalogue", "TTHC thực hiện không phụ thuộc địa giới / tổng TTHC trong danh mục"),
    KpiDef("business_online_rate", "Tỷ lệ TTHC liên quan doanh nghiệp được cung cấp trực tuyến",
           "business_services_online", "business_services", "rate", "catalogue",
           "TTHC liên quan doanh nghiệp có DVCTT / tổng TTHC liên quan doanh nghiệp"),
    KpiDef("archive_digitisation_rate", "Tỷ lệ số hóa tài liệu lưu trữ giá trị cao", "archive_digitised",
           "archive_total", "rate", "archive", "Tài liệu lưu trữ giá trị cao đã số hóa (lũy kế) / tổng, tại cuối kỳ"),
    KpiDef("e_document_rate", "Tỷ lệ văn bản xử lý trên môi trường điện tử", "documents_electronic", "documents_total",
           "rate", "archive", "Văn bản tạo lập và xử lý điện tử / tổng văn bản phát sinh trong kỳ"),
)}

DOSSIER_KPIS = [k for k, d in KPIS.items() if d.source == "dossier"]

STATUS_LABELS = {
    "met": "Đạt",
    "on_track": "Đúng tiến độ",
    "at_risk": "Có nguy cơ",
    "missed": "Không đạt",
    "no_data": "Chưa có dữ liệu",
    "no_target": "Không có chỉ tiêu",
}
STATUS_COLORS = {
    "met": "#1a7f37",
    "on_track": "#2f81f7",
    "at_risk": "#d29922",
    "missed": "#cf222e",
    "no_data": "#8c959f",
    "no_target": "#8c959f",
}
