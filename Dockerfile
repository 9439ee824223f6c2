# syntax=docker/dockerfile:1
# AccessBot: a static Go binary on distroless (CA certificates, tzdata, a non-root user, no shell).
#   docker build --build-arg VERSION=$(git describe --tags --always) -t accessbot .
#   docker run -p 3978:3978 -v accessbot-data:/data --env-file accessbot.env accessbot
# Building needs ~5 GB of memory: the Microsoft Graph SDK is large (see DESIGN notes in docs/DEPLOY.md).

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/accessbot ./cmd/accessbot \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/accessbot /usr/local/bin/accessbot
# State (bbolt) lives on a volume owned by the non-root user (uid 65532).
COPY --from=build --chown=65532:65532 /out/data /data
ENV ACCESSBOT_ADDR=:3978 \
    ACCESSBOT_DATA=/data/accessbot.db \
    ACCESSBOT_LOG_FORMAT=json
USER 65532:65532
EXPOSE 3978
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/accessbot", "serve"]
