"""Streamlit presentation helpers shared by the pages (state, cached data, widgets).
All figures come from kpi/ and loaders/; nothing here computes a KPI."""
