# Multi-stage build for deployment elsewhere. Not exercised by CI (no Docker engine there).
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin sextant

FROM debian:bookworm-slim
# The data folder (server secret, uploads under objects/) exists and belongs to the runtime user
# before the volume is mounted on it, so a new named volume takes that owner and the server, not
# root, can write there.
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home-dir /var/lib/sextant --shell /usr/sbin/nologin sextant \
    && mkdir -p /var/lib/sextant/objects \
    && chown -R sextant:sextant /var/lib/sextant
COPY --from=build /src/target/release/sextant /usr/local/bin/sextant
COPY static /usr/share/sextant/static
ENV SEXTANT_STATIC_DIR=/usr/share/sextant/static \
    SEXTANT_ADDR=0.0.0.0:8080 \
    SEXTANT_DATA_DIR=/var/lib/sextant
VOLUME /var/lib/sextant
USER sextant
EXPOSE 8080
CMD ["sextant", "serve"]
