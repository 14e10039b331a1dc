#!/usr/bin/env bash
# Unpacks Prometheus from Debian's `prometheus` package into .cache/prometheus
# (git-ignored), for the test that runs the Grafana dashboard's queries against
# a real Prometheus. Idempotent: does nothing when .cache/prometheus/usr/bin/prometheus
# already exists. Only the package's files are extracted (`dpkg-deb -x`); no
# Debian service is installed or started. Needs apt-get and dpkg-deb; runs
# `apt-get update` (root, as in CI) only when the package index lacks it.
# Prints the binary's path on success.
set -euo pipefail
cd "$(dirname "$0")/.."

PROMETHEUS="$PWD/.cache/prometheus/usr/bin/prometheus"

if [ -x "$PROMETHEUS" ]; then
  echo "$PROMETHEUS"
  exit 0
fi

for tool in apt-get apt-cache dpkg-deb; do
  if ! command -v "$tool" >/dev/null; then
    echo "install-prometheus: $tool is not available; this script needs a Debian-based machine (or put a prometheus binary at $PROMETHEUS yourself)" >&2
    exit 1
  fi
done

if ! apt-cache show prometheus >/dev/null 2>&1; then
  echo "== the package index has no 'prometheus'; running apt-get update" >&2
  if ! apt-get update -qq >&2; then
    echo "install-prometheus: apt-get update failed; run it as root (CI does), then try again" >&2
    exit 1
  fi
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== downloading Debian's prometheus package into .cache/prometheus (first run only)" >&2
# apt-get download writes into the current directory and needs no root. As root,
# apt would hand the download to its sandbox user, who cannot write to a private
# temp dir; there is nothing to sandbox for a file we only unpack.
sandbox=()
if [ "$(id -u)" = 0 ]; then sandbox=(-o APT::Sandbox::User=root); fi
(cd "$work" && apt-get download -qq "${sandbox[@]}" prometheus >&2)
deb=$(find "$work" -maxdepth 1 -name 'prometheus_*.deb' | head -n 1)
if [ -z "$deb" ]; then
  echo "install-prometheus: apt-get download prometheus produced no .deb in $work" >&2
  exit 1
fi

# Unpack beside the final place, then move it in whole: an interrupted run
# never leaves a half-extracted tree that the check above would accept.
mkdir -p .cache
rm -rf .cache/prometheus.partial
dpkg-deb -x "$deb" .cache/prometheus.partial
if ! .cache/prometheus.partial/usr/bin/prometheus --version >&2; then
  echo "install-prometheus: the unpacked binary does not run ($deb)" >&2
  rm -rf .cache/prometheus.partial
  exit 1
fi
rm -rf .cache/prometheus
mv .cache/prometheus.partial .cache/prometheus
echo "$PROMETHEUS"
