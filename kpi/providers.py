"""The component providers of the KPI engine, listed once, in the order their counts are
merged: the dossier facts (kpi/engine.py), then the aggregate reports, the service
catalogues and the archive statistics (kpi/sources.py). Nothing registers itself on
import; the engine reads this list when it first computes (it imports kpi.engine, so the
engine imports it then, not at its own import). A new source adds one line here.

Each provider gives counts per unit for a Query (`counts`); optionally a group's counts
that replace the pooled sums (`group`: a province's own catalogue) and counts derived per
unit from the merged counts of every provider (`derive`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import polars as pl

from kpi import engine, sources


@dataclass(frozen=True)
class Provider:
    counts: Callable[[duckdb.DuckDBPyConnection, engine.Query], pl.DataFrame | None]
    group: Callable[[duckdb.DuckDBPyConnection, engine.Query, pl.DataFrame], dict] | None = None
    derive: Callable[[pl.DataFrame], pl.DataFrame] | None = None


PROVIDERS: tuple[Provider, ...] = (
    Provider(engine.dossier_components),
    Provider(sources.template_components),
    Provider(sources.catalogue_components, group=sources.catalogue_group, derive=sources.catalogued_dossiers),
    Provider(sources.archive_components),
)
