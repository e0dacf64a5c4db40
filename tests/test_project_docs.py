"""The domain rules ship with the code (docs/domain.md) and stay true to it; `make test-fast`
leaves out the slow tests."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "docs" / "domain.md"
SKIP = {".venv", ".git", "data", "artifacts", "bench/out", ".hypothesis", ".pytest_cache", ".ruff_cache"}


def _python_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py")
            if not any(part in SKIP for part in p.relative_to(ROOT).parts)
            and not str(p.relative_to(ROOT)).startswith("bench/out") and p != Path(__file__).resolve()]


def _names(body: list[ast.stmt]) -> dict[str, ast.AST]:
    """Top-level names of a module or class body: functions, classes, assigned names."""
    found: dict[str, ast.AST] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found[node.name] = node
        elif isinstance(node, ast.Assign):
            found.update({t.id: node for t in node.targets if isinstance(t, ast.Name)})
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = node
    return found


def test_the_readme_points_to_the_shipped_domain_rules():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert DOMAIN.exists()
    assert "docs/domain.md" in readme
    assert "../shared/DOMAIN.md" not in readme


def test_code_cites_docs_domain_md_only():
    stale = [f"{p.relative_to(ROOT)}:{n}" for p in _python_files()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "DOMAIN.md" in line]
    assert stale == [], "cite docs/domain.md, the rules shipped in the repo"


def test_every_code_location_the_rules_cite_exists():
    """`kpi/engine.overdue_open`, `loaders/dossiers.LoadMemo.resolve`, `loaders/files.py`:
    a cited file exists, a cited name is defined in that module (or class)."""
    text = DOMAIN.read_text(encoding="utf-8")
    missing, checked = [], 0
    for token in set(re.findall(r"`([A-Za-z_][\w./-]*)`", text)):
        if "/" not in token or token.startswith("../"):
            continue
        checked += 1
        if (ROOT / token).exists():
            continue
        module, _, chain = token.partition(".")
        source = ROOT / f"{module}.py"
        if not source.exists() or not chain:
            missing.append(token)
            continue
        scope = _names(ast.parse(source.read_text(encoding="utf-8")).body)
        for name in chain.split("."):
            node = scope.get(name)
            if node is None:
                missing.append(token)
                break
            scope = _names(node.body) if isinstance(node, ast.ClassDef) else {}
    assert checked > 30
    assert missing == [], missing


def test_make_test_fast_leaves_out_the_slow_tests():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest-fast:", 1)[1].split("\n\n", 1)[0]
    assert '-m "not services and not browser and not slow"' in recipe
    # Crash safety and concurrency run real processes over 100k+ rows: marked slow (only the
    # unit test of the latency report is not).
    quick = {"test_latency_is_reported_not_asserted"}
    for name in ("test_crash_safety.py", "test_concurrency.py"):
        tree = ast.parse((ROOT / "tests" / name).read_text(encoding="utf-8"))
        tests = [f for f in tree.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")]
        unmarked = [f.name for f in tests if f.name not in quick
                    and "pytest.mark.slow" not in [ast.unparse(d) for d in f.decorator_list]]
        assert tests and unmarked == [], (name, unmarked)
