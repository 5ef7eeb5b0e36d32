# Innsyn: production image. Runs migrations, then the API with in-process workers.
# Build: docker build -t innsyn .   Run: docker run -e INNSYN_DATABASE_URL=... -p 8000:8000 innsyn
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN python -m venv /opt/innsyn && /opt/innsyn/bin/pip install .

FROM python:3.11-slim-bookworm
ENV PATH=/opt/innsyn/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    INNSYN_ENV=production \
    INNSYN_HOST=0.0.0.0 \
    INNSYN_PORT=8000 \
    INNSYN_VAR_DIR=/var/lib/innsyn
RUN useradd --system --uid 10001 --home-dir /var/lib/innsyn --create-home innsyn
COPY --from=build /opt/innsyn /opt/innsyn
USER innsyn
WORKDIR /var/lib/innsyn
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1
CMD ["sh", "-c", "innsyn migrate && exec innsyn serve"]
