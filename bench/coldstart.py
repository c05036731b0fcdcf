"""Cold start: how long ``import app`` takes in a fresh interpreter, against a bare ``import boto3``.

Each figure is the median over fresh subprocesses, timed with ``time.perf_counter`` around
the import only (interpreter start-up is the same for both and left out). One untimed run of
each comes first so that bytecode caches exist: this is a cold process on a warm disk.
Separate ``-X importtime`` runs of ``app`` attribute the time to top-level packages.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.environment import ROOT

_TIMED_IMPORT = (
    "import sys, time\n"
    "started = time.perf_counter()\n"
    "__import__(sys.argv[1])\n"
    "print((time.perf_counter() - started) * 1000.0)\n"
)

_TIMED_GROUP = (
    "import importlib, sys, time\n"
    "started = time.perf_counter()\n"
    "for name in sys.argv[1].split(','):\n"
    "    importlib.import_module(name)\n"
    "print((time.perf_counter() - started) * 1000.0)\n"
)

FIRST_PARTY = {"app", "chalicelib"}


def _python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=False, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"`python {' '.join(args)}` failed:\n{result.stderr[-2000:]}")
    return result


def import_ms(module: str, env: dict[str, str]) -> float:
    return float(_python(["-c", _TIMED_IMPORT, module], env).stdout.strip().splitlines()[-1])


@dataclass
class ColdStart:
    runs: dict[str, list[float]]

    def median(self, module: str) -> float:
        return statistics.median(self.runs[module])


def measure(env: dict[str, str], runs: int, modules: tuple[str, ...] = ("boto3", "app")) -> ColdStart:
    for module in modules:  # untimed: writes .pyc files, warms the page cache
        import_ms(module, env)
    timings: dict[str, list[float]] = {module: [] for module in modules}
    for _ in range(runs):  # interleaved, so drift on a busy machine hits both alike
        for module in modules:
            timings[module].append(import_ms(module, env))
    return ColdStart(timings)


# --- per function group -------------------------------------------------------------------------

def lazy_imports(module: str) -> list[str]:
    """The first-party modules imported inside ``module``'s top-level functions: what its first
    invocation loads on top of the module itself (a job module imports its services when it
    runs; app.py's ``_before_first_request`` the users and rate-limit services)."""
    import ast

    path = _source(module)
    if path is None:
        raise RuntimeError(f"no module {module}")
    tree = ast.parse(path.read_text())
    found: list[str] = []
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef)):
        for node in ast.walk(function):
            if not (isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in FIRST_PARTY):
                continue
            for alias in node.names:
                name = f"{node.module}.{alias.name}"
                target = name if _source(name) is not None else node.module
                if target not in found:
                    found.append(target)
    return found


def _source(module: str) -> Path | None:
    """A first-party module's file, found without importing anything."""
    base = ROOT.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def function_groups() -> list[tuple[str, list[str]]]:
    """(label, modules) per Lambda: what its cold start imports, in order. The API function
    imports ``app``; its first request adds the injected services and the handler module
    that serves it (GET /readers/{readerId} here: one of the heavier ones). Each job's
    function imports its own module (its handler string), then what the job imports as it runs."""
    import pkgutil

    import chalicelib.jobs as jobs

    api_first = ["app", *lazy_imports("app"), "chalicelib.handlers.readers"]
    groups = [("API: `import app` (init)", ["app"]), ("API: init + first GET /readers/{readerId}", api_first)]
    for info in sorted(pkgutil.iter_modules(jobs.__path__), key=lambda i: i.name):
        module = f"chalicelib.jobs.{info.name}"
        source = _source(module)
        if source is None or "JobBlueprint(__name__)" not in source.read_text():
            continue  # not a job module (the JobBlueprint class itself)
        groups.append((f"job `{module}` + its first run", [module, *lazy_imports(module)]))
    return groups


