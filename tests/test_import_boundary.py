"""Only the Worker entry and the Cloudflare adapter may import the Workers runtime's modules;
everything else must import and run on plain CPython."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import gateway

SRC = Path(__file__).resolve().parent.parent / "src"
RUNTIME_ONLY = {"js", "pyodide", "workers", "asgi", "_pyodide_entrypoint_helper"}
ALLOWED = {SRC / "entry.py", SRC / "gateway" / "ports" / "cloudflare.py"}


def runtime_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found.update(name.split(".")[0] for name in names if name.split(".")[0] in RUNTIME_ONLY)
    return found


def test_runtime_modules_are_imported_only_by_the_entry_and_the_cloudflare_adapter():
    offenders = {
        str(path.relative_to(SRC)): sorted(names)
        for path in SRC.rglob("*.py")
        if path not in ALLOWED and (names := runtime_imports(path))
    }
    assert offenders == {}


def test_the_checker_sees_runtime_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom js import fetch\nimport pyodide.ffi\nfrom workers import Response\n")
    assert runtime_imports(sample) == {"js", "pyodide", "workers"}


def test_every_core_module_imports_on_cpython():
    names = [
        info.name
        for info in pkgutil.walk_packages(gateway.__path__, prefix="gateway.")
        if info.name != "gateway.ports.cloudflare"
    ]
    assert "gateway.pipeline.chat" in names
    for name in names:
        importlib.import_module(name)
