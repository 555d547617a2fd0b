"""Release titles and torrent file names: classification, file-to-episode map, episode progress."""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence

import pytest
from status_tracker.actors.torrent import release
from status_tracker.actors.torrent.release import (
    Episode,
    ReleaseType,
    classify_release,
    episode_progress,
    map_files_to_episodes,
    parse_episode_tokens,
)

from tests.support.fixtures import FIXTURES


def season(number: int, episodes: range) -> list[Episode]:
    return [(number, episode) for episode in episodes]


def episodes_of(name: str, grab: Sequence[Episode]) -> tuple[Episode, ...]:
    return map_files_to_episodes([name], grab).get(0, ())


def sonarr_grab(name: str) -> tuple[str, list[Episode]]:
    payload = json.loads((FIXTURES / "sonarr" / name).read_text())
    grabbed = [(item["seasonNumber"], item["episodeNumber"]) for item in payload["episodes"]]
    return payload["release"]["releaseTitle"], grabbed


def qbittorrent_files() -> list[dict[str, typing.Any]]:
    return json.loads((FIXTURES / "qbittorrent" / "torrents_files_season_pack.json").read_text())


CHERNOBYL = season(1, range(1, 6))
ONE_SEASON = season(1, range(1, 14))
SEASON_TWO = season(2, range(1, 13))
TWO_SEASONS = season(1, range(1, 4)) + season(2, range(1, 4))
WITH_SPECIALS = [(0, 1), (0, 3), *season(1, range(1, 13))]

