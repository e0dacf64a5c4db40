"""Every kind of source, declared once: its id, its Vietnamese label, how a file of it is
recognised, how it is loaded, which tables its batches write and how a batch of it is
undone. The CLI, the upload page, the upload history and undo all read this list; nothing
registers itself when imported, and every load function takes the same arguments:

    load(con, path, *, province, unit, period, user, name, mapping) -> LoadResult

(a kind ignores the arguments it has no use for). Undo (`SourceKind.undo_batch`, called by
`batches.undo_batch`) removes the batch's rows from each of the kind's `tables` and brings
back the rows they had replaced (rows with the same `keys`), unless the kind names its own
undo: dossier uploads put earlier versions back from `dossier_history`, drop the procedures
they added and recompute the monthly facts. What every batch writes besides (`batches`,
`batch_units`, `rejected_rows`; `sql_pulls` for a pull) is the upload's record, kept after
an undo.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from loaders import aggregate, archive, batches, catalogue, dossiers, sql_source, tasks, template
from loaders.files import LoadError, disk_full_said

Loader = Callable[..., dossiers.LoadResult]


@dataclass(frozen=True)
class SourceKind:
    kind: str                                       # stored in batches.kind
    label: str                                      # Vietnamese, as pages and the history name it
    load: Loader                                    # load(con, path, *, province, unit, period, user, name, mapping)
    detect: Callable[[Path], int] | None = None     # score of a file (0: not this kind); None: never guessed
    tables: tuple[str, ...] = ()                    # the tables its batches write rows to (each has batch_id)
    keys: tuple[str, ...] = ()                      # a later batch's row with the same keys replaces a row
    undo: Callable[[duckdb.DuckDBPyConnection, int], dict] | None = None  # own undo, else the generic one
    upload: bool = True                             # offered as a file kind (CLI --kind, upload page)

    def undo_batch(self, con: duckdb.DuckDBPyConnection, batch_id: int) -> dict:
        """Remove batch `batch_id`'s rows of this kind, restoring what they replaced:
        {"removed": n, "restored": n}. Runs inside batches.undo_batch's transaction."""
        if self.undo is not None:
            return self.undo(con, batch_id)
        counts = {"removed": 0, "restored": 0}
        for table in self.tables:
            for key, value in aggregate.undo_rows(con, table, self.keys, batch_id).items():
                counts[key] += value
        return counts


# ------------------------------------------------------------------ the load functions, one signature
def _load_dossiers(con, path, *, province=None, unit=None, period=None, user=None, name=None, mapping=None):
    return dossiers.load_dossier_file(con, path, province, name=name, mapping=mapping, user=user)


def _load_template(con, path, *, province=None, unit=None, period=None, user=None, name=None, mapping=None):
    return template.load_template_file(con, path, province, name=name, period=period, unit=unit, user=user)


def _load_catalogue(con, path, *, province=None, unit=None, period=None, user=None, name=None, mapping=None):
    return catalogue.load_catalogue_file(con, path, province, name=name, unit=unit, user=user)


def _load_archive(con, path, *, province=None, unit=None, period=None, user=None, name=None, mapping=None):
    return archive.load_archive_file(con, path, province, name=name, period=period, unit=unit, user=user)


def _load_tasks(con, path, *, province=None, unit=None, period=None, user=None, name=None, mapping=None):
    return tasks.load_tasks_file(con, path, province, name=name, unit=unit, user=user)


def _load_sql(con, path, *, province=None, unit=None, period=None, user=None, name=None, mapping=None):
    """`path` is the source's config (.toml or .json, see loaders/sql_source.py): one pull."""
    return sql_source.pull(con, sql_source.load_config(path), user=user)


DOSSIER_TABLES = ("dossiers", "dossier_history", "procedures_added")  # + the monthly facts, recomputed

# In this order: the CLI's --kind choices and the upload page's list; a file scoring the
# same for two kinds is taken as the first.
SOURCE_KINDS: tuple[SourceKind, ...] = (
    SourceKind("dossiers", "Danh sách hồ sơ", _load_dossiers, None, DOSSIER_TABLES, undo=batches.undo_dossiers),
    SourceKind("template", "Biểu mẫu báo cáo (TT 01/2020)", _load_template, template.detect,
               (template.TABLE,), template.KEYS),
    SourceKind("catalogue", "Danh mục dịch vụ công", _load_catalogue, catalogue.detect,
               (catalogue.TABLE,), catalogue.KEYS),
    SourceKind("archive", "Số liệu lưu trữ, văn bản", _load_archive, archive.detect, (archive.TABLE,), archive.KEYS),
    SourceKind("tasks", "Danh sách nhiệm vụ", _load_tasks, tasks.detect, (tasks.TABLE,), tasks.KEYS),
    SourceKind("sql", "Cơ sở dữ liệu một cửa (SQL)", _load_sql, None, DOSSIER_TABLES, undo=batches.undo_dossiers,
               upload=False),
)
KIND = {k.kind: k for k in SOURCE_KINDS}
KINDS = tuple(k.kind for k in SOURCE_KINDS if k.upload)  # the kinds a file is uploaded as
LABELS = {k.kind: k.label for k in SOURCE_KINDS}


def detect_kind(path: Path) -> str:
    """The kind whose detector scores the file highest; dossier exports by default."""
    best, best_score = "dossiers", 0
    for source in SOURCE_KINDS:
        if source.detect is None:
            continue
        try:
            score = source.detect(path)
        except LoadError:
            score = 0
        if score > best_score:
            best, best_score = source.kind, score
    return best


def load_file(con, path, *, kind: str | None = None, province: str | None = None, period: str | None = None,
              user: str | None = None, name: str | None = None, mapping: dict | None = None,
              unit: str | None = None):
    path = Path(path)
    kind = kind or detect_kind(path)
    source = KIND.get(kind)
    if source is None or not source.upload:
        raise LoadError(f"Không hỗ trợ loại tệp «{kind}».")
    with disk_full_said(name or path.name):  # every kind: a full disk is said in Vietnamese
        return source.load(con, path, province=province, unit=unit, period=period, user=user, name=name,
                           mapping=mapping)
