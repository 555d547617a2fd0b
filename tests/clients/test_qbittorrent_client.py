"""QBittorrentClient against a scripted Web API (httpx.MockTransport): parsing, sync merge, auth."""

from __future__ import annotations

import contextlib
import logging
import typing

import httpx
import pytest
import trio
import trio.testing
from hypothesis import given
from hypothesis import strategies as st
from status_tracker.clients import (
    Download,
    QBittorrentAuthError,
    QBittorrentClient,
    ServiceUnavailable,
    TorrentNotFound,
    TorrentView,
    UnexpectedResponse,
    download_state,
)
from status_tracker.clients.qbittorrent import _MaindataCache

from tests.support.fixtures import load_fixture

if typing.TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

PASSWORD = "pässword-never-logged"
VIOLET = "327cce10156316f79c005b0e953b9e8498e066eb"
REZE = "7a9c1e3f5b7d9f1a3c5e7a9b1d3f5a7c9e1b3d5f"
LINK_CLICK = "9e3d7c1b5a2f4e6d8c0b2a4f6e8d0c2b4a6f8e0d"
HORIMIYA = "b4a1e3d27c9f0a5e6d8c1b2a3f4e5d6c7b8a9f01"
HORIMIYA_NAME = "[Judas] Horimiya (Season 1) [1080p][HEVC x265 10bit][Dual-Audio][Multi-Subs]"

Answer = httpx.Response | type[Exception]
LOGIN = "/api/v2/auth/login"
FIRST_BACKOFF_S = QBittorrentClient.FIRST_LOGIN_BACKOFF_S
MAX_BACKOFF_S = QBittorrentClient.MAX_LOGIN_BACKOFF_S
BAN_TEXT = "Your IP address has been banned after too many failed authentication attempts."


def logged_in() -> httpx.Response:
    return httpx.Response(200, text="Ok.", headers={"set-cookie": "SID=s3ss10n; HttpOnly; path=/"})


class ScriptedWebApi:
    """Answers each path from its own queue; the last answer of a queue repeats."""

    def __init__(self, answers: dict[str, list[Answer]]) -> None:
        self.answers = {"/api/v2/auth/login": [logged_in()], **answers}
        self.requests: list[httpx.Request] = []
        self.login_times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.path == LOGIN:
            self.login_times.append(trio.current_time())
        queue = self.answers[request.url.path]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, type):
            raise answer("scripted failure", request=request)
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]


@contextlib.asynccontextmanager
async def scripted_client(
    answers: dict[str, list[Answer]] | Callable[[httpx.Request], httpx.Response],
) -> AsyncIterator[tuple[QBittorrentClient, ScriptedWebApi]]:
    web_api = ScriptedWebApi(answers) if isinstance(answers, dict) else answers
    transport = httpx.MockTransport(web_api)
    async with httpx.AsyncClient(transport=transport) as http:
        yield QBittorrentClient("http://qbt.test/", "admin", PASSWORD, http=http), web_api


async def test_sync_maindata_merges_full_update_then_delta() -> None:
    full = load_fixture("qbittorrent/sync_maindata_full.json")
    delta = load_fixture("qbittorrent/sync_maindata_delta.json")
    answers = {
        "/api/v2/sync/maindata": [httpx.Response(200, json=full), httpx.Response(200, json=delta)]
    }
    async with scripted_client(answers) as (client, web_api):
        first = await client.sync_maindata()
        second = await client.sync_maindata()

    rids = [r.url.params["rid"] for r in web_api.requests if r.url.path.endswith("/maindata")]
    assert rids == ["0", "1"]
    assert first.full_update
    assert first.changed == {VIOLET, REZE, LINK_CLICK, HORIMIYA} == first.torrents.keys()
    assert first.removed == frozenset()

    assert not second.full_update
    assert second.changed == {VIOLET, REZE, HORIMIYA}
    assert second.removed == {LINK_CLICK}
    assert second.torrents.keys() == {VIOLET, REZE, HORIMIYA}
    horimiya = second.torrents[HORIMIYA]
    assert horimiya.progress == 0.464443
    assert horimiya.amount_left == 5041107968
    assert horimiya.eta == 263
    assert horimiya.name == HORIMIYA_NAME
    assert horimiya.save_path == "/data/downloads/complete/sonarr-anime"
    assert horimiya.state == "downloading"
    reze = second.torrents[REZE]
    assert (reze.state, reze.size, reze.total_size) == ("stalledDL", 7516192768, 7516192768)
    assert reze.content_path.endswith(
        "/Chainsaw.Man.The.Movie.Reze.Arc.2025.1080p.AMZN.WEB-DL.DDP5.1.H.264-VARYG.mkv"
    )
    violet = second.torrents[VIOLET]
    assert (violet.state, violet.dlspeed, violet.eta, violet.progress) == (
        "downloading",
        2097152,
        1734,
        0.031247,
    )


