"""The package layout keeps its layers: read every module's imports (with `ast`, nothing is
imported) and check that no package reaches into one above it.

Layers, lowest first: config, common, db (base, engine), kb, gateway, assist_api. The action
server stands beside them and uses common, kb and the layers below them. On top, importing anything:
stack (the launcher), bench, tests and the migration environment (db/migrations), which must
see every table.
"""

from __future__ import annotations

import ast
from pathlib import Path

from config.settings import PROJECT_ROOT

ROOT = PROJECT_ROOT

LAYERS = ["config", "common", "db", "kb", "gateway", "assist_api"]
# db too: the action server migrates the database (db.migrate) before it opens the KB store.
ACTIONS_MAY_IMPORT = {"actions", "common", "kb", "db", "config"}
TOP = {"stack", "bench", "tests", "db.migrations"}
PROJECT = set(LAYERS) | {"actions", "stack", "bench", "tests"}
HTTP_FRAMEWORKS = {"fastapi", "starlette"}


def modules(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts)


def dotted(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> set[str]:
    """Every module name an import statement in the file names, lazy imports included, with
    relative imports resolved against the file's package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = dotted(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package[: len(package) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            # `from pkg import module` names a module too; for `from pkg import Class` the
            # extra name resolves to the same top-level package, so it changes nothing.
            names.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return names


def layer_of(module: str) -> str:
    if module == "db.migrations" or module.startswith("db.migrations."):
        return "db.migrations"
    return module.split(".")[0]


def project_imports(path: Path) -> set[str]:
    return {layer_of(name) for name in imported(path) if name.split(".")[0] in PROJECT}


def may_import(importer: str, imported_layer: str) -> bool:
    if importer in TOP or importer == imported_layer:
        return True
    if importer == "actions":
        return imported_layer in ACTIONS_MAY_IMPORT
    if imported_layer not in LAYERS:  # actions, stack, bench, tests, migrations
        return False
    return LAYERS.index(imported_layer) <= LAYERS.index(importer)


def test_no_layer_imports_a_higher_one() -> None:
    broken = []
    for package in [*LAYERS, "actions"]:
        for path in modules(package):
            importer = layer_of(dotted(path))
            if importer in TOP:
                continue
            broken += [f"{path.relative_to(ROOT)} imports {target}"
                       for target in sorted(project_imports(path)) if not may_import(importer, target)]
    assert broken == []


def test_gateway_and_common_use_no_http_framework() -> None:
    # The gateway is domain code and common is shared with the action server: the HTTP
    # framework stays in assist_api.
    broken = [f"{path.relative_to(ROOT)} imports {name}"
              for package in ("gateway", "common") for path in modules(package)
              for name in sorted(imported(path)) if name.split(".")[0] in HTTP_FRAMEWORKS]
    assert broken == []


def test_the_checker_sees_a_violation() -> None:
    # Guards the test itself: an upward import is flagged, a downward one is not.
    assert not may_import("kb", "gateway")
    assert not may_import("gateway", "assist_api")
    assert not may_import("common", "kb")
    assert may_import("common", "config")
    assert may_import("gateway", "kb")
    assert not may_import("actions", "gateway")
    assert not may_import("gateway", "actions")
    assert "gateway.conversations.service" in imported(ROOT / "assist_api" / "app.py")


def test_no_test_module_imports_another() -> None:
    # Within tests/, only tests/support is shared: no module imports a test module or a
    # conftest.py, neither by its dotted name nor by the bare name pytest's sys.path allows.
    folders = {p.parent.name for p in modules("tests")} | {"conftest"}
    test_modules = {p.stem for p in modules("tests") if p.stem.startswith("test_")}
    broken = [f"{path.relative_to(ROOT)} imports {name}"
              for path in modules("tests") for name in sorted(imported(path))
              if (name.split(".")[0] == "tests" and name.split(".")[:2] != ["tests", "support"])
              or name.split(".")[0] in (folders - {"tests"}) | test_modules]
    assert broken == []
