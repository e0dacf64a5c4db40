"""The packages form one-directional layers (issue 14): store <- kpi <- loaders <- reports <- service <- ui <-
pages / app.py. Every import of every module is read with `ast`, including those inside functions,
so no lower layer can reach a higher one, even lazily; the engine and the store never import
Streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = {"store": 0, "kpi": 1, "loaders": 2, "reports": 3, "service": 4, "ui": 5, "pages": 6, "app": 6}
NO_STREAMLIT = ("store", "kpi", "loaders", "reports")


def _top_package(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, top-level name) of every import in the file, relative ones resolved."""
    tree = ast.parse(source if source is not None else path.read_text(encoding="utf-8"), filename=str(path))
    package = path.relative_to(ROOT).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                name = ".".join((*base, node.module or "")).strip(".")
            else:
                name = node.module or ""
            found.append((node.lineno, name.split(".")[0]))
    return found


def _modules(*packages: str) -> list[Path]:
    files = []
    for package in packages:
        target = ROOT / package
        files += sorted(target.rglob("*.py")) if target.is_dir() else [ROOT / f"{package}.py"]
    return files


def test_every_layered_package_exists():
    for package in LAYERS:
        assert (ROOT / package).is_dir() or (ROOT / f"{package}.py").is_file(), package
    assert not (ROOT / "loaders" / "store.py").exists() and not (ROOT / "kpi" / "components.py").exists()


def test_no_module_imports_a_higher_layer():
    wrong = []
    for path in _modules(*LAYERS):
        layer = LAYERS[_top_package(path)]
        for line, name in _imports(path):
            if name in LAYERS and LAYERS[name] > layer:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_store_imports_nothing_of_the_project():
    project = {*LAYERS, "bench", "sample_data", "tests", "scripts"}
    wrong = [f"{p.relative_to(ROOT)}:{line} imports {name}" for p in _modules("store")
             for line, name in _imports(p) if name in project and name != "store"]
    assert not wrong, "\n".join(wrong)


def test_engine_store_loaders_and_reports_never_import_streamlit():
    wrong = [f"{p.relative_to(ROOT)}:{line}" for p in _modules(*NO_STREAMLIT)
             for line, name in _imports(p) if name == "streamlit"]
    assert not wrong, "\n".join(wrong)


def test_the_checker_sees_imports_inside_functions():
    # the rule would be toothless if a lazy import (the old store -> kpi.targets one) were missed
    source = "def f():\n    from kpi.targets import pick\n    from . import db\n    import ui.state\n"
    assert [name for _, name in _imports(ROOT / "store" / "probe.py", source)] == ["kpi", "store", "ui"]


def test_every_package_says_what_it_holds_and_may_import():
    for package in ("store", "kpi", "loaders", "reports", "ui"):
        doc = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8")))
        assert doc and "import" in doc, package


def test_pages_and_ui_hold_no_sql():
    """Pages only lay out: their data comes from plain functions of kpi/, loaders/, store/."""
    wrong = []
    for path in _modules("pages", "ui", "app"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("execute", "executemany", "sql", "query_pl"):
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} calls {name}")
    assert not wrong, "\n".join(wrong)
