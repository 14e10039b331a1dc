#!/usr/bin/env bash
# Lints and renders the Helm chart with its default values and with every
# optional feature switched on (helm/tally/ci/all-features-values.yaml).
# Exits non-zero, naming the step, on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

CHART=helm/tally
ALL_FEATURES=$CHART/ci/all-features-values.yaml
HELM=.cache/bin/helm

fail() {
  echo "helm-check: FAILED: $1" >&2
  exit 1
}

./.ci/install-helm.sh || fail "could not install helm (see .ci/install-helm.sh)"

echo "== helm lint $CHART (default values, then all features)"
"$HELM" lint --strict "$CHART" || fail "helm lint with default values"
"$HELM" lint --strict "$CHART" -f "$ALL_FEATURES" || fail "helm lint with $ALL_FEATURES"

echo "== helm template $CHART (default values, then all features)"
"$HELM" template tally "$CHART" >/dev/null || fail "helm template with default values"
"$HELM" template tally "$CHART" -f "$ALL_FEATURES" >/dev/null || fail "helm template with $ALL_FEATURES"

echo "== helm chart OK"
