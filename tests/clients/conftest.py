"""Fixtures for the client tests: real qBittorrent daemons from tests.support."""

from tests.support.qbittorrent import qbittorrent_binary, qbt_pair

__all__ = ["qbittorrent_binary", "qbt_pair"]
