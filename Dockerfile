# syntax=docker/dockerfile:1
#
# meetarchive's image for those who build with Docker (BuildKit), Buildah or
# Kaniko: the same files, user, entrypoint and labels as `make image`, which
# assembles the image without a daemon (scripts/image) and is what the
# repository's tests build and check. This Dockerfile is not built by the
# tests (their machines have no container daemon). Build it with:
#
#   docker build \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" \
#     --build-arg SOURCE=https://git.example.com/you/meetarchive \
#     --build-arg CREATED="$(date -u -d @"$(git log -1 --format=%ct)" +%FT%TZ)" \
#     --build-arg SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" \
#     -t meetarchive .
#
# Differences from `make image`: three layers instead of two (the home
# directory is copied on its own to set its owner), and the CA certificates
# come from the build image's Debian rather than the build machine's.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath \
        -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
        -o /out/meetarchive . \
    && mkdir -p /rootfs/etc/ssl/certs /rootfs/home /rootfs/tmp /rootfs/usr/local/bin /home-nonroot \
    && cp scripts/image/rootfs/etc/passwd scripts/image/rootfs/etc/group /rootfs/etc/ \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && chmod 0644 /rootfs/etc/passwd /rootfs/etc/group /rootfs/etc/ssl/certs/ca-certificates.crt \
    && chmod 1777 /rootfs/tmp \
    && chmod 0700 /home-nonroot

FROM scratch
COPY --from=build /rootfs/ /
COPY --from=build --chown=65532:65532 /home-nonroot/ /home/nonroot/
COPY --from=build /out/meetarchive /usr/local/bin/meetarchive
USER 65532:65532
WORKDIR /home/nonroot
ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/home/nonroot
ENTRYPOINT ["/usr/local/bin/meetarchive"]
ARG VERSION=dev
ARG COMMIT=
ARG SOURCE=
ARG CREATED=
ARG LICENSES=NOASSERTION
LABEL org.opencontainers.image.title="meetarchive" \
      org.opencontainers.image.description="archives Huawei Cloud Meeting recordings into S3-compatible storage with an audit manifest" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${COMMIT}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="${LICENSES}" \
      org.opencontainers.image.created="${CREATED}"
