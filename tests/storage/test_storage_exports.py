"""The public surface of `storage`: re-exported once each from underscore modules (Trio style)."""

from __future__ import annotations

import ast
import inspect
import typing
from pathlib import Path

from status_tracker import storage


def test_every_public_name_comes_once_from_an_underscore_module() -> None:
    tree = ast.parse(Path(storage.__file__).read_text())
    exported = []
    for node in tree.body:
        if isinstance(node, ast.Expr):
            continue
        assert isinstance(node, ast.ImportFrom)
        assert node.module is not None
        assert node.module.startswith("_")
        for alias in node.names:
            assert alias.asname == alias.name
            exported.append(alias.name)
    assert len(exported) == len(set(exported))
    public = {name for name in vars(storage) if not name.startswith("_")}
    assert public - {"annotations"} >= set(exported)


def test_public_classes_are_final() -> None:
    for name in dir(storage):
        value = getattr(storage, name)
        if inspect.isclass(value) and not issubclass(value, Exception) and name[0].isupper():
            assert getattr(value, "__final__", False), f"storage.{name} is not @typing.final"


def test_the_op_union_names_every_write_operation() -> None:
    assert set(typing.get_args(storage.Op)) == {
        storage.SaveRequest,
        storage.SaveEpisodes,
        storage.SaveDownload,
        storage.AppendTimeline,
        storage.MarkMailApplied,
        storage.CountMailAttempt,
        storage.PostMail,
        storage.PruneMail,
        storage.RecordDeadLetter,
        storage.RetryDeadLetter,
        storage.DiscardDeadLetter,
        storage.SaveSession,
        storage.EndSession,
        storage.PruneSessions,
        storage.SetSetting,
        storage.QueueNotification,
        storage.MarkNotificationsSent,
        storage.RecordNotificationAttempt,
        storage.GiveUpNotifications,
        storage.PruneNotifications,
        storage.SaveArrDownload,
        storage.ForgetArrDownload,
        storage.RecordLibraryNudge,
        storage.PruneEventKeys,
        storage.SaveReplacementWait,
        storage.PruneReplacementWaits,
    }
