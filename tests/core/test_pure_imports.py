"""Importing a decision loads no I/O library, checked in a fresh interpreter (what really runs)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support.import_map import IO_LIBRARIES, ROOT, pure_modules, read

PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted({{name.partition(".")[0] for name in sys.modules}} & set({io}))))
"""


def test_importing_every_pure_module_loads_no_io_library() -> None:
    modules = pure_modules(read())
    probe = PROBE.format(io=sorted(IO_LIBRARIES))
    result = subprocess.run(
        [sys.executable, "-c", probe, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout) == []
