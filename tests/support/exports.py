"""What a module offers others, for the tests that check a package re-exports it."""

from __future__ import annotations

import inspect
from collections.abc import Set
from types import ModuleType


def public_names(module: ModuleType, *, not_exported: Set[str] = frozenset()) -> set[str]:
    """The classes, functions and constants ``module`` defines itself, minus ``not_exported``."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", module.__name__) == module.__name__
        and not inspect.ismodule(value)
        and name not in not_exported
        and (inspect.isclass(value) or inspect.isfunction(value) or name.isupper())
    }
