"""KPI engine: one definition of every KPI of docs/domain.md, shared by CLI, pages and tests."""
