#!/usr/bin/env bash
# Installs the Debian packages the tests use beside Kafka and PostgreSQL, when they are missing:
# chromium (the dashboard's browser tests; Playwright's own browser downloads are not used) and
# prometheus (a real Prometheus and promtool for the metrics and rules checks).
#   packages.sh install [PACKAGE]...      (all of them unless named; make run needs only prometheus)
set -euo pipefail

declare -A NEEDED=([chromium]=/usr/bin/chromium [prometheus]=/usr/bin/promtool)

case "${1:-}" in
  install)
    shift
    missing=() wanted=("$@")
    [[ ${#wanted[@]} -gt 0 ]] || wanted=("${!NEEDED[@]}")
    for package in "${wanted[@]}"; do
      [[ -n ${NEEDED[$package]:-} ]] || { echo "packages.sh: unknown package $package" >&2; exit 2; }
      [[ -x ${NEEDED[$package]} ]] || missing+=("$package")
    done
    [[ ${#missing[@]} -gt 0 ]] || exit 0
    sudo=""
    [[ $EUID -eq 0 ]] || sudo=sudo
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y "${missing[@]}"
    for package in "${missing[@]}"; do
      [[ -x ${NEEDED[$package]} ]] || { echo "packages.sh: ${NEEDED[$package]} still missing after installing $package" >&2; exit 1; }
    done
    ;;
  *)
    echo "usage: packages.sh install" >&2
    exit 2
    ;;
esac
