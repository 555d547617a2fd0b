"""The ingress.shoko package exports each public name of its modules; public classes are final."""

from __future__ import annotations

import inspect

import pytest
from status_tracker.ingress import shoko
from status_tracker.ingress.shoko import listener, protocol

from tests.support.exports import public_names

NOT_EXPORTED = {"logger"}


@pytest.mark.parametrize("module", [protocol, listener], ids=lambda m: m.__name__)
def test_public_names_are_exported_from_the_package(module: object) -> None:
    public = public_names(module, not_exported=NOT_EXPORTED)
    assert public <= set(vars(shoko))


def test_public_classes_are_final() -> None:
    classes = [value for value in vars(shoko).values() if inspect.isclass(value)]
    assert classes
    assert {cls.__name__ for cls in classes if not getattr(cls, "__final__", False)} == set()
