#!/usr/bin/env bash
# One process of `make run` (deploy/local/Procfile):
#   proc.sh NAME [--user KAFKA_USER] [--after URL]... -- COMMAND...
# waits until each URL answers (a service it needs has migrated its store), signs in to Kafka as
# KAFKA_USER (its settings and password from $RETAIL_KAFKA_DIR/secure/KAFKA_USER.env), and becomes
# COMMAND, its output appended to $RETAIL_DATA_DIR/NAME.log and shown by honcho.
set -euo pipefail
name=$1
shift
user="" after=()
while [[ $# -gt 0 && $1 != -- ]]; do
  case $1 in
    --user) user=$2; shift 2 ;;
    --after) after+=("$2"); shift 2 ;;
    *) echo "proc.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
shift
for url in "${after[@]}"; do
  for attempt in $(seq 240); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && break
    [[ $attempt -lt 240 ]] || { echo "proc.sh: $url did not answer in 2 minutes" >&2; exit 1; }
    sleep 0.5
  done
done
if [[ -n $user ]]; then
  set -a
  . "$RETAIL_KAFKA_DIR/secure/$user.env"
  set +a
fi
# tee outlives the stop signal, which reaches the whole process group, to write the command's last words.
exec "$@" > >(trap '' INT TERM; exec tee -a "$RETAIL_DATA_DIR/$name.log") 2>&1