async def test_delta_touching_only_unread_fields_changes_nothing() -> None:
    full = load_fixture("qbittorrent/sync_maindata_full.json")
    # Seeds are read since issue 9; the upload speed and last activity are still not.
    delta = {"rid": 2, "torrents": {HORIMIYA: {"upspeed": 300000, "last_activity": 1769020900}}}
    answers = {
        "/api/v2/sync/maindata": [httpx.Response(200, json=full), httpx.Response(200, json=delta)]
    }
    async with scripted_client(answers) as (client, _):
        first = await client.sync_maindata()
        second = await client.sync_maindata()
    assert second.changed == frozenset()
    assert second.torrents == first.torrents


async def test_full_update_after_deltas_reports_vanished_torrents_as_removed() -> None:
    full = load_fixture("qbittorrent/sync_maindata_full.json")
    smaller = {
        "rid": 1,
        "full_update": True,
        "torrents": {h: full["torrents"][h] for h in (VIOLET, HORIMIYA)},
    }
    answers = {
        "/api/v2/sync/maindata": [httpx.Response(200, json=full), httpx.Response(200, json=smaller)]
    }
    async with scripted_client(answers) as (client, _):
        await client.sync_maindata()
        result = await client.sync_maindata()
    assert result.full_update
    assert result.changed == {VIOLET, HORIMIYA}
    assert result.removed == {REZE, LINK_CLICK}
    assert result.torrents.keys() == {VIOLET, HORIMIYA}


async def test_sync_lower_cases_hashes() -> None:
    upper = HORIMIYA.upper()
    full = {"rid": 1, "full_update": True, "torrents": {upper: {"name": "x", "progress": 0.5}}}
    delta = {"rid": 2, "torrents_removed": [upper]}
    answers = {
        "/api/v2/sync/maindata": [httpx.Response(200, json=full), httpx.Response(200, json=delta)]
    }
    async with scripted_client(answers) as (client, _):
        first = await client.sync_maindata()
        second = await client.sync_maindata()
    assert first.torrents[HORIMIYA].hash == HORIMIYA
    assert second.removed == {HORIMIYA}
    assert second.torrents == {}


async def test_torrents_info_parses_qbittorrent_5_objects() -> None:
    answers = {
        "/api/v2/torrents/info": [
            httpx.Response(200, json=load_fixture("qbittorrent/torrents_info.json"))
        ]
    }
    async with scripted_client(answers) as (client, _):
        views = {view.hash: view for view in await client.torrents_info()}

    assert views[HORIMIYA] == TorrentView(
        hash=HORIMIYA,
        name=HORIMIYA_NAME,
        progress=0.462713,
        state="downloading",
        size=9412845312,
        total_size=9412845312,
        amount_left=5057399420,
        dlspeed=18874368,
        eta=268,
        num_seeds=38,
        num_leechs=12,
        content_path=f"/data/downloads/complete/sonarr-anime/{HORIMIYA_NAME}",
        save_path="/data/downloads/complete/sonarr-anime",
        completion_on=None,
    )
    link_click = views[LINK_CLICK]
    assert (link_click.progress, link_click.eta, link_click.completion_on) == (
        1.0,
        None,
        1768936800,
    )
    assert download_state(link_click.state, link_click.progress) == "seeding"
    reze = views[REZE]
    # Without metadata qBittorrent sends total_size -1: the size is unknown, not negative.
    assert (reze.state, reze.size, reze.total_size, reze.eta) == ("metaDL", 0, 0, None)
    assert reze.as_download().size is None
    assert download_state(views[VIOLET].state, views[VIOLET].progress) == "stalled"


async def test_torrents_info_parses_qbittorrent_4_objects() -> None:
    answers = {
        "/api/v2/torrents/info": [
            httpx.Response(200, json=load_fixture("qbittorrent/torrents_info_v4.json"))
        ]
    }
    async with scripted_client(answers) as (client, _):
        views = {view.hash: view for view in await client.torrents_info()}
    assert {h: download_state(v.state, v.progress) for h, v in views.items()} == {
        HORIMIYA: "downloading",
        LINK_CLICK: "completed",
        VIOLET: "paused",
    }
    assert views[LINK_CLICK].state == "pausedUP"
    assert views[VIOLET].state == "pausedDL"


