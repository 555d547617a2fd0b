"""The test torrent maker is deterministic and matches the verified recipe's infohash."""

from __future__ import annotations

import hashlib
import typing

from tests.support.torrents import bencode, make_torrent

if typing.TYPE_CHECKING:
    from pathlib import Path

MIB = 1024 * 1024


def test_bencode_sorts_keys_and_length_prefixes_strings() -> None:
    assert bencode({"b": [1, "x"], "a": b"\x00"}) == b"d1:a1:\x001:bli1e1:xee"


def test_recipe_pack_has_the_recipe_infohash(tmp_path: Path) -> None:
    files = [(f"Show.S01E{number:02d}.mkv", 2 * MIB) for number in range(1, 7)]
    made = make_torrent(tmp_path, "Show.S01.1080p.WEB", files)
    assert made.infohash == "1acb89c47f7a32291d96ac26ae8154f0d76d1c5d"
    assert made.torrent_path.is_file()
    first = made.data_parent / "Show.S01.1080p.WEB" / "Show.S01E01.mkv"
    assert first.stat().st_size == 2 * MIB


def test_odd_sizes_and_nested_paths_hash_every_piece(tmp_path: Path) -> None:
    made = make_torrent(
        tmp_path / "a", "Pack", [("Extras/NCOP.mkv", 100_001), ("E01.mkv", 5)], 16384
    )
    again = make_torrent(
        tmp_path / "b", "Pack", [("Extras/NCOP.mkv", 100_001), ("E01.mkv", 5)], 16384
    )
    assert made.infohash == again.infohash
    payload = b"".join(
        (made.data_parent / "Pack" / path).read_bytes() for path in ("Extras/NCOP.mkv", "E01.mkv")
    )
    expected_pieces = b"".join(
        hashlib.sha1(payload[start : start + 16384]).digest()
        for start in range(0, len(payload), 16384)
    )
    assert expected_pieces in made.torrent_path.read_bytes()
