"""Shoko Server's SignalR feed: the pure wire format and the listener that keeps it connected."""

from status_tracker.ingress.shoko.listener import MAX_MESSAGE_SIZE as MAX_MESSAGE_SIZE
from status_tracker.ingress.shoko.listener import ListenerState as ListenerState
from status_tracker.ingress.shoko.listener import ShokoListener as ShokoListener
from status_tracker.ingress.shoko.listener import ShokoStatus as ShokoStatus
from status_tracker.ingress.shoko.protocol import HANDSHAKE as HANDSHAKE
from status_tracker.ingress.shoko.protocol import PING as PING
from status_tracker.ingress.shoko.protocol import RECORD_SEPARATOR as RECORD_SEPARATOR
from status_tracker.ingress.shoko.protocol import Close as Close
from status_tracker.ingress.shoko.protocol import HandshakeResponse as HandshakeResponse
from status_tracker.ingress.shoko.protocol import HubMessage as HubMessage
from status_tracker.ingress.shoko.protocol import Invocation as Invocation
from status_tracker.ingress.shoko.protocol import MalformedFrame as MalformedFrame
from status_tracker.ingress.shoko.protocol import NegotiationFailed as NegotiationFailed
from status_tracker.ingress.shoko.protocol import OtherMessage as OtherMessage
from status_tracker.ingress.shoko.protocol import Ping as Ping
from status_tracker.ingress.shoko.protocol import encode as encode
from status_tracker.ingress.shoko.protocol import (
    negotiated_connection_token as negotiated_connection_token,
)
from status_tracker.ingress.shoko.protocol import parse_record as parse_record
from status_tracker.ingress.shoko.protocol import split_records as split_records
from status_tracker.ingress.shoko.protocol import translate_invocation as translate_invocation
