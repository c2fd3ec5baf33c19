#!/usr/bin/env bash
# Builds Helm from the Go module proxy into .cache/bin/helm, once (the chart's tests render with it).
# Go's caches (module cache, build cache) live in .cache/go/ too, so nothing lands outside the repository.
#   helm.sh install    # prints nothing when the wanted version is already there
#   helm.sh path       # the helm binary
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELM_VERSION=${HELM_VERSION:-v3.22.0}
GO=${GO:-/usr/local/go/bin/go}
# What Helm's own Makefile stamps in: its version, and the Kubernetes version of its client-go (v0.37 for
# v3.22.0) that `helm template` and `helm lint` assume; without them they would claim Kubernetes 1.20.
KUBE_MINOR=${HELM_KUBE_MINOR:-37}
BIN="$ROOT/.cache/bin"
HELM="$BIN/helm"

case "${1:-}" in
  install)
    if [[ -x $HELM ]] && "$HELM" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
      exit 0
    fi
    [[ -x $GO ]] || command -v "$GO" >/dev/null || { echo "helm.sh: no Go toolchain at $GO (set GO)" >&2; exit 1; }
    echo "building helm $HELM_VERSION from the Go module proxy (a few minutes) ..."
    mkdir -p "$BIN" "$ROOT/.cache/go/tmp"
    # Go's progress (a line per module downloaded) only on failure.
    out=$(GOBIN="$BIN" GOPATH="$ROOT/.cache/go" GOMODCACHE="$ROOT/.cache/go/mod" GOCACHE="$ROOT/.cache/go/build" \
      GOTMPDIR="$ROOT/.cache/go/tmp" GOFLAGS="-modcacherw -buildvcs=false" CGO_ENABLED=0 \
      "$GO" install -ldflags "-w -s -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
        -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$KUBE_MINOR \
        -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$KUBE_MINOR" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" 2>&1) || { echo "$out" >&2; exit 1; }
    "$HELM" version --short
    ;;
  path)
    echo "$HELM"
    ;;
  *)
    echo "usage: helm.sh install|path" >&2
    exit 2
    ;;
esac
