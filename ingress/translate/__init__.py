"""Pure translation of webhook bodies (Jellyseerr, Radarr, Sonarr, Jellyfin) into WebhookFacts.

No I/O and no Trio: the HTTP layer parses the JSON, calls ``translate`` and maps PayloadError
to a 400.
"""

from status_tracker.ingress.translate._dispatch import WebhookSource as WebhookSource
from status_tracker.ingress.translate._dispatch import dedupe_key as dedupe_key
from status_tracker.ingress.translate._dispatch import event_key as event_key
from status_tracker.ingress.translate._dispatch import event_type_of as event_type_of
from status_tracker.ingress.translate._dispatch import translate as translate
from status_tracker.ingress.translate._fields import PayloadError as PayloadError
from status_tracker.ingress.translate._summary import summary as summary