def test_torrent_view_defaults_when_fields_are_missing() -> None:
    assert TorrentView.from_wire("ABC", {}) == TorrentView(hash="abc")
    assert TorrentView.from_wire("abc", {"completion_on": 0, "eta": 0}).completion_on is None


async def test_torrents_info_sends_lower_case_pipe_joined_hashes() -> None:
    answers = {"/api/v2/torrents/info": [httpx.Response(200, json=[])]}
    async with scripted_client(answers) as (client, web_api):
        assert await client.torrents_info([HORIMIYA.upper(), VIOLET, HORIMIYA]) == []
        assert await client.torrents_info([]) == []
    info_requests = [r for r in web_api.requests if r.url.path == "/api/v2/torrents/info"]
    assert [r.url.params["hashes"] for r in info_requests] == [f"{HORIMIYA}|{VIOLET}"]


async def test_torrent_files_parses_a_season_pack() -> None:
    answers = {
        "/api/v2/torrents/files": [
            httpx.Response(200, json=load_fixture("qbittorrent/torrents_files_season_pack.json"))
        ]
    }
    async with scripted_client(answers) as (client, web_api):
        files = await client.torrent_files(HORIMIYA.upper())
    assert web_api.requests[-1].url.params["hash"] == HORIMIYA
    assert [f.index for f in files] == list(range(15))
    first = files[0]
    assert first.name.endswith("/[Judas] Horimiya - S01E01.mkv")
    assert (first.size, first.progress, first.priority) == (721234567, 1.0, 1)
    assert (files[6].progress, files[12].progress) == (0.912345, 0.0)
    assert [f.priority for f in files[13:]] == [0, 0]


async def test_torrent_files_of_an_unknown_hash_raises_torrent_not_found() -> None:
    answers = {"/api/v2/torrents/files": [httpx.Response(404, text="Not Found")]}
    async with scripted_client(answers) as (client, _):
        with pytest.raises(TorrentNotFound) as caught:
            await client.torrent_files("AB" * 20)
    assert caught.value.torrent_hash == "ab" * 20


async def test_app_version_returns_the_text() -> None:
    answers = {"/api/v2/app/version": [httpx.Response(200, text="v5.1.4")]}
    async with scripted_client(answers) as (client, _):
        assert await client.app_version() == "v5.1.4"


@pytest.mark.parametrize("accepted", [logged_in(), httpx.Response(204)], ids=["4.x-Ok", "5.2-204"])
async def test_login_accepts_both_success_answers(accepted: httpx.Response) -> None:
    async with scripted_client({"/api/v2/auth/login": [accepted]}) as (client, web_api):
        await client.login()
    request = web_api.requests[0]
    assert request.method == "POST"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    "refusal",
    [httpx.Response(200, text="Fails."), httpx.Response(401, text="Unauthorized")],
    ids=["4.x-Fails", "5.2-401"],
)
async def test_bad_credentials_raise_once_without_retrying(refusal: httpx.Response) -> None:
    answers = {
        "/api/v2/auth/login": [refusal],
        "/api/v2/torrents/info": [httpx.Response(200, json=[])],
    }
    async with scripted_client(answers) as (client, web_api):
        with pytest.raises(QBittorrentAuthError):
            await client.torrents_info()
    assert web_api.paths() == ["/api/v2/auth/login"]


async def test_ip_ban_raises_with_the_server_text() -> None:
    ban = "Your IP address has been banned after too many failed authentication attempts."
    async with scripted_client({"/api/v2/auth/login": [httpx.Response(403, text=ban)]}) as (
        client,
        web_api,
    ):
        with pytest.raises(QBittorrentAuthError, match="banned after too many"):
            await client.login()
    assert web_api.paths() == ["/api/v2/auth/login"]


async def test_first_call_logs_in_and_a_403_logs_in_again_once() -> None:
    answers = {
        "/api/v2/torrents/info": [
            httpx.Response(200, json=[]),
            httpx.Response(403, text="Forbidden"),
            httpx.Response(200, json=[]),
        ]
    }
    async with scripted_client(answers) as (client, web_api):
        await client.torrents_info()
        await client.torrents_info()
    assert web_api.paths() == [
        "/api/v2/auth/login",
        "/api/v2/torrents/info",
        "/api/v2/torrents/info",
        "/api/v2/auth/login",
        "/api/v2/torrents/info",
    ]
    assert web_api.requests[-1].headers["cookie"] == "SID=s3ss10n"


