"""No import cycle among parley's modules (issue 17): each module's module-level imports of
other parley modules, as Python runs them (imports under `if TYPE_CHECKING:` excluded, a
package's own submodules not counted), sort topologically."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

PARLEY = Path(__file__).resolve().parents[1] / "parley"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PARLEY.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(node: ast.Import | ast.ImportFrom, current: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        parts = current.split(".") if is_package else current.split(".")[:-1]
        parts = parts[:len(parts) - (node.level - 1)]
        base = ".".join([*parts, base] if base else parts)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]  # `from pkg import module`


def _module_level_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    found = []
    for node in tree.body:
        if isinstance(node, ast.If):
            continue  # `if TYPE_CHECKING:` (nothing else in parley imports under an if)
        body = [*node.body, *(line for handler in node.handlers for line in handler.body)] \
            if isinstance(node, ast.Try) else [node]
        found += [line for line in body if isinstance(line, (ast.Import, ast.ImportFrom))]
    return found


def import_graph() -> dict[str, set[str]]:
    paths = {_module_name(path): path for path in PARLEY.rglob("*.py") if "migrations" not in path.parts}
    graph = {}
    for name, path in paths.items():
        is_package = path.name == "__init__.py"
        targets = set()
        for node in _module_level_imports(ast.parse(path.read_text())):
            targets |= {t for t in _imported(node, name, is_package) if t in paths}
        # A module importing its own package (or the package its submodules) is no cycle
        # that can bite: the package is initialised first.
        graph[name] = {t for t in targets if t != name and not name.startswith(t + ".")}
    return graph


def test_parley_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 90  # the walk found the modules
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_the_web_app_does_not_import_the_command_line() -> None:
    graph = import_graph()
    assert not any(t == "parley.cli" or t.startswith("parley.cli.")
                   for name, targets in graph.items() if not name.startswith("parley.cli")
                   and name != "parley.__main__" for t in targets)
