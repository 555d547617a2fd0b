"""The import map of the source tree and the layer rules it must keep, read with ``ast`` only.

Nothing of ours is imported or run: every ``.py`` file under the folders pyproject's
``package-dir`` names is parsed, and each import is resolved (absolute or relative, a module or
a name inside one) to the module it loads, together with the ``__init__.py`` of every package
above it. ``python -m tests.support.import_map [ROOT]`` prints, per package, one line per module
it imports, marking each arrow that breaks a rule, then what each pure module loads;
``tests/test_boundaries.py`` fails while any arrow is marked.

Layers, bottom to top: leaf (``status_tracker.domain``, ``status_tracker.strict``,
``status_tracker.json_text``, which import nothing of ours) → clients,
storage → actors → ingress → wiring (every other module of ``status_tracker``).
"""

from __future__ import annotations

import ast
import sys
import tomllib
import typing
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

ROOT = Path(__file__).resolve().parents[2]
TOP = "status_tracker"

LEAF = "leaf"
WIRING = "wiring"
# Each layer imports only layers of a lower rank; clients and storage share a rank but are
# separate packages, so neither imports the other.
RANKS = {LEAF: 0, "clients": 1, "storage": 1, "actors": 2, "ingress": 3, WIRING: 4}
LEAF_MODULES = (f"{TOP}.domain", f"{TOP}.strict", f"{TOP}.json_text")

# The decisions and the translation: no I/O, tested without Trio.
PURE_NAMES = frozenset(
    {
        "state",
        "transitions",
        "correlation",
        "matches",
        "stuck",
        "reasons",
        "release",
        "messages",
        "library_match",
        "notifications",
        "notification_batches",
        "notify",
        "catch_up",
        "rules",
        "replacement",
    }
)
PURE_PACKAGES = (f"{TOP}.ingress.translate",)
IO_LIBRARIES = frozenset(
    {
        "trio",
        "trio_asyncio",
        "trio_websocket",
        "httpx",
        "asyncpg",
        "quart",
        "quart_trio",
        "hypercorn",
    }
)


# Arrows that point up for a reason the owner of the upper module still has to remove.
@typing.final
@attrs.frozen
class Module:
    name: str
    path: Path
    is_package: bool

    @property
    def package(self) -> str:
        return self.name if self.is_package else self.name.rpartition(".")[0]


@typing.final
@attrs.frozen
class Import:
    """One import statement's effect: ``source`` loads ``target`` (ours, or a top-level name)."""

    source: str
    target: str
    ours: bool
    line: int
    type_only: bool


@typing.final
@attrs.frozen
class Violation:
    source: str
    target: str
    rule: str

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}: {self.rule}"


@typing.final
@attrs.frozen
class ImportMap:
    modules: dict[str, Module]
    imports: tuple[Import, ...]

    def imports_of(self, name: str, *, runtime_only: bool = False) -> Iterator[Import]:
        for found in self.imports:
            if found.source == name and not (runtime_only and found.type_only):
                yield found

    def ancestors(self, name: str) -> list[str]:
        """The packages whose ``__init__.py`` importing ``name`` runs first, outermost first."""
        parts = name.split(".")
        above = (".".join(parts[:end]) for end in range(1, len(parts)))
        return [package for package in above if package in self.modules]

    def loads(self, name: str) -> tuple[dict[str, str | None], dict[str, str]]:
        """Everything importing ``name`` runs: ours (each with who loaded it) and third-party."""
        ours: dict[str, str | None] = {}
        external: dict[str, str] = {}
        queue = [*self.ancestors(name), name]
        for first in queue:
            ours.setdefault(first, None)
        while queue:
            current = queue.pop(0)
            for found in self.imports_of(current, runtime_only=True):
                if not found.ours:
                    external.setdefault(found.target, current)
                    continue
                for loaded in (*self.ancestors(found.target), found.target):
                    if loaded not in ours:
                        ours[loaded] = current
                        queue.append(loaded)
        return ours, external


