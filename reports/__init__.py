"""Periodic reports (báo cáo định kỳ) for a unit and period.

`builder.build()` collects the content from the KPI engine into a `Report`; `excel`,
`word` and `pdf` lay the same structure out as .xlsx, .docx and .pdf; `charts` draws the
monthly trend as a PNG. It imports `store`, `kpi` and `loaders` (never ui or pages);
nothing here imports Streamlit.
"""

from reports.builder import OverdueTask, Report, build

__all__ = ["OverdueTask", "Report", "build"]
