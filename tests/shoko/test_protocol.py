"""The Shoko SignalR wire format: records split and parsed, invocations translated to facts."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from status_tracker.actors.shoko_matcher.messages import (
    CrossReference,
    EpisodeUpdate,
    ShokoEpisodeUpdated,
    ShokoFileEvent,
    ShokoMovieUpdated,
    ShokoSeriesUpdated,
)
from status_tracker.ingress.shoko import (
    HANDSHAKE,
    PING,
    RECORD_SEPARATOR,
    Close,
    HandshakeResponse,
    Invocation,
    MalformedFrame,
    NegotiationFailed,
    OtherMessage,
    Ping,
    encode,
    negotiated_connection_token,
    parse_record,
    split_records,
    translate_invocation,
)

from tests.support.fixtures import FIXTURES, load_fixture

HORIMIYA_PATH = (
    "/Horimiya (2021) {tvdb-384435}/Season 01/Horimiya (2021) - S01E01 - 001 - A Tiny "
    "Happenstance [Bluray-1080p][10bit][x265][Dual Audio]-Judas.mkv"
)
HORIMIYA_EPISODE_1 = CrossReference(
    episode_id=28731, anidb_episode_id=233871, series_id=1874, anidb_anime_id=15547
)

# Every record fixture and what parse_record makes of it; the test fails on a new fixture file.
PARSED_FIXTURES: dict[str, type] = {
    "close.json": Close,
    "episode_updated.json": Invocation,
    "file_deleted.json": Invocation,
    "file_detected.json": Invocation,
    "file_hashed.json": Invocation,
    "file_matched.json": Invocation,
    "file_matched_movie.json": Invocation,
    "file_not_matched.json": Invocation,
    "handshake_response.json": HandshakeResponse,
    "on_connected.json": Invocation,
    "ping.json": Ping,
    "series_updated.json": Invocation,
}
NOT_RECORDS_FROM_THE_SERVER = {
    "handshake_request.json",
    "negotiate_response.json",
    "ws_text_message_multi_frame.json",
}


def fixture(name: str) -> Any:
    return load_fixture(f"shoko/{name}")


def invocation_of(name: str) -> Invocation:
    message = parse_record(json.dumps(fixture(name)))
    assert isinstance(message, Invocation)
    return message


def invocation(target: str, argument: object) -> Invocation:
    return Invocation(target=target, arguments=(argument,))


def test_every_fixture_file_is_covered() -> None:
    names = {path.name for path in (FIXTURES / "shoko").glob("*.json")}
    assert names == PARSED_FIXTURES.keys() | NOT_RECORDS_FROM_THE_SERVER


@pytest.mark.parametrize(("name", "expected_type"), sorted(PARSED_FIXTURES.items()))
def test_each_fixture_as_sent_on_the_wire_splits_into_one_record_and_parses(
    name: str, expected_type: type
) -> None:
    text = (FIXTURES / "shoko" / name).read_text()
    records = split_records(text + RECORD_SEPARATOR)
    assert records == [text]
    assert isinstance(parse_record(records[0]), expected_type)


def test_the_handshake_request_is_what_the_client_sends_and_not_a_server_message() -> None:
    assert fixture("handshake_request.json") == HANDSHAKE
    assert fixture("ping.json") == PING
    with pytest.raises(MalformedFrame, match="no message type"):
        parse_record(json.dumps(HANDSHAKE))


def test_the_multi_record_message_holds_a_ping_and_two_file_events() -> None:
    raw = fixture("ws_text_message_multi_frame.json")["raw"]
    ping, hashed, matched = (parse_record(record) for record in split_records(raw))
    assert ping == Ping()
    assert isinstance(hashed, Invocation)
    assert isinstance(matched, Invocation)
    assert translate_invocation(hashed) == translate_invocation(invocation_of("file_hashed.json"))
    assert translate_invocation(matched) == translate_invocation(invocation_of("file_matched.json"))


def test_close_and_handshake_answers_keep_their_error() -> None:
    assert parse_record(json.dumps(fixture("close.json"))) == Close(
        error="Connection closed with an error.", allow_reconnect=True
    )
    assert parse_record('{"type":7}') == Close(error=None, allow_reconnect=False)
    assert parse_record("{}") == HandshakeResponse(error=None)
    assert parse_record('{"error":"Requested protocol is not available."}') == (
        HandshakeResponse(error="Requested protocol is not available.")
    )


@pytest.mark.parametrize("message_type", [2, 3, 4, 5, 8, 9, 42])
def test_other_message_types_are_recognised_but_not_interpreted(message_type: int) -> None:
    assert parse_record(json.dumps({"type": message_type, "invocationId": "1"})) == (
        OtherMessage(type=message_type)
    )


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ("not json", "not JSON"),
        ("", "not JSON"),
        ('{"type": 6', "not JSON"),
        ("[" * 100_000, "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('"text"', "not a JSON object"),
        ('{"target": "ShokoEvent:FileMatched"}', "no message type"),
        ('{"type": "1"}', "not an integer"),
        ('{"type": true}', "not an integer"),
        ('{"type": 1, "arguments": []}', "without a target"),
        ('{"type": 1, "target": "ShokoEvent:FileMatched"}', "without an arguments list"),
        ('{"type": 1, "target": "x", "arguments": {}}', "without an arguments list"),
        ('{"type": 7, "error": 3}', "close.error is not a string"),
    ],
)
def test_malformed_records_raise_malformed_frame(record: str, reason: str) -> None:
    with pytest.raises(MalformedFrame, match=reason):
        parse_record(record)


def test_split_records_drops_only_the_empty_tail() -> None:
    assert split_records("") == []
    assert split_records("a\x1eb\x1e") == ["a", "b"]
    assert split_records("a\x1eb") == ["a", "b"]
    assert split_records("a\x1e\x1e") == ["a", ""]


def test_file_detected_has_a_path_but_no_file_id_yet() -> None:
    assert translate_invocation(invocation_of("file_detected.json")) == ShokoFileEvent(
        kind="detected",
        file_id=None,
        relative_path=HORIMIYA_PATH,
        import_folder_id=2,
        cross_references=(),
        previous_relative_path=None,
    )


def test_file_hashed_has_its_file_id_and_no_cross_references() -> None:
    fact = translate_invocation(invocation_of("file_hashed.json"))
    assert fact == ShokoFileEvent(
        kind="hashed", file_id=51208, relative_path=HORIMIYA_PATH, import_folder_id=2
    )
    assert not fact.has_cross_references


def test_file_matched_carries_the_episode_cross_references() -> None:
    fact = translate_invocation(invocation_of("file_matched.json"))
    assert fact == ShokoFileEvent(
        kind="matched",
        file_id=51208,
        relative_path=HORIMIYA_PATH,
        import_folder_id=2,
        cross_references=(HORIMIYA_EPISODE_1,),
    )
    assert fact.has_cross_references


def test_a_matched_movie_file_links_to_its_single_episode() -> None:
    fact = translate_invocation(invocation_of("file_matched_movie.json"))
    assert isinstance(fact, ShokoFileEvent)
    assert (fact.kind, fact.file_id, fact.import_folder_id) == ("matched", 51377, 3)
    assert fact.relative_path.startswith("/Violet Evergarden - Recollections (2021)/")
    assert fact.cross_references == (
        CrossReference(
            episode_id=30112, anidb_episode_id=271904, series_id=1990, anidb_anime_id=17219
        ),
    )


def test_file_not_matched_and_file_deleted() -> None:
    not_matched = translate_invocation(invocation_of("file_not_matched.json"))
    assert isinstance(not_matched, ShokoFileEvent)
    assert (not_matched.kind, not_matched.file_id, not_matched.has_cross_references) == (
        "not_matched",
        51378,
        False,
    )
    deleted = translate_invocation(invocation_of("file_deleted.json"))
    assert deleted == ShokoFileEvent(
        kind="deleted",
        file_id=51208,
        relative_path=HORIMIYA_PATH,
        import_folder_id=2,
        cross_references=(HORIMIYA_EPISODE_1,),
    )


def test_legacy_cross_refs_key_is_read_like_cross_references() -> None:
    argument = copy.deepcopy(fixture("file_matched.json")["arguments"][0])
    argument["CrossRefs"] = argument.pop("CrossReferences")
    fact = translate_invocation(invocation("ShokoEvent:FileMatched", argument))
    assert isinstance(fact, ShokoFileEvent)
    assert fact.cross_references == (HORIMIYA_EPISODE_1,)


def test_cross_references_with_null_shoko_ids_keep_the_anidb_ids() -> None:
    argument = copy.deepcopy(fixture("file_matched.json")["arguments"][0])
    argument["CrossReferences"][0].update(EpisodeID=None, SeriesID=None)
    fact = translate_invocation(invocation("ShokoEvent:FileMatched", argument))
    assert isinstance(fact, ShokoFileEvent)
    assert fact.cross_references == (
        CrossReference(
            episode_id=None, anidb_episode_id=233871, series_id=None, anidb_anime_id=15547
        ),
    )


def test_file_moved_keeps_the_previous_relative_path() -> None:
    argument = fixture("file_matched.json")["arguments"][0] | {
        "PreviousRelativePath": "/incoming/Horimiya - 01.mkv",
        "PreviousImportFolderID": 1,
    }
    fact = translate_invocation(invocation("ShokoEvent:FileMoved", argument))
    assert isinstance(fact, ShokoFileEvent)
    assert (fact.kind, fact.relative_path, fact.previous_relative_path) == (
        "moved",
        HORIMIYA_PATH,
        "/incoming/Horimiya - 01.mkv",
    )


@pytest.mark.parametrize(
    "previous_file_name",
    ["Horimiya - 01.mkv", "/Horimiya (2021) {tvdb-384435}/Season 01/Horimiya - 01.mkv"],
    ids=["file name", "whole relative path"],
)
def test_file_renamed_gives_the_previous_relative_path(previous_file_name: str) -> None:
    new_name = HORIMIYA_PATH.rsplit("/", 1)[1]
    argument = fixture("file_matched.json")["arguments"][0] | {
        "FileName": new_name,
        "PreviousFileName": previous_file_name,
    }
    fact = translate_invocation(invocation("ShokoEvent:FileRenamed", argument))
    assert isinstance(fact, ShokoFileEvent)
    assert fact.kind == "renamed"
    assert fact.previous_relative_path == (
        "/Horimiya (2021) {tvdb-384435}/Season 01/Horimiya - 01.mkv"
    )


def test_series_updated_lists_its_episodes() -> None:
    assert translate_invocation(invocation_of("series_updated.json")) == ShokoSeriesUpdated(
        source="AniDB",
        reason=frozenset({"Updated"}),
        series_id=15547,
        shoko_series_ids=(1874,),
        episodes=(
            EpisodeUpdate(
                reason=frozenset({"Updated"}), episode_id=233871, shoko_episode_ids=(28731,)
            ),
        ),
    )


def test_episode_updated() -> None:
    assert translate_invocation(invocation_of("episode_updated.json")) == ShokoEpisodeUpdated(
        source="AniDB",
        reason=frozenset({"Updated"}),
        episode_id=233871,
        series_id=15547,
        shoko_episode_ids=(28731,),
        shoko_series_ids=(1874,),
    )


def test_movie_updated() -> None:
    argument = {
        "Source": "TMDB",
        "Reason": "Added, ImageAdded",
        "MovieID": 1052946,
        "ShokoEpisodeIDs": [30112],
        "ShokoSeriesIDs": [1990],
    }
    assert translate_invocation(invocation("ShokoEvent:MovieUpdated", argument)) == (
        ShokoMovieUpdated(
            source="TMDB",
            reason=frozenset({"Added", "ImageAdded"}),
            movie_id=1052946,
            shoko_episode_ids=(30112,),
            shoko_series_ids=(1990,),
        )
    )


def test_an_update_reason_of_none_is_the_empty_set() -> None:
    argument = fixture("episode_updated.json")["arguments"][0] | {"Reason": "None"}
    fact = translate_invocation(invocation("ShokoEvent:EpisodeUpdated", argument))
    assert isinstance(fact, ShokoEpisodeUpdated)
    assert fact.reason == frozenset()


@pytest.mark.parametrize(
    "target", ["shokoevent:filematched", "SHOKOEVENT:FILEMATCHED", "ShokoEvent:fileMatched"]
)
def test_targets_match_case_insensitively(target: str) -> None:
    argument = fixture("file_matched.json")["arguments"][0]
    expected = translate_invocation(invocation_of("file_matched.json"))
    assert translate_invocation(invocation(target, argument)) == expected


@pytest.mark.parametrize(
    "target",
    [
        "ShokoEvent:OnConnected",
        "ShokoEvent:FileMatchedAgain",
        "ShokoEvent:File",
        "FileMatched",
        "AniDB:OnConnected",
        "file:hashed",
    ],
)
def test_other_targets_and_prefixes_translate_to_nothing(target: str) -> None:
    argument = fixture("file_matched.json")["arguments"][0]
    assert translate_invocation(invocation(target, argument)) is None


def test_on_connected_fixture_translates_to_nothing() -> None:
    assert translate_invocation(invocation_of("on_connected.json")) is None


@pytest.mark.parametrize(
    ("target", "arguments", "reason"),
    [
        ("ShokoEvent:FileMatched", (), "0 arguments instead of one"),
        ("ShokoEvent:FileMatched", (None,), "not a JSON object"),
        ("ShokoEvent:FileMatched", ({"FileID": 1},), "RelativePath is missing"),
        ("ShokoEvent:FileMatched", ({"RelativePath": "/a.mkv", "FileID": "1"},), "FileID"),
        ("ShokoEvent:FileMatched", ({"RelativePath": "/a.mkv", "FileID": 2**64},), "FileID"),
        ("ShokoEvent:FileMatched", ({"RelativePath": "/a.mkv", "FileID": -1},), "FileID"),
        ("ShokoEvent:FileMatched", ({"RelativePath": "/a\x00.mkv"},), "NUL"),
        ("ShokoEvent:FileMatched", ({"RelativePath": ["/a.mkv"]},), "RelativePath"),
        (
            "ShokoEvent:FileMatched",
            ({"RelativePath": "/a.mkv", "CrossReferences": [{"EpisodeID": 1}]},),
            r"CrossReferences\[0\].AnidbEpisodeID is missing",
        ),
        ("ShokoEvent:FileMatched", ({"RelativePath": "/a.mkv", "CrossReferences": 3},), "list"),
        ("ShokoEvent:SeriesUpdated", ({"Source": "AniDB", "Reason": "Updated"},), "SeriesID"),
        (
            "ShokoEvent:EpisodeUpdated",
            (
                {
                    "Source": "AniDB",
                    "Reason": "Updated",
                    "EpisodeID": 1,
                    "SeriesID": 2,
                    "ShokoEpisodeIDs": ["3"],
                },
            ),
            "non-integer",
        ),
    ],
)
def test_known_targets_with_a_malformed_argument_raise_malformed_frame(
    target: str, arguments: tuple[object, ...], reason: str
) -> None:
    with pytest.raises(MalformedFrame, match=reason):
        translate_invocation(Invocation(target=target, arguments=arguments))


def test_the_negotiate_fixture_gives_its_connection_token() -> None:
    assert negotiated_connection_token(fixture("negotiate_response.json")) == (
        "Vb9K2mL4xQ7sD1fG6hJ3kZ"
    )
    assert negotiated_connection_token({"connectionId": "version-0-id"}) == "version-0-id"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ({"error": "Negotiate failed"}, "refused"),
        ({"url": "https://elsewhere", "accessToken": "t"}, "redirected"),
        ({"negotiateVersion": 1}, "without a connection token"),
        (
            {
                "connectionToken": "t",
                "availableTransports": [{"transport": "LongPolling", "transferFormats": ["Text"]}],
            },
            "WebSockets",
        ),
        ([], "non-object"),
    ],
)
def test_unusable_negotiate_answers_raise(answer: object, reason: str) -> None:
    with pytest.raises(NegotiationFailed, match=reason):
        negotiated_connection_token(answer)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=10,
)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)


@given(st.lists(json_objects, max_size=6))
def test_splitting_concatenated_records_returns_each_message(
    messages: list[dict[str, Any]],
) -> None:
    records = split_records("".join(encode(message) for message in messages))
    assert [json.loads(record) for record in records] == messages
