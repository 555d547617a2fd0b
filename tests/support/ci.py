"""Whether this run is CI, where every real-service test must run rather than skip."""

from __future__ import annotations

import os

import pytest

_FALSE = {"", "0", "false", "no", "off"}


def in_ci() -> bool:
    """True when ``CI`` is set to any truthy value (``true``, ``1``, ``yes``, ...)."""
    return os.environ.get("CI", "").strip().lower() not in _FALSE


def require_or_skip(reason: str) -> None:
    """Skip a test on a developer machine; fail it in CI, where everything must run."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: this test must run)")
    pytest.skip(reason)
