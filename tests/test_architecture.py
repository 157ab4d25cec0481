"""The shape of the code base, checked: no import cycles, layers that only point down, no
source file too big to live in. grimp builds the import graph (runtime imports only: an import
under TYPE_CHECKING is an annotation, not a dependency)."""

from __future__ import annotations

from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("bot", "handlers", "api", "notifications", "services", "storage", "scoring", "texts")
MAX_LINES = 600

# Who may import whom: a package may import only the packages listed for it (and itself).
ALLOWED: dict[str, set[str]] = {
    "bot": {"handlers", "api", "notifications", "services", "storage", "scoring", "texts"},
    "handlers": {"services", "storage", "scoring", "texts"},
    "api": {"services", "storage", "scoring", "texts"},
    "notifications": {"services", "storage", "scoring", "texts"},
    "services": {"storage", "scoring", "texts"},
    "storage": set(),
    "scoring": {"texts"},
    # Wording may name the plain data types it words (services' views and enums), nothing more.
    "texts": {"services", "scoring"},
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)


def test_no_import_cycles_between_our_modules(graph: grimp.ImportGraph) -> None:
    cycles = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    )
    assert cycles == [], f"modules that import each other (directly or round a loop): {cycles}"


def test_layers_point_down(graph: grimp.ImportGraph) -> None:
    wrong = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if (a := module.split(".")[0]) != (b := imported.split(".")[0])
        and b in PACKAGES
        and b not in ALLOWED[a]
    )
    assert wrong == [], f"imports against the layering: {wrong}"


def test_texts_touch_no_storage_or_io(graph: grimp.ImportGraph) -> None:
    for module in sorted(m for m in graph.modules if m.startswith("texts")):
        for imported in graph.find_modules_directly_imported_by(module):
            assert not imported.startswith(("storage", "sqlalchemy", "telegram", "aiohttp")), (
                module,
                imported,
            )


def test_no_source_file_is_over_600_lines() -> None:
    sources = [
        path
        for package in (*PACKAGES, "standin", "bench")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    too_long = {
        str(path.relative_to(ROOT)): n
        for path in sources
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}
