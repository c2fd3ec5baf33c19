#!/usr/bin/env bash
# Runs the platform locally: a Kafka broker, its topics, every service built so far, and demo traffic.
# Ctrl-C stops everything. Data stays in .data/ between runs (delete it to start afresh).
# The broker is locked as in production (kafka.sh --secure): TLS, and each service signs in as its
# own Kafka user, allowed only its own topics (services/cli/acls.py).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
data=${RETAIL_DATA_DIR:-$repo/.data}
kafka_port=${RETAIL_KAFKA_PORT:-9092}
bin=$repo/.venv/bin
kafka_dir=$data/kafka-secure
export COMPLAINTS_DATABASE_URL=${COMPLAINTS_DATABASE_URL:-sqlite:///$data/complaints.db}
complaints=http://127.0.0.1:${COMPLAINTS_PORT:-8001}
export SCHEDULING_DATABASE_URL=${SCHEDULING_DATABASE_URL:-sqlite:///$data/scheduling.db}
scheduling=http://127.0.0.1:${SCHEDULING_PORT:-8006}
export NOTIFICATIONS_DATABASE_URL=${NOTIFICATIONS_DATABASE_URL:-sqlite:///$data/notifications.db}
export NOTIFICATIONS_SCHEDULING_URL=$scheduling NOTIFICATIONS_COMPLAINTS_URL=$complaints
# The customers' survey links open the web app's survey page.
export COMPLAINTS_SURVEY_URL=${COMPLAINTS_SURVEY_URL:-http://127.0.0.1:${WEBAPP_PORT:-8010}/survey}

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
  deploy/local/kafka.sh stop --dir "$kafka_dir"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

echo "starting Kafka on 127.0.0.1:$kafka_port ..."
export RETAIL_KAFKA_BOOTSTRAP_SERVERS
RETAIL_KAFKA_BOOTSTRAP_SERVERS=$(deploy/local/kafka.sh start --dir "$kafka_dir" --port "$kafka_port" --secure | tail -n 1)
# Becomes the command, run as the named Kafka user (its RETAIL_KAFKA_* settings and password): call
# it in a subshell of its own, so that a background one's $! is the command's pid.
as_user() { set -a; . "$kafka_dir/secure/$1.env"; set +a; shift; exec "$@"; }
(as_user admin "$bin/retail" topics)

start() {  # start USER LOG COMMAND...: a service in a session of its own (Ctrl-C reaches only this script)
  local user=$1 log=$2
  shift 2
  as_user "$user" setsid "$@" >>"$data/$log.log" 2>&1 &
  services+=($!)
}
start complaints complaints "$bin/python" -m services.complaints
ESCALATION_DATA_DIR=$data/escalation start escalation escalation "$bin/python" -m services.escalation
start boards escalation-boards "$bin/python" -m services.escalation.boards
ANALYTICS_DATA_DIR=$data/analytics start analytics analytics "$bin/python" -m services.analytics
start reports analytics-reports "$bin/python" -m services.analytics.reports
start scheduling scheduling "$bin/python" -m services.scheduling

"$bin/python" - "$complaints/readyz" "$scheduling/readyz" <<'PY'
import sys, time, urllib.request
deadline = time.monotonic() + 60
for url in sys.argv[1:]:
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except Exception as error:  # not up or not ready yet
            if time.monotonic() > deadline:
                sys.exit(f"{url} not ready after 60 s: {error}")
            time.sleep(0.5)
PY
start scheduling_worker scheduling-worker "$bin/python" -m services.scheduling.worker  # once the API has migrated the store
start complaints_worker complaints-worker "$bin/python" -m services.complaints.worker  # likewise
# No mail server runs here: a local SMTP server (aiosmtpd) keeps the pages in $data/mail/, a Maildir any mail reader opens.
setsid "$bin/python" -m aiosmtpd -n -l "127.0.0.1:${NOTIFICATIONS_SMTP_PORT:-8025}" -c aiosmtpd.handlers.Mailbox "$data/mail" \
  >>"$data/smtp.log" 2>&1 &
services+=($!)
start notifications notifications "$bin/python" -m services.notifications  # looks recipients up in the scheduling API
# The staff web app calls the APIs as the signed-in person: no Kafka user.
WEBAPP_COMPLAINTS_URL=$complaints WEBAPP_SCHEDULING_URL=$scheduling \
  WEBAPP_NOTIFICATIONS_URL=http://127.0.0.1:${NOTIFICATIONS_PORT:-8009} WEBAPP_BOARDS_URL=http://127.0.0.1:${ESCALATION_PORT:-8002} \
  setsid "$bin/python" -m services.webapp >>"$data/webapp.log" 2>&1 &
services+=($!)

# The demo only calls the APIs (it schedules the staff through the scheduling service): no Kafka user.
setsid "$bin/retail" demo --url "$complaints" --scheduling-url "$scheduling" --rate "${RETAIL_DEMO_RATE:-1}" \
  --duration 0 >>"$data/demo.log" 2>&1 &
services+=($!)

cat <<TXT

The platform is running with demo traffic (${RETAIL_DEMO_RATE:-1} interactions/s; logs in $data/*.log):
  staff web app   http://127.0.0.1:${WEBAPP_PORT:-8010}/  (sign in as any demo person; queue, filing, a complaint's timeline)
  complaints API  $complaints/docs
  scheduling API  $scheduling/docs  (sites, staff, shifts, drafts, training, proposals, coaching; GET /v1/on-duty)
  scheduling      worker http://127.0.0.1:${SCHEDULING_WORKER_PORT:-8007}/readyz  (learns demand and complaints, proposes training)
  complaints      worker http://127.0.0.1:${COMPLAINTS_WORKER_PORT:-8008}/readyz  (whom each complaint is routed or raised to)
  escalation      routing, pages and SLA tier moves on the escalations topic
  notifications   http://127.0.0.1:${NOTIFICATIONS_PORT:-8009}/readyz  (pages by e-mail, kept in $data/mail/; acknowledge links)
  dashboard       http://127.0.0.1:${ESCALATION_PORT:-8002}/  (regional coordinators' live board)
  analytics       http://127.0.0.1:${ANALYTICS_PORT:-8003}/metrics  (satisfaction and loss-prevention totals; ops token)
  reports         http://127.0.0.1:${ANALYTICS_REPORTS_PORT:-8004}/docs  (satisfaction, loss prevention, open signals; manager tokens)
  Kafka           $RETAIL_KAFKA_BOOTSTRAP_SERVERS (SASL_SSL; each service's user in $kafka_dir/secure/)
A store manager's token for hel-kamppi (region uusimaa):
  $("$bin/retail" token --role store_manager --sub store-manager-hel-kamppi --region uusimaa --store hel-kamppi)
A regional coordinator's token for uusimaa (paste it into the dashboard):
  $("$bin/retail" token --role regional_coordinator --sub rc-uusimaa-1 --region uusimaa)
An ops token for /metrics:
  $("$bin/retail" token --role ops --sub ops-0001)
Press Ctrl-C to stop.
TXT
wait -n "${services[@]}"
