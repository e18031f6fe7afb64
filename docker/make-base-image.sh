#!/usr/bin/env bash
# Makes sure the base image named by the Dockerfile's BASE_IMAGE argument exists locally.
#
#   docker/make-base-image.sh [IMAGE]
#
# 1. already present locally: nothing to do;
# 2. else `docker pull IMAGE` (Docker Hub);
# 3. else (no Docker Hub, e.g. behind a firewall) build it here: debootstrap --variant=minbase
#    of Debian bookworm piped into `docker import`, tagged IMAGE, trimmed like Debian's "-slim"
#    images (no man pages, docs or locales). Needs root and debootstrap (installed with apt-get
#    if missing). Mirror: DEBIAN_MIRROR (default http://deb.debian.org/debian).
#
# The imported image is not bit-identical to Docker Hub's, but it is the same Debian release with
# the same package set the build uses (every package the Dockerfile installs is version-pinned).
set -euo pipefail
cd "$(dirname "$0")/.."

image=${1:-$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile | head -n 1)}
[[ -n $image ]] || { echo "make-base-image: no ARG BASE_IMAGE=... in Dockerfile" >&2; exit 2; }
suite=bookworm
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-${mirror%/debian}/debian-security}

if docker image inspect "$image" >/dev/null 2>&1; then
  echo "make-base-image: $image is present"
  exit 0
fi
echo "make-base-image: trying docker pull $image"
if timeout "${PULL_TIMEOUT:-60}" docker pull "$image"; then
  exit 0
fi

echo "make-base-image: pull failed; building $image with debootstrap ($suite, minbase, $mirror)"
if ! command -v debootstrap >/dev/null 2>&1; then
  [[ $(id -u) == 0 ]] || { echo "make-base-image: install debootstrap (root needed)" >&2; exit 2; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi
[[ $(id -u) == 0 ]] || { echo "make-base-image: debootstrap needs root" >&2; exit 2; }

rootfs=$(mktemp -d /tmp/mec4j-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
# Like Debian's slim images: never unpack documentation, man pages or locales.
mkdir -p "$rootfs/etc/dpkg/dpkg.cfg.d"
cat > "$rootfs/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CFG'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CFG
debootstrap --variant=minbase --merged-usr "$suite" "$rootfs" "$mirror"

# The same apt sources as Debian's official image (deb822), including security updates.
rm -f "$rootfs/etc/apt/sources.list"
cat > "$rootfs/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: $mirror
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
# As in the official image: no recommends, no package caches kept in layers.
cat > "$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
APT::Install-Recommends "false";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Binary::apt::APT::Keep-Downloaded-Packages "false";
CFG
rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb \
       "$rootfs"/var/log/* "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/* \
       "$rootfs"/tmp/* 2>/dev/null || true
: > "$rootfs/etc/machine-id"
# The host's resolver and hostname must not end up in the image (docker mounts its own).
rm -f "$rootfs/etc/resolv.conf" "$rootfs/etc/hostname"

tar --numeric-owner --xattrs -C "$rootfs" -c . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --message "debootstrap --variant=minbase $suite $mirror (mec4j docker/make-base-image.sh)" \
    - "$image"
echo "make-base-image: imported $image ($(docker image inspect -f '{{.Size}}' "$image") bytes)"