FILE_CASES: list[tuple[str, list[Episode], tuple[Episode, ...]]] = [
    # Scene TV.
    ("Chernobyl.S01E03.1080p.BluRay.x264-ROVERS.mkv", CHERNOBYL, ((1, 3),)),
    (
        "Chernobyl.S01.1080p.BluRay.x264-ROVERS/Chernobyl.S01E05.1080p.BluRay.x264-ROVERS.mkv",
        CHERNOBYL,
        ((1, 5),),
    ),
    (
        "The.Abandons.S01E07.2160p.NF.WEB-DL.DDP5.1.Atmos.H.265-FLUX.mkv",
        season(1, range(1, 8)),
        ((1, 7),),
    ),
    ("Link.Click.S03E01.1080p.BILI.WEB-DL.AAC2.0.H.264-VARYG.mkv", [(3, 1)], ((3, 1),)),
    ("Show.S01E01.REPACK.1080p.WEB.H264-GROUP.mp4", ONE_SEASON, ((1, 1),)),
    ("Show.S01E04.720p.HDTV.XviD-LOL.avi", ONE_SEASON, ((1, 4),)),
    ("Show.S01E06.1080p.BluRay.DTS-HD.MA.5.1.x264-GRP.m4v", ONE_SEASON, ((1, 6),)),
    ("show.s1e1.mkv", ONE_SEASON, ((1, 1),)),
    ("Show.1x01.HDTV.mkv", ONE_SEASON, ((1, 1),)),
    ("Show - 1x10 - Title.ts", ONE_SEASON, ((1, 10),)),
    ("Show.S01E02.WEBRip.webm", ONE_SEASON, ((1, 2),)),
    ("Show.S01E02.wmv", ONE_SEASON, ((1, 2),)),
    ("Show.S01E02.mov", ONE_SEASON, ((1, 2),)),
    # Multi-episode files.
    ("Show.S02E05E06.720p.mkv", SEASON_TWO, ((2, 5), (2, 6))),
    ("Show.S02E05-E06.720p.HDTV.x264.mkv", SEASON_TWO, ((2, 5), (2, 6))),
    ("Show.S02E05-06.mkv", SEASON_TWO, ((2, 5), (2, 6))),
    ("Show.S02E05.E06.mkv", SEASON_TWO, ((2, 5), (2, 6))),
    ("show.s02e01-e03.mkv", SEASON_TWO, ((2, 1), (2, 2), (2, 3))),
    ("Show.1x01-02.mkv", ONE_SEASON, ((1, 1), (1, 2))),
    ("Show.1x01-1x02.mkv", ONE_SEASON, ((1, 1), (1, 2))),
    ("Show.S02E12-E13.mkv", SEASON_TWO, ((2, 12),)),
    # Years and numbers in titles.
    ("Doctor.Who.2005.S01E01.1080p.BluRay.x264.mkv", [(1, 1)], ((1, 1),)),
    ("1923.S01E01.2160p.WEB.H265-NHTFS.mkv", [(1, 1), (1, 2)], ((1, 1),)),
    ("9-1-1.S05E03.720p.HDTV.x264-SYNCOPY.mkv", season(5, range(1, 19)), ((5, 3),)),
    ("Mob Psycho 100 - 05 [1080p].mkv", ONE_SEASON, ((1, 5),)),
    ("Show (2021) - 04 [1080p].mkv", ONE_SEASON, ((1, 4),)),
    # Anime.
    ("[Judas] Horimiya - 01.mkv", ONE_SEASON, ((1, 1),)),
    ("[SubsPlease] Horimiya - 13 (1080p) [8D1A2F4C].mkv", [(1, 13)], ((1, 13),)),
    (
        "[FLE] Lycoris Recoil - S01E05 (BD 1080p HEVC x265 Opus) [Dual Audio].mkv",
        ONE_SEASON,
        ((1, 5),),
    ),
    ("[Group] Show - 01v2 [1080p].mkv", ONE_SEASON, ((1, 1),)),
    ("[Erai-raws] Show - 02 [1080p][Multiple Subtitle][0A1B2C3D].mkv", ONE_SEASON, ((1, 2),)),
    ("[Group] Show_-_03_[720p].mkv", ONE_SEASON, ((1, 3),)),
    ("[Group] Show - 02 [BD 1920x1080 HEVC 10-bit FLAC 2.0].mkv", ONE_SEASON, ((1, 2),)),
    ("[Group] Show - 06 - The Title [1080p].mkv", ONE_SEASON, ((1, 6),)),
    ("[Group] Show - 07-08 [1080p].mkv", ONE_SEASON, ((1, 7), (1, 8))),
    ("[SubsPlease] Spy x Family S2 - 01 (1080p).mkv", SEASON_TWO, ((2, 1),)),
    ("[Group] Show - 12.5 [1080p].mkv", ONE_SEASON, ()),
    # Absolute numbers (S01 had 12 episodes).
    ("[SubsPlease] Show - 13 (1080p).mkv", [(2, 1)], ((2, 1),)),
    ("[SubsPlease] Spy x Family S2 - 13 (1080p).mkv", [(2, 1)], ((2, 1),)),
    ("[SubsPlease] One Piece - 1071 (1080p) [5E1F2A3B].mkv", [(21, 180)], ((21, 180),)),
    # Season from the grab or a folder.
    ("Show.E01.1080p.mkv", ONE_SEASON, ((1, 1),)),
    ("Show Ep05.mkv", SEASON_TWO, ((2, 5),)),
    ("Show - Episode 07.mkv", ONE_SEASON, ((1, 7),)),
    ("Show.S01.1080p/Season 1/01 - Pilot.mkv", ONE_SEASON, ((1, 1),)),
    ("Show.Complete/Season 2/Show - 03.mkv", TWO_SEASONS, ((2, 3),)),
    ("Show.S02.1080p/Show.E02.mkv", TWO_SEASONS, ((2, 2),)),
    ("Show.E01.1080p.mkv", TWO_SEASONS, ()),
    # Specials.
    ("Show.S00E01.Special.1080p.mkv", WITH_SPECIALS, ((0, 1),)),
    ("[Group] Show - SP03 [1080p].mkv", WITH_SPECIALS, ((0, 3),)),
    ("[Group] Show - SP03 [1080p].mkv", ONE_SEASON, ()),
    ("[Group] Show - OVA [1080p].mkv", [(0, 3), *ONE_SEASON], ((0, 3),)),
    ("[Group] Show - OVA [1080p].mkv", WITH_SPECIALS, ()),
    ("[Group] Show - OVA [1080p].mkv", ONE_SEASON, ()),
    ("Show/Specials/Show - 01.mkv", WITH_SPECIALS, ((0, 1),)),
    # Never an episode the grab did not name.
    ("Show.S01E09.1080p.mkv", CHERNOBYL, ()),
    ("Show.S02E01.1080p.mkv", CHERNOBYL, ()),
    # Samples, extras, non-video files.
    ("Sample/show.s01e01.sample.mkv", ONE_SEASON, ()),
    ("Show.S01E01.1080p/show.s01e01.sample.mkv", ONE_SEASON, ()),
    ("Show.S01E01.1080p/Sample/Show.S01E01.1080p.mkv", ONE_SEASON, ()),
    ("Show.S01E01-sample.mkv", ONE_SEASON, ()),
    ("Extras/NCOP1.mkv", ONE_SEASON, ()),
    ("[Group] Show (Season 1)/Extras/[Group] Show - 01.mkv", ONE_SEASON, ()),
    ("Show.S01/Featurettes/Show.S01E01.Making.Of.mkv", ONE_SEASON, ()),
    ("Show.S01/Bonus/Show.S01E02.mkv", ONE_SEASON, ()),
    ("Show.S01/Trailers/Show.S01E03.mkv", ONE_SEASON, ()),
    ("[Group] Show - NCED 02 [1080p].mkv", ONE_SEASON, ()),
    ("[Group] Show - Creditless Opening [1080p].mkv", ONE_SEASON, ()),
    ("[Group] Show - Menu 01 [1080p].mkv", ONE_SEASON, ()),
    ("Show.S01E01.Trailer.mkv", ONE_SEASON, ()),
    ("Show.S01E01.1080p.nfo", ONE_SEASON, ()),
    ("Show.S01E01.1080p.srt", ONE_SEASON, ()),
    ("Show.S01E01.1080p.mkv.!qB", ONE_SEASON, ()),
]


