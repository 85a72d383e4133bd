# One Dockerfile, two ways to get the binary into the same FROM scratch image:
#
#   docker build -t test-metrics .
#       The default (last) stage, `image`, compiles the static binary from source in the official
#       Rust image (x86_64-unknown-linux-musl), then copies it onto the runtime base.
#
#   podman build --target prebuilt -t test-metrics .      (what `make build` runs)
#       The `prebuilt` stage copies the binary that `make static` built on the host. Nothing is
#       pulled: `prebuilt` depends only on `runtime`, which is FROM scratch, and the Rust stage
#       after it is never reached.
#
# Both images hold exactly two files: /usr/local/bin/metrics-generator and
# /etc/metrics-generator/config.json (the example config, served by the default CMD).

ARG RUST_IMAGE=rust:1-slim-bookworm

# The runtime base shared by both final stages: everything except the binary.
FROM scratch AS runtime
# The crate version; `make build` passes the one in Cargo.toml, and a test keeps this default equal.
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="metrics-generator" \
      org.opencontainers.image.description="A Prometheus exporter that serves synthetic, predictable metric series" \
      org.opencontainers.image.licenses="MIT OR Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY example_config.json /etc/metrics-generator/config.json
# nobody:nogroup by number: a scratch image has no /etc/passwd to resolve a name, and Kubernetes'
# runAsNonRoot can only verify a numeric user.
USER 65534:65534
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/metrics-generator"]
CMD ["--config", "/etc/metrics-generator/config.json"]

# The image from the binary built on the host by `make static` (see the Makefile).
FROM runtime AS prebuilt
COPY target/x86_64-unknown-linux-musl/release/metrics-generator /usr/local/bin/metrics-generator

# Compiles the static binary from source, for users with only Docker.
FROM ${RUST_IMAGE} AS build
WORKDIR /src
# ring (rustls's crypto) compiles C for the musl target with musl-gcc. Not pinned: the version is
# whatever the Rust image's Debian release has, and a pin would break when RUST_IMAGE moves.
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends musl-tools && rm -rf /var/lib/apt/lists/*
RUN rustup target add x86_64-unknown-linux-musl
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl

# The default stage of `docker build .`: the image from the binary compiled above.
FROM runtime AS image
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/metrics-generator /usr/local/bin/metrics-generator
