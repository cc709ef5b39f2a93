# syntax=docker/dockerfile:1
#
# The unifi-dns-sync container image: the daemon (`run`) by default, every other command with
# `docker run IMAGE <command>`. deploy/README.md shows how to build and run it.
#
#   docker build -t unifi-dns-sync:0.1.0 .
#   docker run -d --name unifi-dns-sync -p 8080:8080 \
#     -v unifi-dns-sync-data:/data \
#     -v "$PWD/unifi-dns-sync.toml:/config/unifi-dns-sync.toml:ro" \
#     -e UNIFI_HQ_API_KEY unifi-dns-sync:0.1.0

# ---- build ------------------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p unifi-dns-sync \
 && install -D -m 0755 target/release/unifi-dns-sync /out/unifi-dns-sync

# ---- runtime ----------------------------------------------------------------------------------
# Debian slim: glibc for the binary, the system CA bundle for tls = "verify", and bash for the
# HEALTHCHECK below (no curl or wget in the image).
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 unifi-dns-sync \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin unifi-dns-sync \
 && mkdir -p /data /config \
 && chown 10001:10001 /data \
 && chmod 0750 /data
COPY --from=builder /out/unifi-dns-sync /usr/local/bin/unifi-dns-sync

# The database lives on the /data volume: it holds the ownership registry (which DNS policies this
# tool created). Losing it makes the tool read its own copies as native records, so mount a
# volume there. sqlite:/// + /data/dns_sync.db = the absolute path /data/dns_sync.db.
ENV UNIFI_DNS_SYNC_DATABASE__URL=sqlite:///data/dns_sync.db
# Dashboard, JSON API, /metrics, /healthz and /readyz, on every interface of the container.
ENV UNIFI_DNS_SYNC_WEB__LISTEN=0.0.0.0:8080
# The config file is looked for at /config/unifi-dns-sync.toml (mount it read-only).

VOLUME ["/data"]
WORKDIR /data
EXPOSE 8080
USER 10001:10001

# GET /healthz over bash's /dev/tcp (no HTTP client in the image): healthy on "200". The port is
# taken from UNIFI_DNS_SYNC_WEB__LISTEN. Kubernetes ignores this and uses the chart's probes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["bash", "-c", "port=${UNIFI_DNS_SYNC_WEB__LISTEN##*:}; exec 3<>/dev/tcp/127.0.0.1/${port:-8080} && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && IFS= read -r status <&3 && [[ $status == 'HTTP/1.1 200'* ]]"]

ENTRYPOINT ["unifi-dns-sync"]
CMD ["run"]
