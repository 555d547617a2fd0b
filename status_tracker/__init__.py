"""status-tracker: follows media requests from Jellyseerr to playable in Jellyfin.

Installed, the folders ``actors``, ``clients``, ``ingress`` and ``storage`` of the source tree
are the subpackages ``status_tracker.actors`` and so on (setuptools ``package-dir``). Run from
a source checkout (the tests, the benchmarks), the same names resolve to those folders, which
sit beside this one.
"""

from pathlib import Path as _Path

_SOURCE_TREE = _Path(__file__).resolve().parent.parent
if (_SOURCE_TREE / "pyproject.toml").is_file() and (_SOURCE_TREE / "actors").is_dir():
    __path__.append(str(_SOURCE_TREE))
