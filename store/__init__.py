"""The store: the DuckDB file every door (pages, CLI, reports, the coming API) shares.

`db` (schema, connect, query helpers, the process's write lock and write transaction, the
reference units and target presets a new store starts with), `migrations` (named, ordered,
each applied once in a transaction), `components` (the dossier counts declared as values, from
which the monthly fact tables' columns are made) and `facts` (their rebuild), `accounts`
(accounts, sessions, audit log and the one permission rule: visible_units, can_view,
can_write, check_write), `backup` (`python -m store.backup`), `lake` (the Parquet export,
`python -m store.lake export`) and `sqlquote`. It is the bottom layer: it imports nothing of
the project (no kpi, loaders, reports, ui or pages) and no Streamlit.
"""
