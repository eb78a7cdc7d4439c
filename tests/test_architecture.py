"""The layers import one way only, and the engine's components are wired, not reached through a central object.

The import graph of ``twin`` is read statically with ``ast``: every ``import``/``from ... import`` anywhere in
a module counts, including those under ``if TYPE_CHECKING:`` and inside functions (a cycle hidden behind a
type-checking guard is still a cycle in the design).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1] / "twin"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(PACKAGE_ROOT.rglob("*.py"))}


def _imported(module: str, path: Path, known: set[str]) -> set[str]:
    """Modules of ``twin`` that ``module`` imports: ``from a.b import c`` is ``a.b.c`` when that is a module,
    else ``a.b``."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names
            ]
        else:
            continue
        found.update(name for name in names if name == "twin" or name.startswith("twin."))
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {module: _imported(module, path, known) - {module} for module, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a closed path ``[a, b, ..., a]``, or None (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    for root in sorted(graph):
        if state.get(root):
            continue
        path = [root]
        state[root] = 1
        stack = [iter(sorted(graph.get(root, ())))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            if state.get(child) == 1:
                return [*path[path.index(child) :], child]
            if not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append(iter(sorted(graph.get(child, ()))))
    return None


def test_the_graph_reader_sees_guarded_and_function_level_imports():
    graph = import_graph()
    assert "twin.engine.simulation" in graph["twin.cli"]  # imported inside execute()
    assert "twin.engine.vehicle_flow" in graph["twin.engine.vin_inventory"]  # under TYPE_CHECKING
    assert "twin.engine.allocation_status" in graph["twin.io.outputs"]  # from twin.engine import <module>
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_in_twin():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_engine_components_do_not_import_the_simulation():
    """Components get what they use from their constructor; only the run itself knows ``Simulation``."""
    offenders = sorted(
        module
        for module, imports in import_graph().items()
        if module.startswith("twin.engine.")
        and module != "twin.engine.simulation"
        and "twin.engine.simulation" in imports
    )
    assert offenders == []


def test_domain_and_policies_import_neither_simpy_nor_the_engine():
    """The same policy object serves the simulator and a live caller; the domain is pure data; inventory
    theory is mathematics a planner can call without a run."""
    offenders = []
    for module, path in _modules().items():
        if not module.startswith(("twin.domain", "twin.policies", "twin.analysis.inventory_theory")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "simpy" or name == "twin.engine" or name.startswith("twin.engine."):
                    offenders.append(f"{module} imports {name}")
    assert offenders == []


#: the read side and Clara run in a live service (twin-ask, the web app): no SimPy and no engine, except
#: the loader (the edge that converts a shadow's live state or makes the built-in world) and the engine's
#: declaration of its KPI columns (pure constants, which the state schema refers to)
READ_SIDE_PACKAGES = ("twin.views", "twin.clara", "twin.web")
READ_SIDE_EDGES = ("twin.views.loading", "twin.clara.cli")
READ_SIDE_ALLOWED = ("twin.engine.kpis",)


def test_the_read_side_imports_neither_simpy_nor_the_engine():
    offenders = []
    for module, path in _modules().items():
        if not module.startswith(READ_SIDE_PACKAGES) or module in READ_SIDE_EDGES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                engine = name == "twin.engine" or name.startswith("twin.engine.")
                if name.split(".")[0] == "simpy" or (engine and name not in READ_SIDE_ALLOWED):
                    offenders.append(f"{module} imports {name}")
    assert offenders == []


def test_the_read_side_loads_without_simpy():
    """A live service holding a view and Clara must not pay for (or depend on) the simulator."""
    code = (
        "import sys\nimport twin.views\nimport twin.views.network_view\nimport twin.clara.service\n"
        "print(sorted(m for m in sys.modules if m == 'simpy' or m.startswith('simpy.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_live_service_runs_without_simpy():
    """Shadow mode's consumer, state, policies and transports run in a live service: importing them must not
    load SimPy (only twin-feed, which runs the twin as the world, needs the engine)."""
    live_modules = ["contract", "codes", "live_state", "drift", "decisions", "transports", "shadow"]
    code = (
        "import sys\n"
        + "".join(f"import twin.live.{name}\n" for name in live_modules)
        + "print(sorted(m for m in sys.modules if m == 'simpy' or m.startswith('simpy.')))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
