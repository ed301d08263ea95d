"""The import rules of dss (ARCHITECTURE.md, "Layers"), read from the source with ``ast``.

Every import is parsed, at the top of a module and inside functions alike, and checked:

- every module belongs to a layer of :data:`LAYERS`, and no module imports a higher layer;
- the modules import each other without a cycle (networkx finds any);
- imports sit at the top of modules; inside a function only where :data:`LAZY_MODULES`
  (the command line, which loads each command when it runs so ``dss --help`` stays fast),
  :data:`OPTIONAL_LIBRARIES` (extras dss must work without) or :data:`PENDING` (known
  cycles in the optimisation core, each with the branch that removes it) allow it;
- optional libraries are never imported at the top of a module outside a ``TYPE_CHECKING``
  block, so ``pip install dss`` without extras imports every module.

Importing ``a.b.c`` also runs ``a/b/__init__.py``: that package is counted as imported too,
unless the importing module is inside it or its ``__init__`` imports nothing.
"""

from __future__ import annotations

import ast
import fnmatch
from dataclasses import dataclass
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dss"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("dss.errors", "dss.names", "dss.safe_yaml", "dss.attribute_docs")),
    ("river network", ("dss.network", "dss.network.*")),
    ("inputs and model files", (
        "dss", "dss.data", "dss.data.*", "dss.config", "dss.config.*",
        "dss.uncertainty.scenarios",  # draws scenarios of the input tables
        "dss.synth", "dss.synth.*", "dss.synth_fish", "dss.examples")),
    ("indicators", ("dss.indicators", "dss.indicators.*")),
    ("geodata", ("dss.gis", "dss.gis.*")),
    ("model building blocks", (
        "dss.optimize.context", "dss.optimize.phasing", "dss.optimize.year_budgets",
        "dss.optimize.options", "dss.optimize.fish_options", "dss.optimize.fish_network",
        "dss.optimize.fish_report", "dss.optimize.lazy_linear", "dss.optimize.matrix",
        "dss.optimize.evaluate", "dss.optimize.pyomo_internals", "dss.optimize.columns",
        "dss.optimize.forms", "dss.optimize.precompute")),
    ("components", ("dss.optimize.components", "dss.optimize.components.*")),
    ("core", ("dss.optimize", "dss.optimize.build", "dss.optimize.problem",
              "dss.optimize.presolve", "dss.optimize.option_bounds", "dss.optimize.persistent",
              "dss.optimize.solve",
              "dss.optimize.explain", "dss.optimize.results", "dss.optimize.plan_effects",
              "dss.optimize.highs", "dss.optimize.concurrent",
              "dss.optimize.core", "dss.optimize.elastic", "dss.optimize.model_file",
              "dss.optimize.year_checks", "dss.optimize.year_start")),
    ("analyses and park design", (
        "dss.optimize.*",  # sweep, frontier, coordinate, optipass, metrics, stochastic_value
        "dss.planning", "dss.planning.*", "dss.uncertainty", "dss.uncertainty.evaluate",
        "dss.uncertainty.parallel")),
    ("results", ("dss.results", "dss.results.*")),
    ("workflows and reports", (
        "dss.planning.run", "dss.planning.report", "dss.uncertainty.montecarlo",
        "dss.uncertainty.chart", "dss.report", "dss.report.*", "dss.gis.study_writer")),
    ("api", ("dss.api",)),
    ("command line", ("dss.cli", "dss.cli.*", "dss.cli_*", "dss.__main__")),
]
"""Layers from the bottom up: module-name patterns (the most specific pattern wins)."""

LAZY_MODULES: dict[str, str] = {
    pattern: "the command line imports each command's module when the command runs, so "
             "`dss --help` and `dss validate` stay fast"
    for pattern in ("dss.cli", "dss.cli.*", "dss.cli_*", "dss.__main__")
}
"""Modules that may import anything inside functions, and why."""

LAZY_ATTRIBUTES: dict[tuple[str, str], str] = {
    ("dss", "dss.data.study"): "`import dss` stays light: `Study` and `load_study` (pandas, "
                               "networkx) load on first use (PEP 562 module __getattr__), so "
                               "`dss --help` imports no library",
}
"""Package attributes loaded on first use, ``(package, module): why``."""

