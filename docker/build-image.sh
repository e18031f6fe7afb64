#!/usr/bin/env bash
# Builds the mec4j image: makes sure the base image exists (docker/make-base-image.sh), then
# `docker build` of the repository's Dockerfile. Arguments are passed to docker build
# (default: -t mec4j).
#
# TLS-intercepting proxy: if docker/extra-ca-certificates/ holds no *.crt and MEC4J_HOST_CA=1
# (the default under CI), the host's locally added CAs (/usr/local/share/ca-certificates) are
# copied there for this build and removed afterwards. They are git-ignored either way.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

"$top/docker/make-base-image.sh"

cadir=docker/extra-ca-certificates
copied=()
cleanup() { ((${#copied[@]})) && rm -f "${copied[@]}"; return 0; }
trap cleanup EXIT
if [[ ${MEC4J_HOST_CA:-${CI:+1}} == 1 ]] && ! compgen -G "$cadir/*.crt" >/dev/null; then
  for f in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt; do
    [[ -f $f ]] || continue
    dst=$cadir/host-$(basename "$f")
    cp "$f" "$dst"
    copied+=("$dst")
    echo "build-image: trusting the host's CA $(basename "$f") for this build"
  done
fi

args=("$@")
((${#args[@]})) || args=(-t mec4j)
# The legacy builder works everywhere docker.io does (no buildx needed).
export DOCKER_BUILDKIT=${DOCKER_BUILDKIT:-0}
docker build "${args[@]}" "$top"
