"""status-tracker: follows media requests from Jellyseerr to playable in Jellyfin."""
