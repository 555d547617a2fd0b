#!/bin/sh
# The image's entrypoint: run status-tracker as PUID:PGID (default 1000:1000) with its data in
# /config. An image from before /config kept the database in /data: while /config has none
# and /data/status-tracker.db exists, that one is used where it is.
#
# ST_ENTRYPOINT_ROOT (tests only) is put in front of /config and /data.
set -eu

root="${ST_ENTRYPOINT_ROOT:-}"

# The database URL to use: the one set by the user, else the old /data file, else /config.
database_url() {
    if [ -n "${ST_DATABASE_URL:-}" ] || [ -n "${ST_DATABASE_URL_FILE:-}" ]; then
        printf '%s' "${ST_DATABASE_URL:-}"
    elif [ ! -e "$root/config/status-tracker.db" ] && [ -e "$root/data/status-tracker.db" ]; then
        printf 'sqlite:///%s' "$root/data/status-tracker.db"
    else
        printf 'sqlite:///%s' "$root/config/status-tracker.db"
    fi
}

puid="${PUID:-1000}"
pgid="${PGID:-1000}"
case "$puid$pgid" in
    *[!0-9]*) echo "status-tracker: PUID and PGID must be numbers, got '$puid' and '$pgid'" >&2; exit 2 ;;
esac

url="$(database_url)"
if [ -n "$url" ]; then
    export ST_DATABASE_URL="$url"
fi
case "$url" in
    "sqlite:///$root/data/"*) echo "status-tracker: using the database in /data (move it to /config when convenient)" >&2 ;;
esac

if [ "$(id -u)" = "0" ]; then
    mkdir -p "$root/config"
    # Only the top: a user's own files below /config are theirs to own.
    chown "$puid:$pgid" "$root/config"
    if [ -e "$root/data/status-tracker.db" ]; then
        chown "$puid:$pgid" "$root/data" "$root/data"/status-tracker.db*
    fi
    exec setpriv --reuid="$puid" --regid="$pgid" --clear-groups --inh-caps=-all -- "$@"
fi
# Already started as a user (docker run --user): nothing to drop.
exec "$@"
