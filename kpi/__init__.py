"""KPI engine: one definition of every KPI of docs/domain.md, shared by CLI, pages and tests.

Definitions, periods, targets, series, projection, drill-down, plan tasks, text helpers and
the `python -m kpi` CLI. It reads the store and imports only `store` (never loaders, reports,
ui or pages) and no Streamlit.
"""