async def test_still_forbidden_after_a_fresh_login_raises_instead_of_looping() -> None:
    answers = {"/api/v2/torrents/info": [httpx.Response(403, text="Forbidden")]}
    async with scripted_client(answers) as (client, web_api):
        with pytest.raises(QBittorrentAuthError, match="still answers 403"):
            await client.torrents_info()
    assert web_api.paths().count("/api/v2/auth/login") == 2
    assert web_api.paths().count("/api/v2/torrents/info") == 2


WRONG_PASSWORD_ANSWERS = pytest.mark.parametrize(
    "refusal",
    [httpx.Response(200, text="Fails."), httpx.Response(401, text="Unauthorized")],
    ids=["4.x-Fails", "5.2-401"],
)


@WRONG_PASSWORD_ANSWERS
async def test_a_refused_password_is_sent_once_per_backoff_however_often_it_is_called(
    refusal: httpx.Response, autojump_clock: trio.testing.MockClock
) -> None:
    answers = {LOGIN: [refusal], "/api/v2/sync/maindata": [httpx.Response(200, json={})]}
    errors: list[QBittorrentAuthError] = []
    async with scripted_client(answers) as (client, web_api):
        for _ in range(7):
            with pytest.raises(QBittorrentAuthError) as caught:
                await client.look()
            errors.append(caught.value)
        autojump_clock.jump(FIRST_BACKOFF_S - 1)
        with pytest.raises(QBittorrentAuthError):
            await client.login()
        logins_within_backoff = web_api.paths().count(LOGIN)
        autojump_clock.jump(1)
        with pytest.raises(QBittorrentAuthError):
            await client.look()

    assert logins_within_backoff == 1
    assert web_api.paths() == [LOGIN, LOGIN], "nothing else is asked without a session"
    assert web_api.login_times == [0, FIRST_BACKOFF_S]
    assert {error.reason for error in errors} == {
        "qBittorrent rejected the username or password; no login is tried for 15 min"
    }
    assert len({str(error) for error in errors}) == 1
    for error in errors:
        assert PASSWORD not in f"{error} {error.reason}"


async def test_a_tracker_polling_every_minute_backs_off_15_then_30_then_60_minutes(
    autojump_clock: trio.testing.MockClock,
) -> None:
    reasons: list[str] = []
    async with scripted_client({LOGIN: [httpx.Response(200, text="Fails.")]}) as (client, web_api):
        for _minute in range(4 * 60):
            with pytest.raises(QBittorrentAuthError) as caught:
                await client.look()
            reasons.append(caught.value.reason)
            autojump_clock.jump(60)

    assert [t / 60 for t in web_api.login_times] == [0, 15, 45, 105, 165, 225]
    assert list(dict.fromkeys(reasons)) == [
        f"qBittorrent rejected the username or password; no login is tried for {wait}"
        for wait in ("15 min", "30 min", "60 min")
    ]


