"""The actor runtime's public surface, checked as Trio's test_exports does (catalogue item 35)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from status_tracker.actors import runtime

PUBLIC = {
    name: value
    for name, value in vars(runtime).items()
    if not name.startswith("_") and not inspect.ismodule(value)
}

# What other packages already code against; removing or renaming any of these breaks them.
PROMISED = {
    "Restart",
    "Strategy",
    "ChildSpec",
    "actor_child",
    "task_child",
    "Supervisor",
    "Registry",
    "ActorRef",
    "ActorDied",
    "MailboxFull",
    "SupervisorGaveUp",
    "ActorStatistics",
    "SupervisorStatistics",
    "RegistryStatistics",
    "Behaviour",
}


def test_every_public_name_is_re_exported_once_from_an_underscore_module() -> None:
    tree = ast.parse(Path(runtime.__file__).read_text())
    exported: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        assert isinstance(node, ast.ImportFrom), ast.unparse(node)
        assert node.level == 1
        assert node.module is not None
        assert node.module.startswith("_")
        for alias in node.names:
            assert alias.asname == alias.name, f"{alias.name} must be exported `as` itself"
            exported.append(alias.name)

    assert len(exported) == len(set(exported)), "a name is exported twice"
    assert set(exported) == set(PUBLIC)
    assert set(PUBLIC) >= PROMISED
    for name, value in PUBLIC.items():
        assert value.__module__.startswith("status_tracker.actors._"), name


def test_public_classes_are_final() -> None:
    for name, value in PUBLIC.items():
        if inspect.isclass(value) and not getattr(value, "_is_protocol", False):
            assert getattr(value, "__final__", False), f"{name} is not @typing.final"
