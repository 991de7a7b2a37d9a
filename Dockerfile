# pedonc-routing serve: the routing service (docs/service.md).
# Not built in this project's CI (the development machines cannot run Docker); the image
# installs the same wheel and extra that `make test` exercises.
#
#   docker build -t pedonc-routing .
#   docker run -p 8000:8000 -e PEDONC_API_KEY_HASHES=<sha256 of a key> \
#     -e PEDONC_AUDIT_URL=postgresql://... -e PEDONC_AUDIT_KEY=<hex> \
#     -e PEDONC_PUBLIC_URL=https://routing.hospital.kz pedonc-routing

FROM python:3.11-slim-bookworm AS build
# durable-rules builds from its sdist with a C compiler.
RUN apt-get update && apt-get install -y --no-install-recommends gcc g++ make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY protocols ./protocols
RUN python -m pip wheel --no-cache-dir --wheel-dir /wheels '.[service]'

FROM python:3.11-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /var/lib/pedonc pedonc \
    && mkdir -p /var/lib/pedonc && chown pedonc /var/lib/pedonc
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir --no-index --find-links /wheels 'pedonc-routing[service]' \
    && rm -rf /wheels
USER pedonc
WORKDIR /var/lib/pedonc
EXPOSE 8000
# One container = one service instance; scale by running more containers behind the load
# balancer (the audit store, PostgreSQL, is the only shared state). SQLite (the default,
# here in /var/lib/pedonc) suits a single instance with a persistent volume.
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz').status != 200)"
ENTRYPOINT ["pedonc-routing", "serve", "--host", "0.0.0.0", "--port", "8000"]
CMD ["--workers", "2"]
