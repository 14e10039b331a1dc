#!/usr/bin/env bash
# Builds helm (for `helm lint` / `helm template` in CI and tests) from the Go
# module proxy into .cache/bin/helm. Idempotent: does nothing when that binary
# already reports the pinned version. Needs only Go; everything it downloads
# or builds stays under .cache/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.22.0
# The Kubernetes version helm's own Makefile stamps into this release (its
# client-go v0.37 → 1.37); without it `helm template` assumes Kubernetes 1.20.
HELM_KUBE_MAJOR=1
HELM_KUBE_MINOR=37
HELM="$PWD/.cache/bin/helm"

if [ -x "$HELM" ] && "$HELM" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  exit 0
fi

if ! command -v go >/dev/null; then
  echo "install-helm: Go is not installed; install Go (1.24 or later) so helm $HELM_VERSION can be built from the module proxy" >&2
  exit 1
fi

# The same -X stamps as helm's Makefile: a plain module build reports only
# "v3.22" and assumes Kubernetes 1.20.
ldflags="-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
for pkg in pkg/lint/rules pkg/chartutil; do
  ldflags+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=$HELM_KUBE_MAJOR -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$HELM_KUBE_MINOR"
done

echo "== building helm $HELM_VERSION from the Go module proxy into .cache/bin (first run only)" >&2
mkdir -p .cache/bin
GOBIN="$PWD/.cache/bin" GOMODCACHE="$PWD/.cache/go/mod" GOCACHE="$PWD/.cache/go/build" GOFLAGS=-mod=mod \
  go install -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"

actual=$("$HELM" version --template '{{.Version}}')
if [ "$actual" != "$HELM_VERSION" ]; then
  echo "install-helm: built helm reports $actual, expected $HELM_VERSION" >&2
  exit 1
fi
