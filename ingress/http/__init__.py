"""HTTP ingress: webhooks, the API, the live feed, /health and the dashboard."""

from .app import create_app as create_app
from .live_feed import LiveFeed as LiveFeed
from .service import Service as Service
