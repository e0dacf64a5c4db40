"""Loaders: read officers' files and other sources into the DuckDB store (no Streamlit here).

File reading and its guards (xlsx_guard, limits), the dossier loader, the other source kinds
and their one registry (`sources`), batches and undo, upload history and the `python -m
loaders` CLI. It imports `store` and `kpi` only (never reports, ui or pages).
"""


def missing_file(name: str) -> str:
    """What a load says of a file that is not there (here, not in files.py, so that the CLI
    going through the running server says it without importing the readers)."""
    return f"Không tìm thấy tệp «{name}»."