# Real names from the well-known parsers' published test vectors, with the episode each holds
# (as the parser's expected output says), inside a grab of the season around it. Left out: the
# few these rules read otherwise on purpose (``5x9`` without a two-digit episode, a name with
# no video extension).
PUBLISHED_NAMES: list[tuple[str, list[Episode], tuple[Episode, ...]]] = [
    # guessit (guessit-io/guessit, guessit/test/episodes.yml)
    (
        "Series/Californication/Season 2/Californication.2x05.Vaginatown.HDTV.XviD-0TV.avi",
        season(2, range(1, 13)),
        ((2, 5),),
    ),
    (
        "Series/dexter/Dexter.5x02.Hello,.Bandit.ENG.-.sub.FR.HDTV.XviD-AlFleNi-TeaM.[tvu.org.ru].avi",
        season(5, range(1, 13)),
        ((5, 2),),
    ),
    (
        "Series/Treme/Treme.1x03.Right.Place,.Wrong.Time.HDTV.XviD-NoTV.avi",
        season(1, range(1, 11)),
        ((1, 3),),
    ),
    (
        "Series/Duckman/Duckman - S1E13 Joking The Chicken (unedited).avi",
        season(1, range(1, 14)),
        ((1, 13),),
    ),
    (
        "Series/Simpsons/Saison 12 Français/Simpsons,.The.12x08.A.Bas.Le.Sergent.Skinner.FR.avi",
        season(12, range(1, 22)),
        ((12, 8),),
    ),
    (
        "Series/Futurama/Season 3 (mkv)/[™] Futurama - S03E22 - Le chef de fer à 30% ( 30 Percent Iron Chef ).mkv",  # noqa: E501
        season(3, range(1, 23)),
        ((3, 22),),
    ),
    ("Series/Mad Men Season 1 Complete/Mad.Men.S01E01.avi", season(1, range(1, 14)), ((1, 1),)),
    (
        "series/Psych/Psych S02 Season 2 Complete English DVD/Psych.S02E02.65.Million.Years.Off.avi",  # noqa: E501
        season(2, range(1, 17)),
        ((2, 2),),
    ),
    (
        "Series/Pure Laine/Pure.Laine.1x01.Toutes.Couleurs.Unies.FR.(Québec).DVB-Kceb.[tvu.org.ru].avi",  # noqa: E501
        season(1, range(1, 11)),
        ((1, 1),),
    ),
    (
        "Series/Pure Laine/2x05 - Pure Laine - Je Me Souviens.avi",
        season(2, range(1, 11)),
        ((2, 5),),
    ),
    (
        "The.Mentalist.2x21.18-5-4.ENG.-.sub.FR.HDTV.XviD-AlFleNi-TeaM.[tvu.org.ru].avi",
        season(2, range(1, 24)),
        ((2, 21),),
    ),
    (
        "Series/South Park/Season 4/South.Park.4x07.Cherokee.Hair.Tampons.DVDRip.[tvu.org.ru].avi",
        season(4, range(1, 18)),
        ((4, 7),),
    ),
    (
        "/mnt/series/The Big Bang Theory/S01/The.Big.Bang.Theory.S01E01.mkv",
        season(1, range(1, 18)),
        ((1, 1),),
    ),
    ("/media/Parks_and_Recreation-s03-e01.mkv", season(3, range(1, 17)), ((3, 1),)),
    ("Example S01E01-02.avi", season(1, range(1, 11)), ((1, 1), (1, 2))),
    ("Example S01E01E02.avi", season(1, range(1, 11)), ((1, 1), (1, 2))),
    (
        "Series/Doctor Who (2005)/Season 06/Doctor Who (2005) - S06E01 - The Impossible Astronaut (1).avi",  # noqa: E501
        season(6, range(1, 14)),
        ((6, 1),),
    ),
    ("The Sopranos - [05x07] - In Camelot.mp4", season(5, range(1, 13)), ((5, 7),)),
    ("The.Office.(US).1x03.Health.Care.HDTV.XviD-LOL.avi", season(1, range(1, 7)), ((1, 3),)),
    ("Ben.and.Kate.S01E02.720p.HDTV.X264-DIMENSION.mkv", season(1, range(1, 17)), ((1, 2),)),
    (
        "Sons.of.Anarchy.S05E06.720p.WEB.DL.DD5.1.H.264-CtrlHD.mkv",
        season(5, range(1, 14)),
        ((5, 6),),
    ),
    (
        "/mnt/videos/tvshows/Doctor Who/Season 06/E13 - The Wedding of River Song.mkv",
        season(6, range(1, 14)),
        ((6, 13),),
    ),
    ("CSI.S013E18.Sheltered.720p.WEB-DL.DD5.1.H.264.mkv", season(13, range(1, 23)), ((13, 18),)),
    (
        "Game of Thrones S03E06 1080i HDTV DD5.1 MPEG2-TrollHD.ts",
        season(3, range(1, 11)),
        ((3, 6),),
    ),
    (
        "Wheels.S03E01-04.720p.HDTV.x264-IMMERSE.mkv",
        season(3, range(1, 11)),
        ((3, 1), (3, 2), (3, 3), (3, 4)),
    ),
    ("Wheels.S03E01-E02.720p.HDTV.x264-IMMERSE.mkv", season(3, range(1, 11)), ((3, 1), (3, 2))),
    (
        "Marvels.Agents.of.S.H.I.E.L.D-S01E06.720p.HDTV.X264-DIMENSION.mkv",
        season(1, range(1, 23)),
        ((1, 6),),
    ),
    (
        "Series/Friday Night Lights/Season 1/Friday Night Lights S01E19 - Ch-Ch-Ch-Ch-Changes.avi",
        season(1, range(1, 23)),
        ((1, 19),),
    ),
    ("2.Broke.Girls.S03E10.480p.HDTV.x264-mSD.mkv", season(3, range(1, 25)), ((3, 10),)),
    (
        "House.of.Cards.2013.S02E03.1080p.NF.WEBRip.DD5.1.x264-NTb.mkv",
        season(2, range(1, 14)),
        ((2, 3),),
    ),
    ("[Kaylith] Zankyou no Terror - 04 [480p][B4D4514E].mp4", season(1, range(1, 12)), ((1, 4),)),
    (
        "[PuyaSubs!] Seirei Tsukai no Blade Dance - 05 [720p][32DD560E].mkv",
        season(1, range(1, 13)),
        ((1, 5),),
    ),
    (
        "One.Piece.E576.VOSTFR.720p.HDTV.x264-MARINE-FORD.mkv",
        season(1, range(570, 580)),
        ((1, 576),),
    ),
    # anitopy (igorcmoura/anitopy, tests/fixtures/table.py, taken from anitomy)
    (
        "[TaigaSubs]_Toradora!_(2008)_-_01v2_-_Tiger_and_Dragon_[1280x720_H.264_FLAC][1234ABCD].mkv",
        season(1, range(1, 26)),
        ((1, 1),),
    ),
    ("[ANBU]_Princess_Lover!_-_01_[2048A39A].mkv", season(1, range(1, 13)), ((1, 1),)),
    (
        "[ANBU-Menclave]_Canaan_-_01_[1024x576_H.264_AAC][12F00E89].mkv",
        season(1, range(1, 14)),
        ((1, 1),),
    ),
    (
        "[chibi-Doki] Seikon no Qwaser - 13v0 (Uncensored Director's Cut) [988DB090].mkv",
        season(1, range(1, 25)),
        ((1, 13),),
    ),
    (
        "[Conclave-Mendoi]_Mobile_Suit_Gundam_00_S2_-_01v2_[1280x720_H.264_AAC][4863FBE8].mkv",
        season(2, range(1, 26)),
        ((2, 1),),
    ),
    (
        "[Lambda-Delta]_Umineko_no_Naku_Koro_ni_-_11_[848x480_H.264_AAC][943106AD].mkv",
        season(1, range(1, 27)),
        ((1, 11),),
    ),
    (
        "[SS]_Kemono_no_Souja_Erin_-_12_(1280x720_h264)_[0F5F884F].mkv",
        season(1, range(1, 51)),
        ((1, 12),),
    ),
    (
        "[HorribleSubs] Tower of Druaga - Sword of Uruk - 04 [480p].mkv",
        season(1, range(1, 13)),
        ((1, 4),),
    ),
    (
        "Mobile_Suit_Gundam_00_Season_2_Ep07_A_Reunion_and_a_Parting_[1080p,BluRay,x264]_-_THORA.mkv",
        season(2, range(1, 26)),
        ((2, 7),),
    ),
    (
        "Ghost_in_the_Shell_Stand_Alone_Complex_2nd_GIG_Ep05v2_EXCAVATION_[720p,HDTV,x264,AAC_5.1]_-_THORA.mkv",
        season(2, range(1, 27)),
        ((2, 5),),
    ),
    (
        "[kito].Nazca.episode.01.DVDRip.[x264.He-aac.{Jpn}+Sub{Fr}].mkv",
        season(1, range(1, 13)),
        ((1, 1),),
    ),
    (
        "Magical Girl Lyrical Nanoha A's - 01.DVD[H264.AAC][DGz][7A8A7769].mkv",
        season(1, range(1, 14)),
        ((1, 1),),
    ),
    (
        "The Irregular at Magic High School - S01E01- Enrollment Part I.mkv",
        season(1, range(1, 27)),
        ((1, 1),),
    ),
    (
        "[Hatsuyuki]_Kuroko_no_Basuke_S3_-_01_(51)_[720p][10bit][619C57A0].mkv",
        season(3, range(1, 26)),
        ((3, 1),),
    ),
    (
        "[Zurako] Sora no Woto - 07.5 - Drinking Party - Fortress Battle (BD 1080p AAC) [F7DF16F7].mkv",  # noqa: E501
        season(1, range(1, 13)),
        (),
    ),
    ("[GrimRipper] Koi Kaze [Dual Audio] Ep01 (c13cefe0).mkv", season(1, range(1, 14)), ((1, 1),)),
    (
        "[Kira-Fansub] Uchuu no Stellvia ep 14 (BD H264 1280x960 24fps AAC) [06EE7355].mkv",
        season(1, range(1, 27)),
        ((1, 14),),
    ),
    (
        "[Zom-B] Machine-Doll wa Kizutsukanai - 01 - Facing ''Cannibal Candy'' I (kuroi, FFF remux) [B99C8DED].mkv",  # noqa: E501
        season(1, range(1, 13)),
        ((1, 1),),
    ),
    ("[Coalgirls]_Toradora_ED2_(704x480_DVD_AAC)_[3B65D1E6].mkv", season(1, range(1, 26)), ()),
    # Issue 9: a season tag then an anime number is that season's episode, not a season range.
    ("[SubsPlease] Link Click S3 - 06 (1080p) [A1B2C3D4].mkv", season(3, range(1, 7)), ((3, 6),)),
    (
        "[SubsPlease] Kaguya-sama wa Kokurasetai S2 - 03 (1080p) [0F1E2D3C].mkv",
        season(2, range(1, 13)),
        ((2, 3),),
    ),
]


