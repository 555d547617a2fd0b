"""The domain: request and episode states, and the records the pure decisions work on.

A leaf: it imports nothing of ours but ``status_tracker.strict``; storage maps its rows to
these records, and the decisions never see SQL.
"""

from ._records import DownloadLink as DownloadLink
from ._records import DownloadRow as DownloadRow
from ._records import EpisodeRow as EpisodeRow
from ._records import Notice as Notice
from ._records import ReleaseFacts as ReleaseFacts
from ._records import ReplacementWait as ReplacementWait
from ._records import RequestRow as RequestRow
from ._records import TimelineEntry as TimelineEntry
from ._records import TorrentFileRow as TorrentFileRow
from ._records import WaitingItems as WaitingItems
from ._states import ACTIVE_STATES as ACTIVE_STATES
from ._states import FINISHED_STATES as FINISHED_STATES
from ._states import KNOWN_STATES as KNOWN_STATES
from ._states import STATE_ORDER as STATE_ORDER
from ._states import STATE_RANK as STATE_RANK
from ._states import TERMINAL_STATES as TERMINAL_STATES
from ._summary import NO_EPISODES as NO_EPISODES
from ._summary import EpisodeSummary as EpisodeSummary
from ._summary import summarize as summarize
