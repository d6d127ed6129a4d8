# syntax=docker/dockerfile:1
# The API, the outbox worker and the scheduler in one image (README, Operating it). Three stages:
# GraphiQL's browser files from npm, the Python environment, and a slim runtime run as a non-root user.

FROM node:22-bookworm-slim AS graphiql
WORKDIR /app/graphiql
COPY graphiql/package.json graphiql/package-lock.json ./
# --ignore-scripts: these packages need no install scripts, and none should run.
RUN npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.loyalty-installed

FROM python:3.11-slim-bookworm AS python
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY api api
COPY domain domain
COPY persistence persistence
COPY migrations migrations
COPY scripts scripts
COPY telemetry telemetry
# Editable, as in development: alembic.ini and GraphiQL's files are found beside the code in /app,
# which the runtime stage copies to the same path.
RUN /opt/venv/bin/pip install -e .

FROM python:3.11-slim-bookworm AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin loyalty
COPY --from=python /opt/venv /opt/venv
COPY --from=python /app /app
COPY --from=graphiql /app/graphiql /app/graphiql
WORKDIR /app
# var/ (the SQLite file, if used) and the workers' metrics files are the only places it writes.
RUN mkdir -p /app/var /tmp/prometheus && chown loyalty:loyalty /app/var /tmp/prometheus
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_FORMAT=json \
    ACCESS_LOG=0 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus
USER loyalty
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT:-8000}/healthz', timeout=2)"
CMD ["loyalty", "serve"]
