# EntropyInfer container image: an OpenAI-compatible LLM server for CPUs.
#
#   docker build -t entropyinfer .
#   docker volume create entropyinfer-models
#   docker run --rm -v entropyinfer-models:/var/lib/entropyinfer entropyinfer pull smollm2-135m-instruct
#   docker run --rm -p 127.0.0.1:8080:8080 -v entropyinfer-models:/var/lib/entropyinfer --stop-timeout 40 entropyinfer
#
# Configuration: ENTROPYINFER_* variables (`docker run -e ENTROPYINFER_THREADS=4 ...`), a config
# file (`-e ENTROPYINFER_CONFIG=/etc/entropyinfer/entropyinfer.json` plus a mount), or flags after
# `serve`; docs/CONFIGURATION.md has the table. docs/DEPLOYMENT.md covers compose, Kubernetes and
# systemd.
#
# This file is proven without a Docker engine by `make container-check`
# (scripts/container-check.sh): it reads the runtime stage below (base release, RUN, ENV, USER,
# ENTRYPOINT, CMD, HEALTHCHECK), rebuilds that stage with debootstrap, runs it with the binary
# the builder stage's `swift build` line makes, and expects it to pull, serve, pass its
# health check, answer a chat completion and stop on SIGTERM with status 0. Keep the
# instructions of the runtime stage in the forms that script understands (it fails loudly
# otherwise).
#
# Package versions are not pinned (hadolint DL3008, ignored below): Debian replaces a bookworm
# package with its security update and drops the old version from the mirror, so pins break the
# build within weeks; the base images' release (bookworm) fixes the ABI the binary links against.

# --- builder: the Swift toolchain of the same Debian release as the runtime stage -------------
FROM swift:6.3.1-bookworm AS builder

# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libcurl4-openssl-dev \
        libjansson-dev \
        libmicrohttpd-dev \
        libopenblas-dev \
        pkg-config \
        zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build
# Dependencies first, so editing sources does not refetch them.
COPY Package.swift ./
RUN swift package resolve
# SwiftPM checks every target's directory, test targets included.
COPY Sources ./Sources
COPY Tests ./Tests
# The Swift runtime and Foundation are linked statically; the C libraries stay shared.
RUN swift build -c release --product entropyinfer --static-swift-stdlib \
    && install -D -m 0755 \
        "$(swift build -c release --product entropyinfer --static-swift-stdlib --show-bin-path)/entropyinfer" \
        /out/entropyinfer

# --- runtime: Debian slim with only the shared libraries the binary loads ---------------------
FROM debian:bookworm-slim AS runtime

# libcurl4 and ca-certificates: `entropyinfer pull` (HTTPS through FoundationNetworking);
# libmicrohttpd12: HTTP server; libjansson4: JSON; libopenblas0-pthread: matrix kernels;
# zlib1g: model archives.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        ca-certificates \
        libcurl4 \
        libjansson4 \
        libmicrohttpd12 \
        libopenblas0-pthread \
        zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-log-init --uid 10001 --user-group \
        --home-dir /var/lib/entropyinfer --no-create-home --shell /usr/sbin/nologin entropyinfer \
    && install -d -o entropyinfer -g entropyinfer -m 0750 /var/lib/entropyinfer

COPY --from=builder /out/entropyinfer /usr/local/bin/entropyinfer

# Models live in $ENTROPYINFER_HOME/models: keep it on a volume so they survive the container.
# Inside a container the server listens on every interface (the default is 127.0.0.1).
# Environment variables override a config file, so a mounted file cannot change `host`.
ENV ENTROPYINFER_HOME=/var/lib/entropyinfer \
    ENTROPYINFER_HOST=0.0.0.0
VOLUME ["/var/lib/entropyinfer"]
WORKDIR /var/lib/entropyinfer
USER 10001:10001
EXPOSE 8080

# `entropyinfer health` reads the same ENTROPYINFER_* configuration as `serve` (port, config
# file) and exits 0 once /health answers 200; /health is 503 while the model loads.
HEALTHCHECK --interval=30s --timeout=10s --start-period=5m --retries=3 \
    CMD ["entropyinfer", "health"]

# SIGTERM: stop accepting, let running requests finish for shutdown_timeout_seconds (30 s by
# default), exit 0. Give the container longer than that (`docker stop --time 40`).
STOPSIGNAL SIGTERM
ENTRYPOINT ["entropyinfer"]
CMD ["serve"]
