# syntax=docker/dockerfile:1
# cisgate: one static binary on an empty base, running as the non-root user 65532.
#   docker build -t ghcr.io/cisgate/cisgate:0.1.0 --build-arg VERSION=0.1.0 --build-arg REVISION=$(git rev-parse HEAD) .

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
COPY build/imagebuild/go.mod build/imagebuild/go.sum build/imagebuild/
RUN --mount=type=cache,target=/go/pkg/mod go mod download && go -C build/imagebuild mod download
# The packages of the binary and the image builder (.dockerignore keeps .git, tests, docs and the chart out).
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X github.com/cisgate/cisgate/cmd/cisgate/app.Version=${VERSION}" \
      -o /out/cisgate ./cmd/cisgate
# The image's files, written by the builder `make image` uses (build/imagebuild), so the two images
# hold the same files: the binary, /etc/passwd and /etc/group with nonroot (65532), its home, /tmp.
# No CA certificates: the binary carries Mozilla's roots (golang.org/x/crypto/x509roots/fallback).
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    go -C build/imagebuild run . -rootfs /out/rootfs -path /usr/local/bin/cisgate -user 65532:65532 \
      -binary $TARGETOS/$TARGETARCH=/out/cisgate

# No shell, no package manager: only the files above. COPY --from keeps their owners and modes.
# test/image holds this image to `make image`'s: the same files, user, entrypoint, arguments and labels.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.source="https://github.com/cisgate/cisgate" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/rootfs/ /
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/cisgate"]
CMD ["serve"]
