# sweid-fhir: the FHIR R4 API on port 8080 (gunicorn), SQLite in the /data volume by default.
#   docker build -t sweid-fhir .
#   docker run -p 8080:8080 -v sweid-data:/data sweid-fhir
# PostgreSQL instead: -e DATABASE_URL=postgresql+psycopg://user:pass@host:5432/db
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The project itself, installed as a package (not editable, no test extras). Conformance
# files (OperationDefinitions…) are read from fhir_profiles/ beside the installed `app`
# package (app.conformance.PROFILES), so they are copied there.
COPY . /tmp/src
RUN pip install /tmp/src \
    && site=$(python -c 'import app, pathlib; print(pathlib.Path(app.__file__).resolve().parent.parent)') \
    && if [ -d /tmp/src/fhir_profiles ]; then cp -r /tmp/src/fhir_profiles "$site/fhir_profiles"; fi \
    && rm -rf /tmp/src

RUN useradd --system --uid 10001 --user-group --home-dir /srv/sweid --create-home \
        --shell /usr/sbin/nologin sweid \
    && mkdir -p /data \
    && chown sweid:sweid /data

ENV HOST=0.0.0.0 \
    PORT=8080 \
    DATABASE_URL=sqlite:////data/fhir.db

USER sweid
WORKDIR /srv/sweid
VOLUME ["/data"]
EXPOSE 8080

# Liveness (README, "Health probes"); no curl in the slim image, so Python's standard
# library asks.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4).read()"]

# Create/upgrade the schema, then hand the process over to gunicorn (signals reach it).
CMD ["sh", "-c", "python -m app db upgrade && exec gunicorn --config python:app.gunicorn_conf 'app.http:create_app()'"]
