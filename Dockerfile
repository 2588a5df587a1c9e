# syntax=docker/dockerfile:1
#
# One static binary (templates, static files and migrations are embedded) on
# a distroless base that has CA certificates (the dashboard calls
# https://identity.api.rackspacecloud.com) and runs as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t cmdash .
#   docker run -p 8080:8080 -v dashboard-data:/data -e DASHBOARD_SECRET=... cmdash

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o /dashboard ./cmd/dashboard
# The volume mount point, owned by the distroless nonroot user (65532).
RUN mkdir -p /out/data && chown 65532:65532 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /dashboard /dashboard
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV ADDR=0.0.0.0:8080 DATABASE_PATH=/data/dashboard.db
EXPOSE 8080
ENTRYPOINT ["/dashboard"]