def read(root: Path = ROOT) -> ImportMap:
    """Parse every module under the folders pyproject's ``package-dir`` maps to our packages."""
    config = tomllib.loads((root / "pyproject.toml").read_text())
    folders: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    modules: dict[str, Module] = {}
    for package, folder in folders.items():
        base = root / folder
        for path in sorted(base.rglob("*.py")):
            parts = path.relative_to(base).with_suffix("").parts
            is_package = parts[-1] == "__init__"
            name = ".".join((package, *(parts[:-1] if is_package else parts)))
            modules[name] = Module(name=name, path=path, is_package=is_package)
    imports = tuple(found for module in modules.values() for found in _imports(module, modules))
    return ImportMap(modules=modules, imports=imports)


def _imports(module: Module, known: dict[str, Module]) -> Iterator[Import]:
    tree = ast.parse(module.path.read_text(), str(module.path))
    for node, type_only in _import_nodes(tree.body, type_only=False):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = _absolute(module, node)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        for target in dict.fromkeys(targets):
            ours = target == TOP or target.startswith(f"{TOP}.")
            resolved = _known_prefix(target, known) if ours else target.partition(".")[0]
            yield Import(module.name, resolved, ours, node.lineno, type_only)


def _import_nodes(
    body: Iterable[ast.stmt], *, type_only: bool
) -> Iterator[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement, at any depth, and whether only type checkers run it."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            if not (isinstance(node, ast.ImportFrom) and node.module == "__future__"):
                yield node, type_only
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _import_nodes(node.body, type_only=True)
            yield from _import_nodes(node.orelse, type_only=type_only)
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, field, None)
            if isinstance(children, list):
                stmts = [child for child in children if isinstance(child, ast.stmt)]
                nested = [
                    stmt
                    for child in children
                    if isinstance(child, (ast.ExceptHandler, ast.match_case))
                    for stmt in child.body
                ]
                yield from _import_nodes([*stmts, *nested], type_only=type_only)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    if node.level == 0:
        assert node.module is not None
        return node.module
    parts = module.package.split(".")
    base = ".".join(parts[: len(parts) - (node.level - 1)])
    return f"{base}.{node.module}" if node.module else base


def _known_prefix(name: str, known: dict[str, Module]) -> str:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in known:
            return ".".join(parts[:end])
    return name


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def layer_of(name: str) -> str:
    if name == TOP or any(_within(name, leaf) for leaf in LEAF_MODULES):
        return LEAF
    for layer in RANKS:
        if _within(name, f"{TOP}.{layer}"):
            return layer
    return WIRING


def is_pure(name: str) -> bool:
    return (
        (layer_of(name) == LEAF and name != TOP)
        or (_within(name, f"{TOP}.actors") and name.rpartition(".")[2] in PURE_NAMES)
        or any(_within(name, package) for package in PURE_PACKAGES)
    )


def _owner_of_private(name: str) -> str | None:
    """The package a private (``_name``) module belongs to, or None when it is public."""
    parts = name.split(".")
    for index, part in enumerate(parts):
        if part.startswith("_") and not part.startswith("__"):
            return ".".join(parts[:index])
    return None


def arrow_rule(source: str, target: str) -> str | None:
    """The rule ``source`` importing ``target`` (both ours) breaks, or None."""
    owner = _owner_of_private(target)
    if owner is not None and not _within(source, owner):
        return f"private module of {owner}"
    below, above = layer_of(source), layer_of(target)
    if below != above and RANKS[above] >= RANKS[below]:
        return f"{'upward' if RANKS[above] > RANKS[below] else 'sideways'}: {below} -> {above}"
    return None


def pure_modules(found: ImportMap) -> list[str]:
    return sorted(name for name in found.modules if is_pure(name))


