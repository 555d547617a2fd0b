"""The clients package exports each public name of its modules, and public classes are final."""

from __future__ import annotations

import inspect

import pytest
from status_tracker.clients import (
    _fields,
    _health,
    _http,
    download_client,
    jellyfin,
    qbittorrent,
    radarr,
    sonarr,
)

from status_tracker import clients
from tests.support.exports import public_names

NOT_EXPORTED = {"HttpService", "KeyedService", "logger"}


@pytest.mark.parametrize(
    "module",
    [_fields, _health, _http, download_client, jellyfin, qbittorrent, radarr, sonarr],
    ids=lambda m: m.__name__,
)
def test_public_names_are_exported_from_the_package(module: object) -> None:
    public = public_names(module, not_exported=NOT_EXPORTED)
    assert public <= set(vars(clients))


def test_public_classes_are_final_except_the_exception_base() -> None:
    # A port (a Protocol) is there to be implemented by other classes, so it is never final.
    classes = [
        value
        for value in vars(clients).values()
        if inspect.isclass(value) and not getattr(value, "_is_protocol", False)
    ]
    assert classes
    not_final = {cls.__name__ for cls in classes if not getattr(cls, "__final__", False)}
    assert not_final == {"ClientError"}
