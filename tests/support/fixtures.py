"""Real payloads of every service, kept in tests/fixtures (copied from the project's shared set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def load_fixture(relative_path: str) -> Any:
    """The parsed JSON of ``tests/fixtures/<relative_path>``."""
    return json.loads((FIXTURES / relative_path).read_text())
