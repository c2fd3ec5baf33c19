#!/usr/bin/env bash
# Throwaway PostgreSQL cluster for local runs and tests.
#
#   postgres.sh install
#   postgres.sh start [--dir DIR] [--port PORT]   # last stdout line: connection URL
#   postgres.sh stop  [--dir DIR] [--now]         # --now: no shutdown checkpoint, for data thrown away
#
# Defaults: DIR=<repo>/.cache/postgres, PORT=54320. Data lives in DIR/data,
# the log in DIR/postgres.log, the unix socket in DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DIR="$ROOT/.cache/postgres"
PORT=54320
MODE=fast  # stop's: a clean shutdown; --now: immediate (a test session's cluster of 300 databases took 13 s)
DB=retail
PG_USER=postgres # OS user the server runs as when we are root

die() { echo "postgres.sh: $*" >&2; exit 1; }

# Newest /usr/lib/postgresql/*/bin first; pg_config may come from a libpq-dev
# whose version differs from the installed server, so it is only a fallback.
find_bindir() {
  local d dirs
  mapfile -t dirs < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV)
  dirs+=("$(pg_config --bindir 2>/dev/null || true)")
  for d in "${dirs[@]}"; do
    if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  done
  return 1
}

# initdb/pg_ctl refuse to run as root.
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u "$PG_USER" -- "$@")
  else
    "$@"
  fi
}

online_clusters() {
  command -v pg_lsclusters >/dev/null || return 0
  pg_lsclusters -h 2>/dev/null | awk '$4 == "online" {print $1, $2}'
}

cmd_install() {
  if find_bindir >/dev/null; then
    echo "postgresql already installed: $(find_bindir)"
    return 0
  fi
  local sudo=""
  [[ $EUID -eq 0 ]] || sudo=sudo
  local before after c
  before="$(online_clusters)"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y postgresql
  # The Debian package may create and start a system cluster (main, :5432);
  # stop only the ones our install just brought up.
  after="$(online_clusters)"
  while read -r c; do
    [[ -n "$c" ]] || continue
    grep -qxF "$c" <<<"$before" || { echo "stopping system cluster $c started by the install"; $sudo pg_ctlcluster $c stop; }
  done <<<"$after"
  find_bindir >/dev/null || die "initdb/pg_ctl still not found after install"
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --dir) DIR="${2:?--dir needs a value}"; shift 2 ;;
      --port) PORT="${2:?--port needs a value}"; shift 2 ;;
      --now) MODE=immediate; shift ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  DIR="$(realpath -m "$DIR")"
}

cmd_start() {
  parse_args "$@"
  local bin data="$DIR/data" log="$DIR/postgres.log"
  bin="$(find_bindir)" || die "postgresql not found; run: $0 install"

  mkdir -p "$DIR"
  if [[ $EUID -eq 0 ]]; then
    id -u "$PG_USER" >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$PG_USER"
    chown "$PG_USER:" "$DIR"
    chmod 700 "$DIR"
    as_pg test -w "$DIR" || die "$DIR is not reachable by user $PG_USER (check parent directory permissions)"
  fi

  if [[ ! -f "$data/PG_VERSION" ]]; then
    as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >"$DIR/initdb.log" 2>&1 \
      || { tail -n 30 "$DIR/initdb.log" >&2; die "initdb failed"; }
  fi

  if ! as_pg "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1; then
    if ! as_pg "$bin/pg_ctl" start -D "$data" -l "$log" -w -t 60 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k '$DIR' -c fsync=on" >/dev/null; then
      tail -n 30 "$log" >&2 || true
      die "server failed to start (log: $log)"
    fi
  fi

  local psql=("$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres)
  if [[ "$("${psql[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE $DB"
  fi
  echo "postgresql://postgres@127.0.0.1:$PORT/$DB"
}

cmd_stop() {
  parse_args "$@"
  local bin data="$DIR/data"
  bin="$(find_bindir)" || die "postgresql not found"
  [[ -f "$data/PG_VERSION" ]] || { echo "no cluster in $DIR"; return 0; }
  if as_pg "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" stop -D "$data" -m "$MODE" -w -t 60
  else
    echo "not running"
  fi
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) echo "usage: $0 install | start [--dir DIR] [--port PORT] | stop [--dir DIR] [--now]" >&2; exit 2 ;;
esac
