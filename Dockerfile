# syntax=docker/dockerfile:1
# cisgate: one static binary on distroless static, running as the non-root user 65532.
#   docker build -t ghcr.io/cisgate/cisgate:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
# The packages of the binary (.dockerignore keeps .git, tests, docs and the chart out).
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/cisgate/cisgate/cmd/cisgate/app.Version=${VERSION}" \
      -o /out/cisgate ./cmd/cisgate

# No shell, no package manager; CA certificates and /etc/passwd's nonroot (65532) only.
# `make image` builds the same image without Docker (build/imagebuild); test/image holds the two
# to the same user, entrypoint, arguments and labels.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.source="https://github.com/cisgate/cisgate" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/cisgate /usr/local/bin/cisgate
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cisgate"]
CMD ["serve"]