async def test_concurrent_calls_with_a_wrong_password_send_it_once(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async def call(client: QBittorrentClient) -> None:
        with pytest.raises(QBittorrentAuthError, match="rejected the username or password"):
            await client.torrents_info()

    fails = {LOGIN: [httpx.Response(200, text="Fails.")]}
    async with scripted_client(fails) as (client, web_api), trio.open_nursery() as nursery:
        for _ in range(5):
            nursery.start_soon(call, client)
    assert web_api.paths() == [LOGIN]


async def test_a_ban_is_reported_as_such_and_waits_an_hour_before_the_next_login(
    autojump_clock: trio.testing.MockClock,
) -> None:
    answers = {
        LOGIN: [httpx.Response(403, text=BAN_TEXT), logged_in()],
        "/api/v2/torrents/info": [httpx.Response(200, json=[])],
    }
    reasons: set[str] = set()
    async with scripted_client(answers) as (client, web_api):
        for _ in range(3):
            with pytest.raises(QBittorrentAuthError, match="banned after too many") as caught:
                await client.torrents_info()
            reasons.add(caught.value.reason)
        autojump_clock.jump(MAX_BACKOFF_S - 1)
        with pytest.raises(QBittorrentAuthError):
            await client.torrents_info()
        autojump_clock.jump(1)
        after_the_ban = await client.torrents_info()

    assert reasons == {
        "qBittorrent has banned this address after failed logins; no login is tried for 60 min"
    }
    assert web_api.login_times == [0, MAX_BACKOFF_S]
    assert web_api.paths() == [LOGIN, LOGIN, "/api/v2/torrents/info"]
    assert after_the_ban == []


async def test_a_successful_login_forgets_earlier_refusals(
    autojump_clock: trio.testing.MockClock,
) -> None:
    fails = httpx.Response(200, text="Fails.")
    answers = {
        LOGIN: [fails, logged_in(), fails],
        "/api/v2/torrents/info": [httpx.Response(200, json=[]), httpx.Response(403)],
    }
    async with scripted_client(answers) as (client, web_api):
        with pytest.raises(QBittorrentAuthError, match="15 min"):
            await client.torrents_info()
        autojump_clock.jump(FIRST_BACKOFF_S)
        assert await client.torrents_info() == []
        # The session expires and the password was changed in qBittorrent meanwhile.
        with pytest.raises(QBittorrentAuthError, match="15 min"):
            await client.torrents_info()
        asked_before = len(web_api.requests)
        with pytest.raises(QBittorrentAuthError, match="15 min"):
            await client.torrents_info()
        asked_during_backoff = len(web_api.requests) - asked_before
        autojump_clock.jump(FIRST_BACKOFF_S)
        with pytest.raises(QBittorrentAuthError, match="30 min"):
            await client.torrents_info()

    assert asked_during_backoff == 0
    assert web_api.paths() == [
        LOGIN,
        LOGIN,
        "/api/v2/torrents/info",
        "/api/v2/torrents/info",
        LOGIN,
        LOGIN,
    ]


async def test_password_is_never_logged_or_shown(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    answers = {
        "/api/v2/auth/login": [logged_in(), httpx.Response(200, text="Fails.")],
        "/api/v2/torrents/info": [httpx.Response(403, text="Forbidden")],
    }
    async with scripted_client(answers) as (client, _):
        with pytest.raises(QBittorrentAuthError) as caught:
            await client.torrents_info()
    assert caplog.records, "expected the client (and httpx) to log something"
    for shown in (caplog.text, repr(client), str(caught.value)):
        assert PASSWORD not in shown
        assert "p%C3%A4ssword" not in shown


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ReadTimeout, httpx.Response(502)])
async def test_unreachable_or_5xx_raises_service_unavailable(failure: Answer) -> None:
    answers = {"/api/v2/app/version": [failure]}
    async with scripted_client(answers) as (client, _):
        with pytest.raises(ServiceUnavailable):
            await client.app_version()


async def test_owned_http_client_is_closed_by_the_context_manager() -> None:
    async with QBittorrentClient("http://qbt.test", "admin", PASSWORD) as client:
        assert "qbt.test" in repr(client)
    assert client._http.is_closed


HASHES = ["aa" * 20, "bb" * 20, "cc" * 20]
torrent_fields = st.fixed_dictionaries(
    {},
    optional={
        "progress": st.floats(0, 1),
        "state": st.sampled_from(["downloading", "stalledDL", "stalledUP"]),
        "amount_left": st.integers(0, 10**9),
        "num_seeds": st.integers(0, 50),
    },
)
maindata_bodies = st.one_of(
    st.builds(
        lambda torrents: {"full_update": True, "torrents": torrents},
        st.dictionaries(st.sampled_from(HASHES), torrent_fields),
    ),
    st.builds(
        lambda torrents, removed: {"torrents": torrents, "torrents_removed": removed},
        st.dictionaries(st.sampled_from(HASHES), torrent_fields),
        st.lists(st.sampled_from(HASHES), unique=True),
    ),
)


@given(st.lists(maindata_bodies, min_size=1, max_size=8))
def test_sync_merge_matches_a_plain_dict_model(bodies: list[dict[str, typing.Any]]) -> None:
    cache = _MaindataCache()
    model: dict[str, dict[str, typing.Any]] = {}
    for rid, body in enumerate(bodies, start=1):
        before = {h: TorrentView.from_wire(h, fields) for h, fields in model.items()}
        if body.get("full_update"):
            model = {h: dict(fields) for h, fields in body["torrents"].items()}
        else:
            for torrent_hash, fields in body["torrents"].items():
                model.setdefault(torrent_hash, {}).update(fields)
            for torrent_hash in body["torrents_removed"]:
                model.pop(torrent_hash, None)
        result = cache.apply({"rid": rid, **body})
        after = {h: TorrentView.from_wire(h, fields) for h, fields in model.items()}
        assert result.torrents == after
        assert cache.rid == rid
        if body.get("full_update"):
            assert result.changed == after.keys()
            assert result.removed == before.keys() - after.keys()
        else:
            reported = body["torrents"].keys() & after.keys()
            assert result.changed == {h for h in reported if before.get(h) != after[h]}
            assert result.removed == set(body["torrents_removed"])


