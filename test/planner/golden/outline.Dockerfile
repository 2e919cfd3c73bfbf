# syntax=docker/dockerfile:1

# GO_VERSION the Go toolchain release
ARG GO_VERSION=1.22
# UNUSED never used by the release target
ARG UNUSED=x
ARG BASE=busybox:${GO_VERSION}

# build compiles the program
FROM ${BASE} AS build
# MODE how to build
ARG MODE=release
RUN --mount=type=secret,id=netrc,required=true --mount=type=ssh echo $MODE

# release is the image we ship
FROM scratch AS release
COPY --from=build /out /out
RUN --mount=type=secret,target=/run/secrets/npmrc true
