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

ENV PUID=1000 \
    PGID=1000 \
    TZ=Etc/UTC \
    ST_BIND=0.0.0.0:8420 \
    ST_URL_BASE=
VOLUME /config
EXPOSE 8420
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD ["/app/.venv/bin/python", "-c", "import os,urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8420' + os.environ.get('ST_URL_BASE', '').rstrip('/') + '/health', timeout=4).status != 200)"]
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["/app/.venv/bin/status-tracker"]