@pytest.mark.parametrize(("file_name", "grab", "expected"), PUBLISHED_NAMES)
def test_published_parser_vectors_map_to_their_episode(
    file_name: str, grab: list[Episode], expected: tuple[Episode, ...]
) -> None:
    assert episodes_of(file_name, grab) == expected


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "[SubsPlease] Link Click S3 - 06 (1080p)",
            release.ParsedName(seasons=(3,), absolute=(6,)),
        ),
        (
            "[SubsPlease] Kaguya-sama wa Kokurasetai S2 - 03 (1080p)",
            release.ParsedName(seasons=(2,), absolute=(3,)),
        ),
        ("Show S01 - S03 1080p", release.ParsedName(seasons=(1, 2, 3))),
        ("Show.S1-3.1080p", release.ParsedName(seasons=(1, 2, 3))),
        ("Show Seasons 1 - 3 1080p", release.ParsedName(seasons=(1, 2, 3), absolute=(3,))),
    ],
)
def test_a_season_tag_then_a_spaced_number_is_not_a_season_range(
    title: str, expected: release.ParsedName
) -> None:
    assert parse_episode_tokens(title) == expected


@pytest.mark.parametrize(
    "title",
    [
        "[SubsPlease] Link Click S3 - 06 (1080p)",
        "[SubsPlease] Kaguya-sama wa Kokurasetai S2 - 03 (1080p)",
        "[Hatsuyuki]_Kuroko_no_Basuke_S3_-_01_(51)_[720p][10bit][619C57A0]",
        "[Conclave-Mendoi]_Mobile_Suit_Gundam_00_S2_-_01v2_[1280x720_H.264_AAC][4863FBE8]",
    ],
)
def test_a_grab_naming_no_episodes_with_one_season_and_one_episode_is_single(title: str) -> None:
    assert classify_release(title, ()) is ReleaseType.SINGLE_EPISODE


