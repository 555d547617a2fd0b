"""The reconciler: what the tracker missed, read back from Jellyseerr, Sonarr and Radarr."""
