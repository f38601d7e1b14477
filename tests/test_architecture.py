"""Imports point one way: core <- policy/network/crypto <- store <- services <- protocol <- ..."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "ramparts"

# Each package may import only from packages in earlier layers (and itself).
LAYERS: list[set[str]] = [
    {"core"},
    {"policy", "network", "crypto"},
    {"store"},
    {"services"},
    {"protocol"},
    {"posture", "detect", "respond"},
    {"server"},  # the app factory, which the entry points below start
    {"console", "cli", "testing"},
]
LAYER_OF = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}
PURE = {"core", "policy", "network"}
IMPURE_MODULES = {"sqlite3", "socket", "http", "urllib", "subprocess", "asyncio", "psycopg"}


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _package(path: Path) -> str | None:
    parts = path.relative_to(SRC).parts
    return parts[0] if len(parts) > 1 else None


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(LAYER_OF), packages - set(LAYER_OF)


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path: Path) -> None:
    package = _package(path)
    if package is None:
        return
    for module in _imports(path):
        if not module.startswith("ramparts."):
            if package in PURE:
                assert module.split(".")[0] not in IMPURE_MODULES, f"{path} imports {module}"
            continue
        target = module.split(".")[1]
        if target == package or target not in LAYER_OF:
            continue
        assert LAYER_OF[target] < LAYER_OF[package], f"{path} imports {module} (a higher layer)"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_module_opens_with_a_one_line_docstring(path: Path) -> None:
    docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
    assert docstring, f"{path} has no module docstring"
    assert docstring.splitlines()[0].strip(), f"{path}: the docstring's first line is empty"