@pytest.mark.parametrize(("file_name", "grab", "expected"), FILE_CASES)
def test_file_maps_to_its_episodes(
    file_name: str, grab: list[Episode], expected: tuple[Episode, ...]
) -> None:
    assert episodes_of(file_name, grab) == expected


def test_season_pack_fixture_maps_thirteen_episodes_and_skips_extras() -> None:
    _, grabbed = sonarr_grab("grab_season_pack.json")
    files = qbittorrent_files()

    mapping = map_files_to_episodes([file["name"] for file in files], grabbed)

    assert mapping == {index: ((1, index + 1),) for index in range(13)}


def test_season_pack_fixture_progress_is_per_episode() -> None:
    _, grabbed = sonarr_grab("grab_season_pack.json")
    files = qbittorrent_files()
    mapping = map_files_to_episodes([file["name"] for file in files], grabbed)

    progress = episode_progress(
        [(file["index"], file["size"], file["progress"]) for file in files], mapping
    )

    assert list(progress) == sorted(grabbed)
    assert progress[(1, 1)] == progress[(1, 6)] == 100.0
    assert progress[(1, 7)] == pytest.approx(91.2345)
    assert progress[(1, 8)] == pytest.approx(40.0)
    assert progress[(1, 9)] == pytest.approx(1.17)
    assert progress[(1, 10)] == progress[(1, 13)] == 0.0


