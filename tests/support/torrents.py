"""Deterministic, trackerless v1 torrents for tests: a bencoder and a multi-file torrent maker.

The payload bytes come from ``random.Random(seed)``, so the same arguments give the same infohash.
"""

from __future__ import annotations

import hashlib
import random
import typing

if typing.TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

Bencodable = int | str | bytes | list["Bencodable"] | dict[str, "Bencodable"]


def bencode(value: Bencodable) -> bytes:
    """Encode ints, strings (UTF-8), bytes, lists and dicts (keys sorted as bytes)."""
    if isinstance(value, int):
        return b"i%de" % value
    if isinstance(value, str):
        value = value.encode()
    if isinstance(value, bytes):
        return b"%d:%s" % (len(value), value)
    if isinstance(value, list):
        return b"l" + b"".join(bencode(item) for item in value) + b"e"
    pairs = sorted((key.encode(), item) for key, item in value.items())
    return b"d" + b"".join(bencode(key) + bencode(item) for key, item in pairs) + b"e"


@typing.final
class MadeTorrent(typing.NamedTuple):
    """A generated torrent: the ``.torrent`` file, its v1 infohash, and the folder holding its data.

    ``data_parent / name`` is the torrent's root folder, so ``data_parent`` is the save path a
    seeder adds it with.
    """

    torrent_path: Path
    infohash: str
    data_parent: Path


def make_torrent(
    workdir: Path,
    name: str,
    files: Sequence[tuple[str, int]],
    piece_size: int = 64 * 1024,
    seed: int = 1234,
) -> MadeTorrent:
    """Write ``files`` (relative path, size) under ``workdir/data/name`` and a torrent for them.

    The torrent has no ``announce`` key, so no client ever contacts a tracker for it.
    """
    rng = random.Random(seed)
    data_parent = workdir / "data"
    pieces = bytearray()
    unhashed = bytearray()
    for relative_path, size in files:
        payload = rng.randbytes(size)
        file_path = data_parent / name / relative_path
        file_path.parent.mkdir(parents=True, exist_ok=True)
        file_path.write_bytes(payload)
        unhashed += payload
        while len(unhashed) >= piece_size:
            pieces += hashlib.sha1(unhashed[:piece_size]).digest()
            del unhashed[:piece_size]
    if unhashed:
        pieces += hashlib.sha1(unhashed).digest()
    info: dict[str, Bencodable] = {
        "name": name,
        "piece length": piece_size,
        "pieces": bytes(pieces),
        "files": [
            {"length": size, "path": list(relative_path.split("/"))}
            for relative_path, size in files
        ],
    }
    torrent_path = workdir / f"{name}.torrent"
    torrent_path.write_bytes(
        bencode({"info": info, "created by": "status-tracker tests", "creation date": 1700000000})
    )
    return MadeTorrent(torrent_path, hashlib.sha1(bencode(info)).hexdigest(), data_parent)
