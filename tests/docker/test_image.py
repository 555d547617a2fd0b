"""The Dockerfile and the compose example, read as text and YAML (no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("status-tracker", "jellyseerr", "sonarr", "radarr", "qbittorrent", "jellyfin")


def instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_the_image_runs_the_readme_commands_through_the_entrypoint() -> None:
    steps = instructions()
    assert steps[0] == ("FROM", "python:3.11-slim")
    run = " ".join(arg for kind, arg in steps if kind == "RUN")
    assert "python3 -m venv /app/.venv" in run
    assert "/app/.venv/bin/pip install --no-cache-dir '.[postgresql]'" in run
    assert "docker/entrypoint.sh" in run
    env = " ".join(arg for kind, arg in steps if kind == "ENV")
    for name, value in [("PUID", "1000"), ("PGID", "1000"), ("TZ", "Etc/UTC")]:
        assert re.search(rf"\b{name}={value}\b", env), name
    # The entrypoint picks the database (/config, or an existing /data one).
    assert "ST_DATABASE_URL" not in env
    assert ("VOLUME", "/config") in steps
    workdirs = [arg for kind, arg in steps if kind == "WORKDIR"]
    assert workdirs[-1] == "/config"  # the default ./status-tracker.db is in /config
    assert ("ENTRYPOINT", '["/usr/local/bin/entrypoint.sh"]') in steps
    assert ("CMD", '["/app/.venv/bin/status-tracker"]') in steps
    assert not any(kind == "USER" for kind, _ in steps)  # root until setpriv drops it
    healthcheck = next(arg for kind, arg in steps if kind == "HEALTHCHECK")
    assert "ST_URL_BASE" in healthcheck
    assert "/health" in healthcheck


def test_the_build_context_keeps_what_the_image_needs() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for needed in ("docker/entrypoint.sh", "pyproject.toml", "status_tracker", "ingress"):
        assert needed not in ignored
    assert ".venv" in ignored
    assert "*.db" in ignored


def test_the_compose_example_puts_it_beside_the_services_it_follows() -> None:
    compose = yaml.safe_load((ROOT / "docker" / "compose.example.yml").read_text())
    services = compose["services"]
    assert set(services) == set(SERVICES)
    for name in SERVICES[1:]:
        assert services[name]["image"] == f"lscr.io/linuxserver/{name}:latest"
    for name, service in services.items():
        environment = service["environment"]
        assert {environment["PUID"], environment["PGID"]} == {"1000"}, name
        assert environment["TZ"], name
    tracker = services["status-tracker"]
    assert tracker["build"] == "."
    assert "./status-tracker:/config" in tracker["volumes"]
    assert "8420:8420" in tracker["ports"]
    environment = tracker["environment"]
    for variable, service, port in [
        ("ST_QBITTORRENT_URL", "qbittorrent", 8080),
        ("ST_JELLYFIN_URL", "jellyfin", 8096),
        ("ST_SONARR_URL", "sonarr", 8989),
        ("ST_RADARR_URL", "radarr", 7878),
    ]:
        assert environment[variable] == f"http://{service}:{port}"
        assert f"{port}:{port}" in services[service]["ports"]
    for variable, value in environment.items():
        if variable.endswith("_FILE"):
            secret = value.removeprefix("/run/secrets/")
            assert secret in tracker["secrets"]
            assert secret in compose["secrets"]
