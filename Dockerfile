# syntax=docker/dockerfile:1
#
# Herald container image.
#
#   docker build -t herald:local .
#   docker run --rm -p 127.0.0.1:8080:8080 -v herald-data:/data herald:local
#
# Needs BuildKit (the default builder since Docker 23) for the cache mounts.
# The builder and the runtime must use the same Debian release (glibc).

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

# ---------------------------------------------------------------- builder ---
FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS builder

# The slim Rust image already has gcc and libc6-dev, which is all the build
# needs: SQLite is bundled by sqlx, TLS is rustls/ring, and the Temporal
# protos are compiled by protox (no protoc).
WORKDIR /src

# Compile-time checked sqlx queries must come from the committed .sqlx/ data,
# never from a live database.
ENV SQLX_OFFLINE=true \
    CARGO_TERM_COLOR=never

COPY . .

# The registry, git checkouts and target/ live in BuildKit cache mounts, so a
# rebuild after a code change recompiles only the workspace crates. The cache
# is not part of any layer, so the binary is copied out in the same step.
RUN --mount=type=cache,id=herald-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=herald-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=herald-target,target=/src/target,sharing=locked \
    cargo build --release --locked -p herald --bin herald \
    && install -D -m 0755 target/release/herald /out/herald

# ---------------------------------------------------------------- runtime ---
FROM debian:${DEBIAN_RELEASE}-slim AS runtime

ARG HERALD_UID=10001
ARG HERALD_VERSION=dev

LABEL org.opencontainers.image.title="Herald" \
      org.opencontainers.image.description="A self-hostable, durable event reminder service" \
      org.opencontainers.image.source="https://github.com/herald-events/herald" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later" \
      org.opencontainers.image.version="${HERALD_VERSION}"

# ca-certificates: Herald talks TLS to Postgres, Temporal and mail servers.
# Unpinned on purpose: it should follow Debian's updates.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid "${HERALD_UID}" herald \
    && useradd --system --uid "${HERALD_UID}" --gid herald \
        --home-dir /data --no-create-home --shell /usr/sbin/nologin herald \
    && install -d -o herald -g herald -m 0750 /data

COPY --from=builder /out/herald /usr/local/bin/herald

ENV HERALD_DATA_DIR=/data \
    HERALD_LISTEN=0.0.0.0:8080

# Numeric, so that runtimes enforcing "run as non-root" can verify it.
USER ${HERALD_UID}:${HERALD_UID}
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080

# `herald healthcheck` GETs /healthz on HERALD_LISTEN: no curl needed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["herald", "healthcheck"]

ENTRYPOINT ["herald"]
CMD ["serve"]
