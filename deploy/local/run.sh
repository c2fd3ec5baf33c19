#!/usr/bin/env bash
# Runs the platform locally: a Kafka broker and its topics, then under honcho (deploy/local/Procfile)
# every service, a mail server, Prometheus with the repository's rules scraping every service, and
# demo traffic. Ctrl-C stops everything. Each process logs to $RETAIL_DATA_DIR/<name>.log as well as
# here. Data stays in .data/ between runs (delete it to start afresh). Run again while it runs, it
# says so and leaves the running platform alone.
# The broker is locked as in production (kafka.sh --secure): TLS, and each service signs in as its
# own Kafka user, allowed only its own topics (services/cli/acls.py).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo"
export RETAIL_DATA_DIR=${RETAIL_DATA_DIR:-$repo/.data}
data=$RETAIL_DATA_DIR
bin=$repo/.venv/bin
export PATH=$bin:$PATH
export RETAIL_KAFKA_DIR=$data/kafka-secure
kafka_port=${RETAIL_KAFKA_PORT:-9092}
export COMPLAINTS_DATABASE_URL=${COMPLAINTS_DATABASE_URL:-sqlite:///$data/complaints.db}
export SCHEDULING_DATABASE_URL=${SCHEDULING_DATABASE_URL:-sqlite:///$data/scheduling.db}
export NOTIFICATIONS_DATABASE_URL=${NOTIFICATIONS_DATABASE_URL:-sqlite:///$data/notifications.db}
export ESCALATION_BOARDS_DATABASE_URL=${ESCALATION_BOARDS_DATABASE_URL:-sqlite:///$data/escalation-boards.db}
export ESCALATION_DATA_DIR=${ESCALATION_DATA_DIR:-$data/escalation} ANALYTICS_DATA_DIR=${ANALYTICS_DATA_DIR:-$data/analytics}
export COMPLAINTS_URL=http://127.0.0.1:${COMPLAINTS_PORT:-8001} SCHEDULING_URL=http://127.0.0.1:${SCHEDULING_PORT:-8006}
export NOTIFICATIONS_SCHEDULING_URL=$SCHEDULING_URL NOTIFICATIONS_COMPLAINTS_URL=$COMPLAINTS_URL
export NOTIFICATIONS_SMTP_PORT=${NOTIFICATIONS_SMTP_PORT:-8025} PROMETHEUS_PORT=${PROMETHEUS_PORT:-9090}
export RETAIL_DEMO_RATE=${RETAIL_DEMO_RATE:-1}
webapp=http://127.0.0.1:${WEBAPP_PORT:-8010} boards=http://127.0.0.1:${ESCALATION_PORT:-8002}
# The web app calls the APIs as the signed-in person; the customers' survey links open its survey page.
export WEBAPP_COMPLAINTS_URL=$COMPLAINTS_URL WEBAPP_SCHEDULING_URL=$SCHEDULING_URL WEBAPP_BOARDS_URL=$boards
export WEBAPP_NOTIFICATIONS_URL=http://127.0.0.1:${NOTIFICATIONS_PORT:-8009}
export COMPLAINTS_SURVEY_URL=${COMPLAINTS_SURVEY_URL:-$webapp/survey}

mkdir -p "$data/prometheus/secrets"
exec 9>"$data/run.lock"
if ! flock -n 9; then
  echo "The platform is already running from $data: the staff web app is at $webapp/, Prometheus at" \
       "http://127.0.0.1:$PROMETHEUS_PORT/targets, the logs are in $data/*.log. Stop it with Ctrl-C where it runs."
  exit 0
fi

trap 'deploy/local/kafka.sh stop --dir "$RETAIL_KAFKA_DIR" 9>&-' EXIT
echo "starting Kafka on 127.0.0.1:$kafka_port ..."
export RETAIL_KAFKA_BOOTSTRAP_SERVERS
RETAIL_KAFKA_BOOTSTRAP_SERVERS=$(deploy/local/kafka.sh start --dir "$RETAIL_KAFKA_DIR" --port "$kafka_port" --secure 9>&- | tail -n 1)
(set -a; . "$RETAIL_KAFKA_DIR/secure/admin.env"; set +a; retail topics)

# Prometheus: the repository's configuration and rules, its targets here, and a scrape token of its own.
python - "$repo/deploy/prometheus" "$data/prometheus" <<'PY'
import os, sys, yaml
from pathlib import Path
source, target = Path(sys.argv[1]), Path(sys.argv[2])
ports = {"complaints": ("COMPLAINTS_PORT", 8001), "escalation": ("ESCALATION_WORKER_PORT", 8005),
         "escalation-boards": ("ESCALATION_PORT", 8002), "analytics": ("ANALYTICS_PORT", 8003),
         "analytics-reports": ("ANALYTICS_REPORTS_PORT", 8004), "scheduling": ("SCHEDULING_PORT", 8006),
         "scheduling-worker": ("SCHEDULING_WORKER_PORT", 8007), "complaints-worker": ("COMPLAINTS_WORKER_PORT", 8008),
         "notifications": ("NOTIFICATIONS_PORT", 8009)}
config = yaml.safe_load((source / "prometheus.yml").read_text())
config["rule_files"] = [str(source / rules) for rules in config["rule_files"]]
for job in config["scrape_configs"]:
    variable, port = ports[job["job_name"]]  # a job not named here is a service this script does not start
    job["static_configs"] = [{"targets": [f"127.0.0.1:{os.environ.get(variable, port)}"]}]
    job["authorization"]["credentials_file"] = str(target / job["authorization"]["credentials_file"])
(target / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
PY
scrape_token="retail token --role metrics --sub svc-prometheus --ttl-minutes 1440 --output $data/prometheus/secrets/scrape-token"
$scrape_token
export SCRAPE_TOKEN_COMMAND="$scrape_token --renew-hours 12"

cat <<TXT

The platform is starting with demo traffic ($RETAIL_DEMO_RATE interactions/s; each process's log in $data/<name>.log):
  staff web app   $webapp/  (sign in as any demo person; queue, filing, a complaint's timeline, the board)
  complaints API  $COMPLAINTS_URL/docs
  scheduling API  $SCHEDULING_URL/docs  (sites, staff, shifts, drafts, training, proposals, coaching; GET /v1/on-duty)
  scheduling      worker http://127.0.0.1:${SCHEDULING_WORKER_PORT:-8007}/readyz  (learns demand and complaints, proposes training)
  complaints      worker http://127.0.0.1:${COMPLAINTS_WORKER_PORT:-8008}/readyz  (whom each complaint is routed or raised to)
  escalation      worker http://127.0.0.1:${ESCALATION_WORKER_PORT:-8005}/readyz  (routing, pages and SLA tier moves)
  notifications   $WEBAPP_NOTIFICATIONS_URL/readyz  (pages by e-mail, kept in $data/mail/; acknowledge links)
  dashboard       $boards/  (regional coordinators' live board)
  analytics       http://127.0.0.1:${ANALYTICS_PORT:-8003}/metrics  (satisfaction and loss-prevention totals; ops token)
  reports         http://127.0.0.1:${ANALYTICS_REPORTS_PORT:-8004}/docs  (satisfaction, loss prevention, open signals; manager tokens)
  Prometheus      http://127.0.0.1:$PROMETHEUS_PORT/targets  (every service scraped; the repository's rules and alerts)
  Kafka           $RETAIL_KAFKA_BOOTSTRAP_SERVERS (SASL_SSL; each service's user in $RETAIL_KAFKA_DIR/secure/)
A store manager's token for hel-kamppi (region uusimaa):
  $(retail token --role store_manager --sub store-manager-hel-kamppi --region uusimaa --store hel-kamppi)
A regional coordinator's token for uusimaa (paste it into the dashboard):
  $(retail token --role regional_coordinator --sub rc-uusimaa-1 --region uusimaa)
An ops token for /metrics:
  $(retail token --role ops --sub ops-0001)
Press Ctrl-C to stop.

TXT
# honcho stops every process (SIGTERM, SIGKILL after 5 s) when one of them stops or when this script is
# interrupted (Ctrl-C) or terminated; Kafka stops last (the trap above).
honcho --no-colour -f deploy/local/Procfile -d "$repo" start 9>&- &
honcho=$!
trap 'kill -TERM $honcho 2>/dev/null || true' INT TERM
while kill -0 $honcho 2>/dev/null; do
  wait $honcho || true
done