async def test_look_reports_downloads_in_the_trackers_words_and_what_vanished() -> None:
    full = load_fixture("qbittorrent/sync_maindata_full.json")
    delta = load_fixture("qbittorrent/sync_maindata_delta.json")
    answers = {
        "/api/v2/sync/maindata": [httpx.Response(200, json=full), httpx.Response(200, json=delta)]
    }
    async with scripted_client(answers) as (client, _):
        first = await client.look()
        second = await client.look()
    assert first.downloads.keys() == {VIOLET, REZE, LINK_CLICK, HORIMIYA}
    assert first.removed == frozenset()
    assert second.removed == {LINK_CLICK}
    assert second.downloads[HORIMIYA] == Download(
        hash=HORIMIYA,
        name=HORIMIYA_NAME,
        state="downloading",
        client_state="downloading",
        progress=0.464443,
        size=second.downloads[HORIMIYA].size,
        speed=19136512,
        eta_s=263,
        size_left=5041107968,
        seeds=38,
        peers=12,
    )
    reze = second.downloads[REZE]
    assert (reze.state, reze.client_state, reze.size) == ("stalled", "stalledDL", 7516192768)
    assert (reze.seeds, reze.speed, reze.eta_s) == (0, 0, None), "stalled: no seed, no ETA"


async def test_downloads_reads_every_asked_torrent_in_one_call_and_refuses_others() -> None:
    info = load_fixture("qbittorrent/torrents_info.json")
    violet = next(t for t in info if t["hash"] == VIOLET)
    answers = {
        "/api/v2/torrents/info": [
            httpx.Response(200, json=[violet]),
            httpx.Response(200, json=[violet]),
        ]
    }
    async with scripted_client(answers) as (client, web_api):
        found = await client.downloads([VIOLET.upper(), REZE])
        with pytest.raises(UnexpectedResponse):
            await client.downloads([REZE])
        assert await client.downloads([]) == {}
    asked = [r.url.params["hashes"] for r in web_api.requests if r.url.path.endswith("/info")]
    assert asked == [f"{VIOLET}|{REZE}", REZE]
    assert found.keys() == {VIOLET}, "a torrent qBittorrent no longer has is left out"
    assert (found[VIOLET].state, found[VIOLET].client_state) == ("stalled", "stalledDL")


async def test_files_give_each_files_progress_and_priority_in_the_trackers_words() -> None:
    answers = {
        "/api/v2/torrents/files": [
            httpx.Response(200, json=load_fixture("qbittorrent/torrents_files_season_pack.json"))
        ]
    }
    async with scripted_client(answers) as (client, _):
        files = await client.files(HORIMIYA)
    assert [f.index for f in files] == list(range(15))
    assert (files[6].progress, files[6].priority) == (0.912345, "normal")
    assert [f.priority for f in files[13:]] == ["skip", "skip"]


async def test_delete_and_file_priorities_send_what_qbittorrent_expects() -> None:
    answers = {
        "/api/v2/torrents/delete": [httpx.Response(200)],
        "/api/v2/torrents/filePrio": [httpx.Response(200), httpx.Response(404)],
    }
    async with scripted_client(answers) as (client, web_api):
        await client.set_file_priority(HORIMIYA.upper(), [13, 3, 13], "skip")
        await client.delete([HORIMIYA.upper(), REZE], with_files=True)
        with pytest.raises(TorrentNotFound):
            await client.set_file_priority(VIOLET, [0], "high")
        await client.delete([], with_files=False)
        await client.set_file_priority(VIOLET, [], "normal")
    sent = [
        (r.url.path, dict(httpx.QueryParams(r.content.decode())))
        for r in web_api.requests
        if r.url.path != "/api/v2/auth/login"
    ]
    assert sent == [
        ("/api/v2/torrents/filePrio", {"hash": HORIMIYA, "id": "3|13", "priority": "0"}),
        ("/api/v2/torrents/delete", {"hashes": f"{HORIMIYA}|{REZE}", "deleteFiles": "true"}),
        ("/api/v2/torrents/filePrio", {"hash": VIOLET, "id": "0", "priority": "6"}),
    ]