@pytest.mark.parametrize(
    ("fixture", "with_pack_files", "expected"),
    [
        ("grab_season_pack.json", True, ReleaseType.BATCH),
        ("grab_season_pack.json", False, ReleaseType.BATCH),
        ("grab_season_pack_miniseries.json", False, ReleaseType.SEASON_PACK),
        ("grab_single_episode.json", False, ReleaseType.SINGLE_EPISODE),
        ("grab_anime_absolute.json", False, ReleaseType.SINGLE_EPISODE),
        ("grab_v3.json", False, ReleaseType.SINGLE_EPISODE),
    ],
)
def test_sonarr_fixture_grabs_are_classified(
    fixture: str, with_pack_files: bool, expected: ReleaseType
) -> None:
    title, grabbed = sonarr_grab(fixture)
    names = [file["name"] for file in qbittorrent_files()] if with_pack_files else []

    assert classify_release(title, grabbed, names) is expected


@pytest.mark.parametrize(
    ("title", "grab", "file_names", "expected"),
    [
        ("Chernobyl.S01E03.1080p.BluRay.x264-ROVERS", [(1, 3)], (), ReleaseType.SINGLE_EPISODE),
        ("Show.S02E05E06.720p", [(2, 5), (2, 6)], (), ReleaseType.MULTI_EPISODE),
        (
            "Show.S02E05-E06.720p",
            [(2, 5), (2, 6)],
            ["Show.S02E05-E06.720p/Show.S02E05-E06.720p.mkv", "Show.S02E05-E06.720p/a.nfo"],
            ReleaseType.MULTI_EPISODE,
        ),
        (
            "Chernobyl.S01.1080p.BluRay.x264-ROVERS",
            CHERNOBYL,
            [f"Chernobyl.S01.1080p/Chernobyl.S01E0{number}.mkv" for number in range(1, 6)],
            ReleaseType.SEASON_PACK,
        ),
        ("Show.S01.COMPLETE.1080p.WEB-DL", ONE_SEASON, (), ReleaseType.SEASON_PACK),
        ("Show.S01-S02.1080p.BluRay", TWO_SEASONS, (), ReleaseType.MULTI_SEASON_PACK),
        ("Show.Complete.Series.1080p", TWO_SEASONS, (), ReleaseType.MULTI_SEASON_PACK),
        ("[Group] Show (01-13) [1080p]", ONE_SEASON, (), ReleaseType.BATCH),
        ("[Group] Show - 01 ~ 13 [1080p]", ONE_SEASON, (), ReleaseType.BATCH),
        ("[Group] Show (Complete) [1080p]", ONE_SEASON, (), ReleaseType.BATCH),
        ("[Group] Show [Batch] [1080p]", ONE_SEASON, (), ReleaseType.BATCH),
        ("Show.S01.1080p", [(0, 1), (1, 1), (1, 2)], (), ReleaseType.SEASON_PACK),
        # Without the grab's episodes, the title decides.
        ("Show.S01.1080p.WEB-DL", (), (), ReleaseType.SEASON_PACK),
        ("Show.S01E01.1080p.WEB-DL", (), (), ReleaseType.SINGLE_EPISODE),
        ("Show.S01E01-E02.1080p.WEB-DL", (), (), ReleaseType.MULTI_EPISODE),
        ("Show.S01-S03.1080p", (), (), ReleaseType.MULTI_SEASON_PACK),
        ("[SubsPlease] Show - 05 (1080p)", (), (), ReleaseType.SINGLE_EPISODE),
    ],
)
def test_release_is_classified(
    title: str, grab: list[Episode], file_names: list[str], expected: ReleaseType
) -> None:
    assert classify_release(title, grab, file_names) is expected


