"""KPI engine: one definition of every KPI of DOMAIN.md, shared by CLI, pages and tests."""
