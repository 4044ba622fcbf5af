"""The examples in the docstrings are part of the documentation: run them."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "",
    ".codes",
    ".dates",
    ".ages",
    ".deadlines",
    ".names",
    ".variants",
    ".gaiji",
    ".postal",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module("machi.japanese" + name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_no_django_import() -> None:
    import ast
    from pathlib import Path

    package = Path(importlib.import_module("machi.japanese").__file__).parent  # type: ignore[arg-type]
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "django" for n in names), path


def test_public_api() -> None:
    package = importlib.import_module("machi.japanese")
    for name in package.__all__:
        assert hasattr(package, name), name
