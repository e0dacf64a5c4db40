"""Loaders: read officers' files and other sources into the DuckDB store (no Streamlit here)."""