OPTIONAL_LIBRARIES: dict[str, str] = {
    "matplotlib": "extra `report`: figures are drawn only when asked for",
    "openpyxl": "extra `report`: workbooks are written only when asked for",
    "jinja2": "extra `report`: HTML reports",
    "geopandas": "extra `gis`: GIS import and map layers",
    "pyogrio": "extra `gis`: GeoPackage reading and writing",
    "shapely": "extra `gis`: geometry",
    "pyproj": "extra `gis`: coordinate systems",
    "rasterio": "extra `gis`: rasters",
    "exactextract": "extra `gis`: zonal statistics",
    "distributed": "extra `dask`: sweeps on a Dask cluster",
    "fcntl": "POSIX only (file locks); absent on Windows",
    "highspy": "a core dependency, imported only where a solve needs it "
               "(`optimize/highs.py`), so a missing or broken installation is a clear error "
               "at solve time and `dss validate` never loads it",
}
"""Libraries dss must work without: imported inside the functions that need them, never at
the top of a module."""

PENDING: dict[tuple[str, str], str] = {
    ("dss.optimize.problem", "dss.optimize.solve"):
        "the researcher's one-call API `Problem.solve()`: a method of the problem calls the "
        "core, which takes the problem (kept on purpose, as PyPSA's `n.optimize()`)",
}
"""Function-level imports still to be removed, ``(module, imported module): why and which
branch removes it``. Exempt from every rule here; the integrator shrinks this list."""


@dataclass(frozen=True)
class Import:
    """One imported module, as written in ``module`` at ``line``."""

    module: str
    line: int
    target: str
    where: str  # "top", "function" or "type_checking"

    @property
    def root(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.target} ({self.where})"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative import
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[:len(package) - node.level + 1]
        base = ".".join([*package, *([node.module] if node.module else [])])
    # `from package import submodule` imports the submodule
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]


def imports_of(module: str, path: Path) -> list[Import]:
    """Every import of a module, top-level and nested, with where it sits."""
    found: list[Import] = []

    def walk(node: ast.AST, where: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = where
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                          | ast.ClassDef):
                inner = "function"
            elif (isinstance(child, ast.If) and where == "top"
                  and "TYPE_CHECKING" in ast.unparse(child.test)):
                inner = "type_checking"
            if isinstance(child, ast.Import | ast.ImportFrom) and not (
                    isinstance(child, ast.ImportFrom) and child.module == "__future__"):
                found.extend(Import(module, child.lineno, t, inner)
                             for t in dict.fromkeys(_targets(child, module, path)))
            walk(child, inner)

    walk(ast.parse(path.read_text(encoding="utf-8")), "top")
    return found


IMPORTS: list[Import] = [i for m, p in MODULES.items() for i in imports_of(m, p)]


def _package_runs_code(package: str) -> bool:
    path = MODULES.get(package)
    return (path is not None and path.name == "__init__.py"
            and any(i.where == "top" for i in imports_of(package, path)))


def edges(include_pending: bool = False) -> set[tuple[str, str]]:
    """(importer, imported) between dss modules, with the packages whose ``__init__`` runs."""
    out = set()
    for imp in IMPORTS:
        if imp.where == "type_checking" or imp.target not in MODULES:
            continue
        if not include_pending and (imp.module, imp.target) in PENDING:
            continue
        if imp.target != imp.module:
            out.add((imp.module, imp.target))
        parts = imp.target.split(".")
        for depth in range(2, len(parts)):  # packages below dss whose __init__ runs
            package = ".".join(parts[:depth])
            inside = imp.module == package or imp.module.startswith(package + ".")
            if not inside and _package_runs_code(package):
                out.add((imp.module, package))
    return out


def _matches(module: str, pattern: str) -> bool:
    return fnmatch.fnmatchcase(module, pattern)