def test_absolute_batch_maps_by_position_through_the_grab() -> None:
    names = [f"[Group] Show S2 (Batch)/[Group] Show - {number} [1080p].mkv" for number in (13, 24)]

    assert map_files_to_episodes(names, SEASON_TWO) == {0: ((2, 1),), 1: ((2, 12),)}


def test_absolute_batch_across_seasons_maps_by_position() -> None:
    grab = season(1, range(1, 13)) + season(2, range(1, 13))
    names = [f"[Group] Show (01-24)/[Group] Show - {number:02d}.mkv" for number in range(1, 25)]

    assert map_files_to_episodes(names, grab) == {
        index: (episode,) for index, episode in enumerate(grab)
    }


def test_absolute_numbers_beyond_the_grab_are_not_mapped() -> None:
    names = [f"[Group] Show - {number}.mkv" for number in (13, 14, 15)]

    assert map_files_to_episodes(names, [(2, 1), (2, 2)]) == {0: ((2, 1),), 1: ((2, 2),)}


def test_absolute_numbers_need_a_contiguous_grab() -> None:
    names = ["[Group] Show - 25.mkv", "[Group] Show - 27.mkv"]

    assert map_files_to_episodes(names, [(2, 1), (2, 3)]) == {}


def test_numbers_read_within_the_season_when_all_are_grabbed_episodes() -> None:
    names = [f"[Group] Show - {number:02d}.mkv" for number in (5, 6)]

    assert map_files_to_episodes(names, SEASON_TWO) == {0: ((2, 5),), 1: ((2, 6),)}


