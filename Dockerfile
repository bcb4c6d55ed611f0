# Build: docker build -t ruxue .
# Run:   docker run -p 8080:8080 -e RUXUE_ENV=production -e RUXUE__DATABASE__URL=postgres://… \
#          -e RUXUE__SECURITY__JWT_KEY_FILE=/run/secrets/jwt … ruxue
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev pkg-config && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY migrations migrations
COPY config config
COPY templates templates
COPY benches benches
RUN cargo build --release --locked --bin ruxue

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates python3 \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/ruxue ruxue \
    && mkdir -p /var/lib/ruxue && chown ruxue /var/lib/ruxue
COPY --from=build /src/target/release/ruxue /usr/local/bin/ruxue
COPY config /etc/ruxue/config
COPY verifier /usr/share/ruxue/verifier
ENV RUXUE_CONFIG_DIR=/etc/ruxue/config \
    RUXUE_ENV=production \
    RUXUE__SERVER__HOST=0.0.0.0 \
    RUXUE__SERVER__PORT=8080 \
    RUXUE__UPLOADS__DIR=/var/lib/ruxue/uploads
USER ruxue
WORKDIR /var/lib/ruxue
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=3s CMD ["/bin/sh", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080"]
ENTRYPOINT ["/usr/local/bin/ruxue"]
CMD ["serve"]
