"""Which kind a file is, and the loader for each kind: one entry point for the CLI and
the upload page."""

from __future__ import annotations

import inspect
from pathlib import Path

from loaders import dossiers
from loaders.files import LoadError, disk_full_said

KINDS = ("dossiers",)
LOADERS = {"dossiers": dossiers.load_dossier_file}
DETECTORS: list = []  # (kind, score(path) -> int); filled by the source modules


def register(kind: str, loader, detector=None) -> None:
    global KINDS
    if kind not in LOADERS:
        KINDS = (*KINDS, kind)
    LOADERS[kind] = loader
    if detector:
        DETECTORS.append((kind, detector))


def detect_kind(path: Path) -> str:
    """The kind whose detector scores the file highest; dossier exports by default."""
    best, best_score = "dossiers", 0
    for kind, detector in DETECTORS:
        try:
            score = detector(path)
        except LoadError:
            score = 0
        if score > best_score:
            best, best_score = kind, score
    return best


def load_file(con, path, *, kind: str | None = None, province: str | None = None, period: str | None = None,
              user: str | None = None, name: str | None = None, mapping: dict | None = None,
              unit: str | None = None):
    path = Path(path)
    kind = kind or detect_kind(path)
    loader = LOADERS.get(kind)
    if loader is None:
        raise LoadError(f"Không hỗ trợ loại tệp «{kind}».")
    kwargs = {"province": province, "user": user, "name": name}
    accepted = inspect.signature(loader).parameters
    for key, value in (("mapping", mapping), ("period", period), ("unit", unit)):
        if value is not None and key in accepted:
            kwargs[key] = value
    with disk_full_said(name or path.name):  # every kind: a full disk is said in Vietnamese
        return loader(con, path, **kwargs)


# The other kinds; imported last because they may import this module's names.
from loaders import archive, catalogue, tasks, template  # noqa: E402

register("template", template.load_template_file, template.detect)
register("catalogue", catalogue.load_catalogue_file, catalogue.detect)
register("archive", archive.load_archive_file, archive.detect)
register("tasks", tasks.load_tasks_file, tasks.detect)
