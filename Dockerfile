# controlroom: slim, non-root, with a health check.
# docker build -t controlroom . && docker compose up   (see compose.yaml)
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md babel.cfg alembic.ini ./
COPY controlroom ./controlroom
COPY web ./web
COPY alembic ./alembic
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    CONTROLROOM_HOST=0.0.0.0 CONTROLROOM_PORT=8000 \
    CONTROLROOM_DATA_DIR=/data CONTROLROOM_LOG_JSON=true
RUN useradd --create-home --uid 10001 controlroom && mkdir /data && chown controlroom /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER controlroom
WORKDIR /home/controlroom
VOLUME ["/data"]
# 8000: pages, screens and the API; 8001: the ingest process `serve` starts (feeds post here).
EXPOSE 8000 8001
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2).status == 200 else 1)"
# uvicorn stops on SIGTERM: the worker finishes its batch and checkpoints first.
STOPSIGNAL SIGTERM
CMD ["controlroom", "serve"]