def test_re_release_keeps_every_file_of_an_episode() -> None:
    names = ["[Group] Show - 01 [1080p].mkv", "[Group] Show - 01v2 [1080p].mkv"]

    assert map_files_to_episodes(names, ONE_SEASON) == {0: ((1, 1),), 1: ((1, 1),)}


def test_progress_is_weighted_by_size_across_an_episodes_files() -> None:
    mapping = {0: ((1, 1),), 1: ((1, 1),), 2: ((1, 2), (1, 3))}

    progress = episode_progress([(0, 300, 1.0), (1, 100, 0.0), (2, 50, 0.5)], mapping)

    assert progress == {(1, 1): 75.0, (1, 2): 50.0, (1, 3): 50.0}


def test_progress_leaves_out_episodes_without_a_known_file() -> None:
    progress = episode_progress([(0, 10, 0.5), (7, 10, 1.0)], {0: ((1, 1),), 1: ((1, 2),)})

    assert progress == {(1, 1): 50.0}


def test_progress_of_files_of_unknown_size_is_averaged_and_clamped() -> None:
    progress = episode_progress([(0, 0, 0.5), (1, 0, 1.5)], {0: ((1, 1),), 1: ((1, 1),)})

    assert progress == {(1, 1): 75.0}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "Show.S01E01-E03.1080p.mkv",
            release.ParsedName(seasons=(1,), episodes=(1, 2, 3), is_video=True),
        ),
        ("[SubsPlease] Horimiya - 13 (1080p) [8D1A2F4C]", release.ParsedName(absolute=(13,))),
        (
            "[Judas] Horimiya (Season 1) [1080p][HEVC x265 10bit][Dual-Audio][Multi-Subs] (Batch)",
            release.ParsedName(seasons=(1,), is_batch=True),
        ),
        ("Show.S01-S03.1080p.BluRay.x264", release.ParsedName(seasons=(1, 2, 3))),
        ("Show.Seasons.1.&.2.1080p", release.ParsedName(seasons=(1, 2))),
        ("[Group] Show 2nd Season - 05", release.ParsedName(seasons=(2,), absolute=(5,))),
        (
            "Show.S00E02.mkv",
            release.ParsedName(seasons=(0,), episodes=(2,), is_special=True, is_video=True),
        ),
        (
            "[Group] Show OVA 2 [BD].mkv",
            release.ParsedName(seasons=(0,), episodes=(2,), is_special=True, is_video=True),
        ),
        (
            "Sample/show.s01e01.mkv",
            release.ParsedName(seasons=(1,), episodes=(1,), is_sample=True, is_video=True),
        ),
        ("Show/Extras/NCOP1.mkv", release.ParsedName(is_extra=True, is_video=True)),
        ("Show.Name.1080p.WEB-DL.H.264-GROUP", release.ParsedName()),
    ],
)
def test_parse_episode_tokens(name: str, expected: release.ParsedName) -> None:
    assert parse_episode_tokens(name) == expected


def test_public_api_is_exported_and_classes_are_final() -> None:
    defined_here = {
        name
        for name, value in vars(release).items()
        if not name.startswith("_") and getattr(value, "__module__", None) == release.__name__
    }

    assert defined_here <= set(release.__all__)
    assert len(release.__all__) == len(set(release.__all__))
    for name in release.__all__:
        exported = getattr(release, name)
        if isinstance(exported, type):
            assert getattr(exported, "__final__", False), name
