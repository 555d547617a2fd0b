"""What ``pip install .`` puts into site-packages: one namespace of ours, with its data files."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_wheel_installs_everything_under_status_tracker_only(tmp_path: Path) -> None:
    # A copy of the sources: setuptools would reuse a stale build/ folder of the checkout.
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(source)],
        check=True,
        timeout=300,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("status_tracker-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {
        "status_tracker",
        f"{wheel.name.split('-')[0]}-{wheel.name.split('-')[1]}.dist-info",
    }
    for package in ("actors", "clients", "ingress", "storage"):
        assert f"status_tracker/{package}/__init__.py" in names, package
    assert "status_tracker/storage/migrations/0001_initial.sql" in names
    assert "status_tracker/ingress/http/static/dashboard.html" in names
