"""Errors every door reports the same way (standard library only: a CLI catches them without
importing DuckDB first)."""

from __future__ import annotations


class StoreUnavailable(RuntimeError):
    """The store cannot be opened: held by another process, not a DuckDB file, unreadable, or
    (StoreOutdated) not yet migrated. The message is Vietnamese and names the file."""