def layer_of(module: str) -> int | None:
    """Index in :data:`LAYERS` of the most specific pattern matching ``module``."""
    best: tuple[tuple[int, int], int] | None = None
    for index, (_name, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if _matches(module, pattern):
                exact = "*" not in pattern
                rank = (exact, len(pattern))
                if best is None or rank > best[0]:
                    best = (rank, index)
    return None if best is None else best[1]


def _is_cli(module: str) -> bool:
    return any(_matches(module, p) for p in LAZY_MODULES)


def test_every_module_has_a_layer() -> None:
    missing = [m for m in MODULES if layer_of(m) is None]
    assert not missing, f"add these modules to a layer in tests/test_layers.py: {missing}"


def test_lower_layers_never_import_higher_ones() -> None:
    wrong = []
    for importer, imported in sorted(edges()):
        low, high = layer_of(importer), layer_of(imported)
        if low is not None and high is not None and high > low:
            wrong.append(f"{importer} ({LAYERS[low][0]}) imports {imported} "
                         f"({LAYERS[high][0]})")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    """One node for the command line: its modules register commands on one Typer app."""
    graph = nx.DiGraph()
    graph.add_nodes_from(MODULES)

    def node(module: str) -> str:
        return "dss.cli (command line)" if _is_cli(module) else module

    graph.add_edges_from((node(a), node(b)) for a, b in edges() if node(a) != node(b))
    cycles = sorted(sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1)
    shown = []
    for component in cycles:
        cycle = nx.find_cycle(graph.subgraph(component))
        shown.append(" -> ".join([*(a for a, _ in cycle), cycle[0][0]]))
    assert not cycles, "import cycles:\n" + "\n".join(shown)


def test_imports_sit_at_the_top() -> None:
    nested = []
    for imp in IMPORTS:
        if imp.where != "function" or _is_cli(imp.module):
            continue
        if imp.root in OPTIONAL_LIBRARIES or (imp.module, imp.target) in PENDING:
            continue
        if (imp.module, imp.target) in LAZY_ATTRIBUTES:
            continue
        nested.append(str(imp))
    assert not nested, ("move these imports to the top of their module (break a cycle by "
                        "moving the shared piece down a layer):\n" + "\n".join(nested))


def test_optional_libraries_are_imported_lazily() -> None:
    top = [str(i) for i in IMPORTS if i.where == "top" and i.root in OPTIONAL_LIBRARIES]
    assert not top, ("dss must import without its extras; import these inside the functions "
                     "that need them:\n" + "\n".join(top))


def test_pending_entries_are_still_needed() -> None:
    """An entry of PENDING that no import uses any more is removed from the list."""
    used = {(i.module, i.target) for i in IMPORTS if i.where == "function"}
    stale = sorted(set(PENDING) - used)
    assert not stale, f"remove from PENDING in tests/test_layers.py: {stale}"


@pytest.mark.parametrize(("module", "layer"), [
    ("dss.errors", "foundation"), ("dss.cli_verify", "command line"),
    ("dss.cli.solve", "command line"), ("dss.optimize.components.habitat", "components"),
    ("dss.optimize.sweep", "analyses and park design"), ("dss.planning.run",
                                                          "workflows and reports")])
def test_layer_patterns(module: str, layer: str) -> None:
    """The most specific pattern wins (a module's own name over its package's ``.*``)."""
    index = layer_of(module)
    assert index is not None and LAYERS[index][0] == layer


def test_the_rules_see_function_level_imports(tmp_path: Path) -> None:
    """The parser finds an import inside a function, one under TYPE_CHECKING and a
    relative one, and resolves ``from package import submodule`` to the submodule."""
    source = ("from typing import TYPE_CHECKING\n"
              "from dss.optimize import components\n"
              "if TYPE_CHECKING:\n    from dss.api import load\n"
              "def f():\n    from dss.results import writer\n"
              "    from .. import api\n")
    path = PACKAGE / "results" / "probe.py"  # only its name is used to resolve `..`
    found = {(i.target, i.where) for i in
             _imports_from_source(source, "dss.results.probe", path, tmp_path)}
    assert ("dss.optimize.components", "top") in found
    assert ("dss.api", "type_checking") in found
    assert ("dss.results.writer", "function") in found
    assert ("dss.api", "function") in found


def _imports_from_source(source: str, module: str, path: Path, tmp_path: Path
                         ) -> list[Import]:
    copy = tmp_path / path.name
    copy.write_text(source, encoding="utf-8")
    found = imports_of(module, copy)
    return [Import(i.module, i.line, i.target, i.where) for i in found]
