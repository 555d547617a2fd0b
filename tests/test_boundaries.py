"""Every import arrow points down the layers DESIGN.md draws, read from the source with ``ast``.

Nothing of ours is imported: ``tests.support.import_map`` parses the tree. When this fails,
``python -m tests.support.import_map`` prints the whole map with the offending arrows marked.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.import_map import pure_modules, read, violations

# The decisions and the translation, which must stay free of I/O (DESIGN.md: "pure functions
# with no I/O, tested without Trio"); the checker finds them by name, so a rename that hid one
# from it would fail here.
DECISIONS = {
    "status_tracker.domain",
    "status_tracker.strict",
    "status_tracker.actors.media_request.state",
    "status_tracker.actors.media_request.transitions",
    "status_tracker.actors.media_request.messages",
    "status_tracker.actors.torrent.state",
    "status_tracker.actors.torrent.release",
    "status_tracker.actors.torrent.messages",
    "status_tracker.actors.shoko_matcher.messages",
    "status_tracker.actors.dispatch.correlation",
    "status_tracker.actors.recovery.stuck",
    "status_tracker.actors.library_match",
    "status_tracker.ingress.translate",
}


def test_every_arrow_points_down() -> None:
    problems = violations(read())
    assert not problems, "\n".join(map(str, problems))


def test_the_decisions_are_checked_for_purity() -> None:
    assert set(pure_modules(read())) >= DECISIONS


def write_tree(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_an_upward_arrow_a_private_import_and_trio_in_a_decision_are_each_caught(
    tmp_path: Path,
) -> None:
    write_tree(
        tmp_path,
        {
            "pyproject.toml": (
                "[tool.setuptools.package-dir]\n"
                '"status_tracker" = "status_tracker"\n'
                '"status_tracker.actors" = "actors"\n'
                '"status_tracker.ingress" = "ingress"\n'
            ),
            "status_tracker/__init__.py": "",
            "status_tracker/domain.py": "import attrs\n",
            "actors/__init__.py": "from ._runtime import run\n",
            "actors/_runtime.py": "import trio\n\nrun = trio.run\n",
            "actors/thing/__init__.py": "",
            "actors/thing/state.py": "from status_tracker.domain import attrs\n",
            "actors/thing/actor.py": "from ...ingress import web\n",
            "ingress/__init__.py": "",
            "ingress/web.py": "from status_tracker.actors._runtime import run\n",
        },
    )
    found = {(v.source, v.rule.split(":")[0]) for v in violations(read(tmp_path))}
    assert found == {
        ("status_tracker.actors.thing.actor", "upward"),
        ("status_tracker.ingress.web", "private module of status_tracker.actors"),
        ("status_tracker.actors.thing.state", "its package actors loads trio, 1 impure module(s)"),
    }
