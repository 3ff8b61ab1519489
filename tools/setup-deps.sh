#!/usr/bin/env bash
# Installs every Debian package that txmsg needs to build, test, benchmark and
# package (cpack -G DEB uses file and dpkg-dev's dpkg-shlibdeps).
# Idempotent: when everything is present it only checks and returns (well under a second).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libboost-dev
  libprotobuf-dev protobuf-compiler
  libabsl-dev
  libsqlite3-dev sqlite3
  postgresql libpq-dev
  libgtest-dev libgmock-dev
  libbenchmark-dev
  libjemalloc-dev
  libssl-dev openssl
  curl
  file dpkg-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "setup-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# Installing a daemon (postgresql) must not start one: the tests start their
# own throwaway clusters. A policy-rc.d that answers 101 tells invoke-rc.d
# "not allowed"; an existing one (a container's) is left alone.
POLICY=/usr/sbin/policy-rc.d
OWN_POLICY=0
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
  $SUDO chmod 755 "$POLICY"
  OWN_POLICY=1
fi
trap 'if [ "$OWN_POLICY" = 1 ]; then $SUDO rm -f "$POLICY"; fi' EXIT
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "setup-deps: done"
