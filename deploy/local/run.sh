#!/usr/bin/env bash
# Runs the platform locally: a Kafka broker, its topics, every service built so far, and demo traffic.
# Ctrl-C stops everything. Data stays in .data/ between runs (delete it to start afresh).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
data=${RETAIL_DATA_DIR:-$repo/.data}
kafka_port=${RETAIL_KAFKA_PORT:-9092}
bin=$repo/.venv/bin
export RETAIL_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$kafka_port
export COMPLAINTS_DATABASE_URL=${COMPLAINTS_DATABASE_URL:-sqlite:///$data/complaints.db}
complaints=http://127.0.0.1:${COMPLAINTS_PORT:-8001}

services=()
stop_all() {
  trap - EXIT INT TERM
  if [[ ${#services[@]} -gt 0 ]]; then
    kill "${services[@]}" 2>/dev/null || true
    # Kafka goes last: a worker's shutdown commits its offsets and flushes its changelogs, and one
    # whose broker vanished meanwhile can hang. What has not stopped in 30 s is killed.
    for _ in $(seq 150); do
      alive=$(for pid in "${services[@]}"; do ! kill -0 "$pid" 2>/dev/null || echo "$pid"; done)
      [[ -z $alive ]] && break
      sleep 0.2
    done
    [[ -z ${alive:-} ]] || kill -9 $alive 2>/dev/null || true
  fi
  deploy/local/kafka.sh stop --dir "$data/kafka"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

echo "starting Kafka on $RETAIL_KAFKA_BOOTSTRAP_SERVERS ..."
deploy/local/kafka.sh start --dir "$data/kafka" --port "$kafka_port" >/dev/null
"$bin/retail" topics

setsid "$bin/python" -m services.complaints >>"$data/complaints.log" 2>&1 &
services+=($!)
ESCALATION_DATA_DIR=$data/escalation setsid "$bin/python" -m services.escalation >>"$data/escalation.log" 2>&1 &
services+=($!)
setsid "$bin/python" -m services.escalation.boards >>"$data/escalation-boards.log" 2>&1 &
services+=($!)
ANALYTICS_DATA_DIR=$data/analytics setsid "$bin/python" -m services.analytics >>"$data/analytics.log" 2>&1 &
services+=($!)
setsid "$bin/python" -m services.analytics.reports >>"$data/analytics-reports.log" 2>&1 &
services+=($!)

"$bin/python" - "$complaints/readyz" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 60
while True:
    try:
        urllib.request.urlopen(sys.argv[1], timeout=2)
        break
    except Exception as error:  # not up or not ready yet
        if time.monotonic() > deadline:
            sys.exit(f"{sys.argv[1]} not ready after 60 s: {error}")
        time.sleep(0.5)
PY

setsid "$bin/retail" demo --url "$complaints" --rate "${RETAIL_DEMO_RATE:-1}" --duration 0 >"$data/demo.log" 2>&1 &
services+=($!)

cat <<TXT

The platform is running with demo traffic (${RETAIL_DEMO_RATE:-1} interactions/s; logs in $data/*.log):
  complaints API  $complaints/docs
  escalation      routing, pages and SLA tier moves on the escalations topic
  dashboard       http://127.0.0.1:${ESCALATION_PORT:-8002}/  (regional coordinators' live board)
  analytics       http://127.0.0.1:${ANALYTICS_PORT:-8003}/metrics  (satisfaction and loss-prevention totals; ops token)
  reports         http://127.0.0.1:${ANALYTICS_REPORTS_PORT:-8004}/docs  (satisfaction, loss prevention, open signals; manager tokens)
  Kafka           $RETAIL_KAFKA_BOOTSTRAP_SERVERS
A store manager's token for hel-kamppi (region uusimaa):
  $("$bin/retail" token --role store_manager --sub mgr-0007 --region uusimaa --store hel-kamppi)
A regional coordinator's token for uusimaa (paste it into the dashboard):
  $("$bin/retail" token --role regional_coordinator --sub rc-uusimaa-1 --region uusimaa)
An ops token for /metrics:
  $("$bin/retail" token --role ops --sub ops-0001)
Press Ctrl-C to stop.
TXT
wait -n "${services[@]}"
