# syntax=docker/dockerfile:1
# towpath's image. By default one process serves the API and executes runs on a SQLite file
# in /var/lib/towpath; compose.yaml runs it scaled: `serve --no-worker` and `worker` on one
# PostgreSQL database.

FROM python:3.11-slim AS build
WORKDIR /build
RUN python -m venv /opt/towpath
# Only what the package is built from: a change to tests or docs does not rebuild it.
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/towpath/bin/pip install --no-cache-dir --disable-pip-version-check .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /var/lib/towpath towpath
COPY --from=build /opt/towpath /opt/towpath
ENV PATH=/opt/towpath/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TOWPATH_HOST=0.0.0.0 \
    TOWPATH_PORT=8000 \
    TOWPATH_DATABASE_URL=sqlite+aiosqlite:////var/lib/towpath/towpath.db
USER towpath
WORKDIR /var/lib/towpath
VOLUME ["/var/lib/towpath"]
EXPOSE 8000
# Ready once migrations are applied and the database answers.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['TOWPATH_PORT'] + '/health/ready', timeout=2)"]
ENTRYPOINT ["towpath"]
CMD ["serve"]