def _chain(loaded_by: dict[str, str | None], last: str) -> list[str]:
    chain = [last]
    while (parent := loaded_by.get(chain[-1])) is not None:
        chain.append(parent)
    return chain[::-1]


def purity_rule(found: ImportMap, name: str) -> list[Violation]:
    """What ``name``, a pure module, loads that it must not, one line per step out of the pure set.

    A package on the way is allowed as long as its ``__init__.py`` loads only pure modules.
    """
    ours, external = found.loads(name)
    bad = [(library, [*_chain(ours, by), library]) for library, by in external.items()]
    bad = [(what, chain) for what, chain in bad if what in IO_LIBRARIES]
    bad += [
        (loaded, _chain(ours, loaded))
        for loaded in ours
        if not is_pure(loaded) and not found.modules[loaded].is_package
    ]
    by_step: dict[tuple[str, ...], list[str]] = {}
    for what, chain in bad:
        step = next(index for index, link in enumerate(chain) if not is_pure(link))
        by_step.setdefault(tuple(chain[: step + 1]), []).append(what)
    problems = []
    for path, what in sorted(by_step.items()):
        libraries = sorted(w for w in what if w in IO_LIBRARIES)
        modules = len(what) - len(libraries)
        loads = [*libraries, *([f"{modules} impure module(s)"] if modules else [])]
        via = " -> ".join(_short(link) for link in path)
        if path[0] != name:
            via = f"its package {via}"
        problems.append(Violation(name, path[-1], f"{via} loads {', '.join(loads)}"))
    return problems


def _short(name: str) -> str:
    return name.removeprefix(f"{TOP}.")


def violations(found: ImportMap) -> list[Violation]:
    """Every arrow that breaks a layer or privacy rule, and every impure load of a pure module."""
    problems = [
        Violation(edge.source, edge.target, rule)
        for edge in found.imports
        if edge.ours
        and edge.target != edge.source
        and (rule := arrow_rule(edge.source, edge.target)) is not None
    ]
    for name in pure_modules(found):
        problems += purity_rule(found, name)
    return problems


def render(found: ImportMap) -> Iterator[str]:
    """The map as text: per package its imports (ours one per line, then third-party)."""
    stdlib = sys.stdlib_module_names
    packages = sorted({module.package for module in found.modules.values()})
    for package in packages:
        members = [m for m in found.modules.values() if m.package == package]
        targets: dict[str, list[str]] = {}
        external: set[str] = set()
        for module in members:
            short = "__init__" if module.is_package else module.name.rpartition(".")[2]
            for edge in found.imports_of(module.name):
                if not edge.ours:
                    if edge.target not in stdlib:
                        external.add(edge.target)
                elif edge.target != package and found.modules[edge.target].package != package:
                    targets.setdefault(edge.target, [])
                    if short not in targets[edge.target]:
                        targets[edge.target].append(short)
        layers = sorted({layer_of(m.name) for m in members if m.name != TOP}, key=RANKS.get)
        yield f"{package}  [{', '.join(layers)}]"
        for target, sources in sorted(targets.items()):
            mark = ""
            names = [package if s == "__init__" else f"{package}.{s}" for s in sources]
            rules = sorted({rule for name in names if (rule := arrow_rule(name, target))})
            if rules:
                mark = f"   !! {'; '.join(rules)}"
            yield f"  -> {target}  ({', '.join(sources)}){mark}"
        if external:
            yield f"  third-party: {', '.join(sorted(external))}"
    yield ""
    yield "pure modules (may load only the domain, strict, each other, stdlib, attrs, cattrs):"
    for name in pure_modules(found):
        problems = purity_rule(found, name)
        if not problems:
            yield f"  {name}  ok"
        for problem in problems:
            yield f"  {name}  !! {problem.rule}"


def main(argv: list[str]) -> int:
    found = read(Path(argv[0]) if argv else ROOT)
    for line in render(found):
        print(line)
    problems = violations(found)
    print(f"\n{len(problems)} violation(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
