# The README's install and run commands, in an image.
FROM python:3.11-slim

RUN useradd --create-home --uid 1000 tracker
WORKDIR /app
COPY . /app
RUN python3 -m venv /app/.venv && /app/.venv/bin/pip install --no-cache-dir . \
    && mkdir -p /data && chown tracker /data

USER tracker
ENV ST_BIND=0.0.0.0:8420 \
    ST_DATABASE_URL=sqlite:////data/status-tracker.db
VOLUME /data
EXPOSE 8420
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
    CMD ["/app/.venv/bin/python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8420/health', timeout=4).status != 200)"]
CMD ["/app/.venv/bin/status-tracker"]
