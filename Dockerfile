# The README's install and run commands, in an image: PostgreSQL support included, data in
# /config, run as PUID:PGID (1000:1000 unless set) with the time zone TZ.
FROM python:3.11-slim

RUN apt-get update && apt-get install -y --no-install-recommends tzdata \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN python3 -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir '.[postgresql]' \
    && install -m 0755 docker/entrypoint.sh /usr/local/bin/entrypoint.sh \
    && mkdir -p /config

# The default database, sqlite:///./status-tracker.db, is then /config/status-tracker.db, for
# the service and for commands run with docker exec alike.
WORKDIR /config
ENV PUID=1000 \
    PGID=1000 \
    TZ=Etc/UTC \
    ST_BIND=0.0.0.0:8420 \
    ST_URL_BASE=
VOLUME /config
EXPOSE 8420
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD ["/app/.venv/bin/python", "-c", "import os,sys,urllib.request as u; e=os.environ.get; sys.exit(u.urlopen('http://127.0.0.1:' + e('ST_BIND', ':8420').rpartition(':')[2] + e('ST_URL_BASE', '').rstrip('/') + '/health', timeout=4).status != 200)"]
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["/app/.venv/bin/status-tracker"]
