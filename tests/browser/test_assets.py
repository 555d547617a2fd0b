"""What the page is made of: served files, their types, and words for every backend word."""

from __future__ import annotations

import ast
import re
import tomllib
import typing
from pathlib import Path

import httpx
import pytest
from status_tracker.ingress.http.pages import STATIC_FILES

from tests.browser.harness import LiveService

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "ingress" / "http" / "static"
PAGES = {"dashboard.html", "login.html"}
OUTSIDE = re.compile(r"""(src|href)=["']https?://|@import|url\(\s*["']?https?:""")


def test_every_static_file_is_served_and_nothing_else() -> None:
    on_disk = {path.name for path in STATIC.iterdir() if path.is_file()}
    assert set(STATIC_FILES) == on_disk - PAGES
    for name, content_type in STATIC_FILES.items():
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        assert content_type.startswith(kind), name


def test_static_files_have_their_types_and_need_no_secret(live: LiveService) -> None:
    with httpx.Client(base_url=live.url) as client:
        for name, content_type in STATIC_FILES.items():
            response = client.get(f"/static/{name}")
            assert response.status_code == 200, name
            assert response.headers["content-type"] == content_type
            assert response.headers["x-content-type-options"] == "nosniff"
            etag = response.headers["etag"]
            again = client.get(f"/static/{name}", headers={"If-None-Match": etag})
            assert again.status_code == 304
        for name in ("dashboard.html", "login.html", "nope.js", "..%2Fpages.py", "../pages.py"):
            response = client.get(f"/static/{name}")
            assert response.status_code == 404, name
            assert "error" in response.json()


def test_no_page_file_loads_anything_from_the_web() -> None:
    for path in STATIC.iterdir():
        text = path.read_text()
        assert not OUTSIDE.search(text), path
        assert "fonts.googleapis" not in text


def words_keys(table: str) -> set[str]:
    source = (STATIC / "words.js").read_text()
    block = re.search(rf"export const {table} = \{{(.*?)\n\}};", source, re.S)
    assert block, table
    return set(re.findall(r"^\s+(\w+):", block.group(1), re.M))


EVENT_CALLS = {"move", "move_episode", "create", "note", "_observe", "_link_episodes", "_note"}


def backend_events() -> set[str]:
    """Every timeline ``event`` the backend can write, read from the code that writes them."""
    found: set[str] = set()
    for path in [*ROOT.glob("actors/**/*.py"), *ROOT.glob("ingress/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            values = [k.value for k in node.keywords if k.arg == "event"]
            if name in EVENT_CALLS:
                values += node.args
            found |= {
                v.value
                for v in values
                if isinstance(v, ast.Constant)
                and isinstance(v.value, str)
                and re.fullmatch(r"[a-z]+(_[a-z]+)*", v.value)
            }
    from status_tracker.ingress.shoko.protocol import FileEventKind

    found |= {f"shoko_file_{kind}" for kind in typing.get_args(FileEventKind)}
    return found


def test_every_timeline_event_and_state_has_plain_words() -> None:
    events = backend_events()
    assert {"grabbed", "download_completed", "state_derived", "shoko_file_matched"} <= events
    known = words_keys("EVENT_WORDS") | words_keys("STATE_WORDS")
    assert not events - known, f"words.js has no words for {sorted(events - known)}"


@pytest.mark.parametrize("table", ["STATE_WORDS", "DOWNLOAD_WORDS", "SOURCE_WORDS"])
def test_every_documented_word_has_plain_words(table: str) -> None:
    design = {
        "STATE_WORDS": "requested approved grabbing downloading downloaded importing "
        "anime_matching available failed deleted pending partially_available",
        "DOWNLOAD_WORDS": "queued downloading stalled paused completed seeding missing error",
        "SOURCE_WORDS": "jellyseerr radarr sonarr qbittorrent shoko jellyfin verifier "
        "recovery api system",
    }[table]
    assert set(design.split()) <= words_keys(table)


def test_the_wheel_carries_every_page_file() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["status_tracker.ingress"]
    packaged = {path for pattern in patterns for path in (ROOT / "ingress").glob(pattern)}
    assert {path for path in STATIC.iterdir() if path.is_file()} <= packaged
