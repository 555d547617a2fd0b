"""Signing in to the dashboard: a random server-side session that expires and can be ended."""

from __future__ import annotations

import hashlib
import ipaddress

import httpx

from tests.support.service import API_TOKEN, RunningService, started_service, wait_until

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def session_cookie(response: httpx.Response) -> tuple[str, str]:
    """The session id the response sets, and the whole ``Set-Cookie`` line."""
    (line,) = [c for c in response.headers.get_list("set-cookie") if c.startswith("st_session=")]
    return line.split(";")[0].removeprefix("st_session="), line


async def sign_in(service: RunningService, **headers: str) -> tuple[str, str]:
    response = await service.http.post("/login", data={"token": API_TOKEN}, headers=headers)
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    return session_cookie(response)


async def can_read_the_api(service: RunningService, session_id: str) -> bool:
    """Whether ``session_id`` (sent explicitly, which wins over the client's jar) is let in."""
    response = await service.http.get(
        "/api/requests", headers={"Cookie": f"st_session={session_id}"}
    )
    assert response.status_code in (200, 401)
    return response.status_code == 200


async def test_signing_in_sets_a_random_http_only_strict_cookie_stored_only_hashed(
    service: RunningService,
) -> None:
    first, line = await sign_in(service)
    second, _ = await sign_in(service)
    assert first != second
    assert len(first) >= 43
    attributes = {part.strip().split("=")[0].lower() for part in line.split(";")[1:]}
    assert {"httponly", "samesite", "max-age", "path"} <= attributes
    assert "samesite=strict" in line.lower()
    assert f"max-age={30 * 24 * 3600}" in line.lower()
    assert "secure" not in attributes, "plain HTTP from a browser cannot send a Secure cookie"
    stored = await service.system.store.fetch("SELECT id_hash FROM sessions ORDER BY created_at")
    assert [row["id_hash"] for row in stored] == [
        hashlib.sha256(first.encode()).hexdigest(),
        hashlib.sha256(second.encode()).hexdigest(),
    ]


async def test_the_session_opens_the_dashboard_and_the_api_until_signing_out(
    service: RunningService,
) -> None:
    session_id, _ = await sign_in(service)
    cookie = {"Cookie": f"st_session={session_id}"}
    dashboard = await service.http.get("/", headers=cookie)
    assert 'action="/logout"' in dashboard.text
    assert await can_read_the_api(service, session_id)

    signed_out = await service.http.post("/logout", headers=cookie)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/")
    _, cleared = session_cookie(signed_out)
    assert "max-age=0" in cleared.lower()
    assert not await can_read_the_api(service, session_id)
    login_page = await service.http.get("/", headers=cookie)
    assert 'name="token"' in login_page.text


async def test_the_dashboard_tells_the_page_the_role_of_its_session(sqlite_url: str) -> None:
    async with started_service(sqlite_url, view_token="test-view-secret") as service:
        for token, role in ((API_TOKEN, "admin"), ("test-view-secret", "viewer")):
            signed_in = await service.http.post("/login", data={"token": token})
            session_id, _ = session_cookie(signed_in)
            dashboard = await service.http.get("/", headers={"Cookie": f"st_session={session_id}"})
            assert f'<body data-role="{role}">' in dashboard.text


async def test_the_token_in_the_address_signs_in_once_and_is_dropped_from_it(
    service: RunningService,
) -> None:
    response = await service.http.get("/", params={"token": API_TOKEN})
    assert (response.status_code, response.headers["location"]) == (303, "/")
    session_id, _ = session_cookie(response)
    assert await can_read_the_api(service, session_id)


async def test_a_wrong_token_signs_nobody_in(service: RunningService) -> None:
    as_page = await service.http.post("/login", data={"token": "guess"}, headers=BROWSER)
    assert as_page.status_code == 401
    assert "Wrong token." in as_page.text
    as_json = await service.http.post("/login", data={"token": "guess"})
    assert as_json.json() == {"error": "wrong API token"}
    assert "set-cookie" not in as_page.headers
    assert "set-cookie" not in as_json.headers
    assert not await can_read_the_api(service, "made-up-session-id")


async def test_a_session_stops_working_when_it_expires(sqlite_url: str) -> None:
    async with started_service(sqlite_url, session_days=2 / 86400) as service:
        session_id, line = await sign_in(service)
        assert "max-age=2" in line.lower()
        assert await can_read_the_api(service, session_id)

        async def expired() -> bool:
            return not await can_read_the_api(service, session_id)

        await wait_until(expired, what="the two-second session to expire", deadline=10)


async def test_a_session_survives_a_restart_but_not_a_new_api_token(sqlite_url: str) -> None:
    async with started_service(sqlite_url) as service:
        session_id, _ = await sign_in(service)
    async with started_service(sqlite_url) as restarted:
        assert await can_read_the_api(restarted, session_id)
    async with started_service(sqlite_url, api_token="a-rotated-api-token") as rotated:
        assert not await can_read_the_api(rotated, session_id)


async def test_the_cookie_is_secure_behind_a_trusted_https_proxy(service: RunningService) -> None:
    _, line = await sign_in(service, **{"X-Forwarded-Proto": "https"})
    assert "secure" in {part.strip().lower() for part in line.split(";")}


async def test_the_forwarded_scheme_of_an_untrusted_peer_is_ignored(sqlite_url: str) -> None:
    elsewhere = (ipaddress.ip_network("10.0.0.0/8"),)
    async with started_service(sqlite_url, trusted_proxies=elsewhere) as service:
        _, line = await sign_in(service, **{"X-Forwarded-Proto": "https"})
    assert "secure" not in {part.strip().lower() for part in line.split(";")}
