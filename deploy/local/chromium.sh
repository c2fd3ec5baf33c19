#!/usr/bin/env bash
# Installs Debian's chromium for the dashboard's browser tests (Playwright drives it; its own
# browser downloads are not used). Does nothing when it is already there.
#   chromium.sh install
set -euo pipefail
CHROMIUM=${RETAIL_CHROMIUM:-/usr/bin/chromium}

case "${1:-}" in
  install)
    if [[ -x $CHROMIUM ]]; then
      exit 0
    fi
    sudo=""
    [[ $EUID -eq 0 ]] || sudo=sudo
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y chromium
    [[ -x $CHROMIUM ]] || { echo "chromium.sh: $CHROMIUM still missing after the install" >&2; exit 1; }
    ;;
  *)
    echo "usage: chromium.sh install" >&2
    exit 2
    ;;
esac