def measure_groups(env: dict[str, str], runs: int) -> dict[str, list[float]]:
    """Median-ready timings (ms) of each group of ``function_groups`` in fresh interpreters."""
    groups = function_groups()
    for _label, modules in groups:  # untimed: bytecode caches
        _python(["-c", _TIMED_GROUP, ",".join(modules)], env)
    timings: dict[str, list[float]] = {label: [] for label, _ in groups}
    for _ in range(runs):
        for label, modules in groups:
            out = _python(["-c", _TIMED_GROUP, ",".join(modules)], env).stdout
            timings[label].append(float(out.strip().splitlines()[-1]))
    return timings


# --- -X importtime ---------------------------------------------------------------------------


@dataclass
class _Node:
    name: str
    self_us: int
    cumulative_us: int
    children: list[_Node] = field(default_factory=list)


@dataclass
class PackageCost:
    package: str
    cumulative_ms: float  # where it was imported from outside itself: includes the deps it pulled in
    self_ms: float  # its own modules only
    modules: int
    importers: dict[str, float]  # importing module outside the package -> cumulative ms of that import

    @property
    def is_stdlib(self) -> bool:
        return self.package in sys.stdlib_module_names

    def top_importers(self, limit: int = 3) -> list[tuple[str, float]]:
        return sorted(self.importers.items(), key=lambda item: item[1], reverse=True)[:limit]


def _parse(stderr: str) -> list[_Node]:
    """The top-level import tree; -X importtime prints children before their parent."""
    pending: dict[int, list[_Node]] = defaultdict(list)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        self_us, cumulative_us, raw_name = line[len("import time:"):].split("|", 2)
        depth = (len(raw_name) - len(raw_name.lstrip(" ")) - 1) // 2
        node = _Node(raw_name.strip(), int(self_us), int(cumulative_us), pending.pop(depth + 1, []))
        pending[depth].append(node)
    return pending[0]


def heaviest_packages(env: dict[str, str], module: str = "app",
                      runs: int = 3) -> tuple[list[PackageCost], float, float]:
    """Per top-level package imported by ``module`` (each figure the median of ``runs`` runs, so that one
    stalled run on a busy machine does not put a light package on top); also the total and first-party
    self time (ms)."""
    samples = [_packages_once(env, module) for _ in range(runs)]
    merged: list[PackageCost] = []
    for package in {c.package for costs, _, _ in samples for c in costs}:
        seen = [next((c for c in costs if c.package == package), None) for costs, _, _ in samples]
        found = [c for c in seen if c is not None]
        importers = {name: statistics.median(c.importers.get(name, 0.0) if c else 0.0 for c in seen)
                     for name in {name for c in found for name in c.importers}}
        merged.append(PackageCost(
            package,
            statistics.median(c.cumulative_ms if c else 0.0 for c in seen),
            statistics.median(c.self_ms if c else 0.0 for c in seen),
            max(c.modules for c in found),
            importers,
        ))
    merged.sort(key=lambda c: c.cumulative_ms, reverse=True)
    return (merged, statistics.median(total for _, total, _ in samples),
            statistics.median(first for _, _, first in samples))


def _packages_once(env: dict[str, str], module: str) -> tuple[list[PackageCost], float, float]:
    stderr = _python(["-X", "importtime", "-c", f"import {module}"], env).stderr
    roots = [node for node in _parse(stderr) if node.name == module]
    if not roots:
        raise RuntimeError(f"-X importtime printed no entry for {module}")
    root = roots[-1]
    cumulative: dict[str, int] = defaultdict(int)
    own: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    importers: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def walk(node: _Node, parent: _Node) -> None:
        package = node.name.split(".")[0]
        own[package] += node.self_us
        count[package] += 1
        if parent.name.split(".")[0] != package:
            cumulative[package] += node.cumulative_us
            importers[package][parent.name] += node.cumulative_us
        for child in node.children:
            walk(child, node)

    for child in root.children:
        walk(child, root)
    costs = [PackageCost(p, cumulative[p] / 1000, own[p] / 1000, count[p],
                         {name: us / 1000 for name, us in importers[p].items()})
             for p in cumulative if p not in FIRST_PARTY]
    costs.sort(key=lambda c: c.cumulative_ms, reverse=True)
    first_party_self = (sum(own[p] for p in FIRST_PARTY) + root.self_us) / 1000
    return costs, root.cumulative_us / 1000, first_party_self
