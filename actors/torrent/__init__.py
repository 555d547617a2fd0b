"""Torrent actor: one per torrent hash, owning its download, files and file-to-episode map."""
