"""``app`` has no import circle, not even one hidden inside a function."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("check_imports", ROOT / "scripts/check_imports.py")
assert spec is not None and spec.loader is not None
check_imports = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_imports)


def test_app_has_no_import_circle() -> None:
    known = check_imports.modules(ROOT / "app")
    graph = {n: check_imports.edges(n, p, known) for n, p in known.items()}
    assert check_imports.circles(graph) == []


def test_a_circle_through_a_deferred_import_is_found(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("def later():\n    from pkg.a import x\n")
    (package / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
    )
    known = check_imports.modules(package)
    graph = {n: check_imports.edges(n, p, known) for n, p in known.items()}
    assert check_imports.circles(graph) == [["pkg.a", "pkg.b"]]
