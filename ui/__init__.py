"""Streamlit presentation helpers shared by the pages (state, cached data, widgets).

All figures come from kpi/ and loaders/ (and the store's accounts); nothing here computes a
KPI or holds SQL. It may import `store`, `kpi`, `loaders` and `reports`, never `pages` or
`app`.
"""
