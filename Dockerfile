# flashsale-bot: a small runtime image with the bot binary only.
#
#   docker build -t flashsale-bot .
#   docker run --rm --env-file .env flashsale-bot migrate
#   docker run -d --env-file .env -e HTTP_ADDR=0.0.0.0:9090 -p 9090:9090 flashsale-bot
#
# Configuration is environment variables only (see .env.example); the image
# holds no .env. Migrations are compiled into the binary.

# --- build -------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# Only what the bot's build reads (sources, embedded migrations and data), so
# editing tests or docs does not invalidate the layer.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY data ./data
RUN cargo build --release --locked --bin flashsale-bot \
    && strip target/release/flashsale-bot

# --- run ---------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: the Discord API, the gateway and an https storefront use TLS
# (rustls reads the system roots through webpki; keeping the bundle costs little).
# fonts-dejavu-core: the cards' pictures are drawn with DejaVu (PICTURE_FONT_DIR).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin flashsale
COPY --from=build /src/target/release/flashsale-bot /usr/local/bin/flashsale-bot
USER flashsale
# /healthz, /readyz and /metrics, when HTTP_ADDR=0.0.0.0:9090 (the default
# 127.0.0.1:9090 is unreachable from outside the container).
EXPOSE 9090
ENTRYPOINT ["flashsale-bot"]
CMD ["run"]
