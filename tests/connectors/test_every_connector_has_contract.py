"""Every installed connector kind has a ConnectorContract subclass in the test suites.

Contract classes are found by reading the test sources (no imports, so no side effects):
a class deriving from ``ConnectorContract`` with a class-level ``kind = "..."``.
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

from app.connectors.discovery import ENTRY_POINT_GROUP

ROOT = Path(__file__).parents[2]
TEST_ROOTS = [ROOT / "tests", *sorted((ROOT / "examples").glob("*/tests"))]


def contract_kinds(roots: list[Path]) -> dict[str, list[str]]:
    """kind -> the test classes (``path::Class``, relative to its root) running the contract."""
    found: dict[str, list[str]] = {}
    for root in roots:
        for path in sorted(root.rglob("test_*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and _is_contract(node):
                    kind = _kind_of(node)
                    if kind is not None:
                        where = f"{path.relative_to(root)}::{node.name}"
                        found.setdefault(kind, []).append(where)
    return found


def _is_contract(node: ast.ClassDef) -> bool:
    names = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
    return "ConnectorContract" in names


def _kind_of(node: ast.ClassDef) -> str | None:
    for stmt in node.body:
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        else:
            continue
        named_kind = any(isinstance(t, ast.Name) and t.id == "kind" for t in targets)
        value = stmt.value
        if named_kind and isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value
    return None


def test_every_installed_connector_kind_runs_the_contract() -> None:
    installed = sorted({ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)})
    covered = contract_kinds(TEST_ROOTS)
    missing = [kind for kind in installed if kind not in covered]
    assert not missing, (
        f"connector kinds without a ConnectorContract subclass (with kind = '...') "
        f"under tests/ or examples/*/tests/: {missing}"
    )


def test_the_scanner_finds_contract_classes(tmp_path: Path) -> None:
    """The meta-test itself: contract classes are found by kind, other classes are not."""
    (tmp_path / "test_x.py").write_text(
        "from app.connectors.testing import ConnectorContract\n"
        "import app.connectors.testing as kit\n"
        "class TestA(ConnectorContract):\n    kind = 'alpha'\n"
        "class TestB(kit.ConnectorContract):\n    kind: str = 'beta'\n"
        "class TestC:\n    kind = 'gamma'\n"
        "class TestD(ConnectorContract):\n    pass\n"
    )
    assert contract_kinds([tmp_path]) == {
        "alpha": ["test_x.py::TestA"],
        "beta": ["test_x.py::TestB"],
    }
