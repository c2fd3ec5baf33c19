#!/usr/bin/env bash
# Local Apache Kafka (KRaft, no ZooKeeper) run from Maven Central's jars, for development and tests.
#
#   kafka.sh fetch                                        download the jars once (Maven)
#   kafka.sh start --dir DIR --port PORT [--nodes 1|3] [--secure] [--property KEY=VALUE]...
#                                                         start; last stdout line = bootstrap servers
#   kafka.sh stop --dir DIR [--now]                       stop every node started in DIR (--now: SIGKILL,
#                                                         for a cluster whose data is thrown away)
#   kafka.sh status --dir DIR                             list nodes; exit 0 only if all run
#   kafka.sh tls --dir DIR --host NAME...                 a CA and a broker certificate for NAMEs
#   kafka.sh tool NAME [ARG]...                           one of Kafka's own tools: console-consumer,
#                                                         console-producer, consumer-groups, get-offsets, topics
#
# --secure locks the brokers: clients connect with SASL_SSL (SCRAM-SHA-512, TLS with a CA made for
# DIR), each service as its own user with the Kafka ACLs of `python -m services.cli acls` (the
# StandardAuthorizer, nothing allowed without an ACL). The users are created when the storage is
# formatted: `admin` (super user) and one per service, see USERS. The brokers talk to each other
# and to the controllers over TLS with client certificates (the super user CN=broker); every
# listener is on 127.0.0.1. A DIR is locked or not for good: formatted one way, it starts that way.
# --property adds a broker setting to every node's server.properties (given last, it wins), such as
# connections.max.idle.ms=5000 for a benchmark that needs idle connections closed quickly.
# Env: KAFKA_VERSION (4.1.1), RETAIL_CACHE_DIR (<repo>/.cache), KAFKA_HEAP_OPTS,
#      KAFKA_START_TIMEOUT (seconds, 120), JAVA_HOME (optional; Java 17+),
#      RETAIL_PYTHON (<repo>/.venv/bin/python, which applies the ACLs with --secure).
# DIR layout: node-<id>.pid, node-<id>.log (stdout/stderr: warnings, JVM errors), bootstrap,
#             cluster (id and node count), node-<id>/{server.properties,server.log,data/};
#             with --secure, secure/ (mode 700): ca.pem (what clients trust), <user>.env for each
#             user (RETAIL_KAFKA_* settings with its password, to source), ca.key, broker.pem.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
version=${KAFKA_VERSION:-4.1.1}
cache=${RETAIL_CACHE_DIR:-$repo/.cache}
libs=$cache/kafka/$version/libs
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
log4j_conf=$here/kafka/log4j2.properties
python=${RETAIL_PYTHON:-$repo/.venv/bin/python}

die() { echo "kafka.sh: $*" >&2; exit 1; }
usage() { { echo usage:; sed -n '4,11p' "$0" | sed 's/^# //'; } >&2; exit 2; }
# The services' Kafka users: each may do only what services/cli/acls.py grants it.
USERS=(complaints escalation boards analytics reports scheduling scheduling_worker complaints_worker notifications)

fetch() {
  local stamp=$cache/kafka/$version/.fetched want
  want="$version $(sha256sum <"$here/kafka/pom.xml")"
  [[ -f $stamp && $(<"$stamp") == "$want" ]] && return 0
  mkdir -p "$cache/kafka/$version"
  # The lock lets parallel test runs share one download; the subshell keeps fd 9 away from brokers.
  (
    flock 9
    [[ -f $stamp && $(<"$stamp") == "$want" ]] && exit 0
    echo "kafka.sh: fetching Kafka $version jars with Maven into $libs" >&2
    rm -rf "$libs.tmp"
    # Output only on failure: Debian's Maven 3.8 prints stray colour codes even with -B -q.
    out=$(mvn -B -q -f "$here/kafka/pom.xml" -Dmaven.repo.local="$cache/m2" \
      -Dkafka.version="$version" dependency:copy-dependencies -DincludeScope=runtime \
      -DoutputDirectory="$libs.tmp" 2>&1) || { echo "$out" >&2; exit 1; }
    rm -rf "$libs"
    mv "$libs.tmp" "$libs"
    echo "$want" >"$stamp"
  ) 9>"$cache/kafka/$version/.lock"
}

# A CA (ca.pem, ca.key) and the brokers' key and certificate (broker.pem: CN=broker, for 127.0.0.1 and
# the host names given, for serving and as the brokers' own client certificate), made once in $1.
tls() {
  local out=$1 ext
  shift
  [[ -f $out/broker.pem ]] && return 0
  mkdir -p "$out"
  ext="subjectAltName=IP:127.0.0.1$(printf ',DNS:%s' "$@")"$'\n'"extendedKeyUsage=serverAuth,clientAuth"
  (
    set -e
    cd "$out"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=retail-care Kafka CA" \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
      -keyout ca.key -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj /CN=broker -keyout broker.key -out broker.csr
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile <(echo "$ext") -out broker.crt
    cat broker.key broker.crt >broker.pem.tmp
    chmod 600 ca.key broker.pem.tmp
    mv broker.pem.tmp broker.pem
    rm broker.key broker.csr broker.crt ca.srl
  ) >/dev/null 2>"$out/openssl.log" || die "making certificates failed: $(cat "$out/openssl.log")"
  rm -f "$out/openssl.log"
}

# Each user's password, made once, in <user>.env with the client settings of the locked brokers.
credentials() {
  local secrets=$1 user
  for user in admin "${USERS[@]}"; do
    [[ -f $secrets/$user.env ]] && continue
    (
      umask 077
      printf '%s\n' RETAIL_KAFKA_SECURITY_PROTOCOL=SASL_SSL "RETAIL_KAFKA_SASL_USERNAME=$user" \
        "RETAIL_KAFKA_SASL_PASSWORD=$(openssl rand -hex 24)" "RETAIL_KAFKA_SSL_CA_FILE=$secrets/ca.pem" \
        >"$secrets/$user.env.tmp"
    )
    mv "$secrets/$user.env.tmp" "$secrets/$user.env"
  done
}

password() { sed -n 's/^RETAIL_KAFKA_SASL_PASSWORD=//p' "$1"; }

# True if $1 is a live kafka.Kafka process (guards against reused pids and zombies). Under load a read of
# its command line now and then comes back without it (seen in CI: a starting node taken for exited while
# its pid still ran Kafka), so a "no" is asked twice more before it counts.
is_kafka() {
  local try
  for try in 1 2 3; do
    [[ $(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") == *kafka.Kafka* ]] && return 0
    ((try == 3)) || sleep 0.2
  done
  return 1
}

parse_args() {
  dir='' port='' nodes=1 secure=0 now=0 hosts=() properties=()
  while (($#)); do
    case $1 in
      --dir) dir=${2-}; shift 2 || usage ;;
      --port) port=${2-}; shift 2 || usage ;;
      --nodes) nodes=${2-}; shift 2 || usage ;;
      --secure) secure=1; shift ;;
      --now) now=1; shift ;;
      --host) hosts+=("${2-}"); shift 2 || usage ;;
      --property) [[ ${2-} == ?*=* ]] || usage; properties+=("$2"); shift 2 ;;
      *) usage ;;
    esac
  done
  [[ -n $dir ]] || usage
}

stop() {
  local f pid pids=() alive signal=TERM
  ((!now)) || signal=KILL  # for data thrown away: a test session's broker took up to 30 s to stop cleanly
  for f in "$dir"/node-*.pid; do
    [[ -e $f ]] || continue
    pid=$(<"$f")
    if is_kafka "$pid"; then kill "-$signal" "$pid" && pids+=("$pid"); fi
  done
  # Up to 30 s for a clean shutdown (it keeps the restart free of log recovery), then SIGKILL. By the
  # clock, forgetting nodes once stopped: a stopped node costs is_kafka 0.4 s a look, and counting
  # 300 looks kept a node of a cluster that had lost its quorum waiting 150 s.
  local deadline=$((SECONDS + 30))
  while ((${#pids[@]})) && ((SECONDS < deadline)); do
    alive=()
    for pid in "${pids[@]}"; do is_kafka "$pid" && alive+=("$pid"); done
    pids=("${alive[@]}")
    ((${#pids[@]})) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    is_kafka "$pid" || continue
    echo "kafka.sh: pid $pid did not stop within 30 s; killing it" >&2
    kill -KILL "$pid"
    while is_kafka "$pid"; do sleep 0.1; done
  done
  rm -f "$dir"/node-*.pid
}

status() {
  local f pid rc=0
  for f in "$dir"/node-*.pid; do
    [[ -e $f ]] || { echo "not running"; return 1; }
    pid=$(<"$f")
    if is_kafka "$pid"; then echo "$(basename "$f" .pid): running (pid $pid)"
    else echo "$(basename "$f" .pid): not running"; rc=1; fi
  done
  ((rc == 0)) && [[ -f $dir/bootstrap ]] && cat "$dir/bootstrap"
  return $rc
}

# Print the tail of every node's logs to stderr, stop what was started, and fail.
fail() {
  local nd
  echo "kafka.sh: $*" >&2
  for nd in "$dir"/node-*/; do
    nd=${nd%/}
    echo "--- last 40 lines of $nd/server.log" >&2
    tail -n 40 "$nd/server.log" >&2 2>/dev/null || true
    if [[ -s $nd.log ]]; then echo "--- last 40 lines of $nd.log" >&2; tail -n 40 "$nd.log" >&2; fi
  done
  stop
  exit 1
}

start() {
  [[ $port =~ ^[0-9]+$ ]] || usage
  [[ $nodes == 1 || $nodes == 3 ]] || die "--nodes must be 1 or 3"
  fetch
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local f
  for f in "$dir"/node-*.pid; do
    [[ -e $f ]] && is_kafka "$(<"$f")" && die "Kafka is already running in $dir (stop it first)"
  done

  local cid n i nd internal rf=$((nodes == 1 ? 1 : 3)) isr=$((nodes == 1 ? 1 : 2))
  if [[ -f $dir/cluster ]]; then
    read -r cid n <"$dir/cluster"
    [[ $n == "$nodes" ]] || die "$dir holds a $n-node cluster, not $nodes"
    if [[ -d $dir/secure ]] && ((!secure)); then die "$dir holds a locked cluster: start it with --secure"; fi
    if [[ ! -d $dir/secure ]] && ((secure)); then die "$dir holds an open cluster: --secure needs a new DIR"; fi
  else
    # A cluster id as `StorageTool random-uuid` makes one (16 random bytes, URL-safe base64 without
    # padding, not starting with "-"), without a JVM of its own: 0.9 s less for each new cluster.
    cid=$(python3 -c '
import base64, os
while (cid := base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()).startswith("-"):
    pass
print(cid)')
    echo "$cid $nodes" >"$dir/cluster"
  fi
  local secrets=$dir/secure scram=() user
  if ((secure)); then
    mkdir -p "$secrets"
    chmod 700 "$secrets"
    tls "$secrets" localhost
    credentials "$secrets"
    for user in admin "${USERS[@]}"; do
      scram+=(--add-scram "SCRAM-SHA-512=[name=$user,password=$(password "$secrets/$user.env")]")
    done
  fi

  # Controller ports (and, locked, the brokers' own ports) are picked afresh on each start: with
  # static voters they live only in config.
  local cports voters='' bootstrap=''
  read -r -a cports <<<"$(python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))' $((nodes * (1 + secure))))"
  for ((i = 1; i <= nodes; i++)); do
    voters+=${voters:+,}$i@127.0.0.1:${cports[i - 1]}
    bootstrap+=${bootstrap:+,}127.0.0.1:$((port + i - 1))
  done

  local heap
  heap=${KAFKA_HEAP_OPTS:-$( ((nodes == 1)) && echo -Xms128m -Xmx512m || echo -Xms128m -Xmx384m)}
  read -r -a heap <<<"$heap"
  local -a offsets formats
  for ((i = 1; i <= nodes; i++)); do
    nd=$dir/node-$i
    mkdir -p "$nd"
    if ((secure)); then
      internal=${cports[nodes + i - 1]}
      cat >"$nd/server.properties" <<EOF
listeners=CLIENT://127.0.0.1:$((port + i - 1)),INTERNAL://127.0.0.1:$internal,CONTROLLER://127.0.0.1:${cports[i - 1]}
advertised.listeners=CLIENT://127.0.0.1:$((port + i - 1)),INTERNAL://127.0.0.1:$internal
listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL
inter.broker.listener.name=INTERNAL
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.client.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$secrets/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$secrets/ca.pem
listener.name.internal.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:admin;User:CN=broker
EOF
    else
      cat >"$nd/server.properties" <<EOF
listeners=PLAINTEXT://127.0.0.1:$((port + i - 1)),CONTROLLER://127.0.0.1:${cports[i - 1]}
advertised.listeners=PLAINTEXT://127.0.0.1:$((port + i - 1))
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
EOF
    fi
    cat >>"$nd/server.properties" <<EOF
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
controller.listener.names=CONTROLLER
log.dirs=$nd/data
num.partitions=1
default.replication.factor=$rf
min.insync.replicas=$isr
auto.create.topics.enable=false
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
offsets.topic.num.partitions=5
offsets.topic.replication.factor=$rf
transaction.state.log.num.partitions=5
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$isr
share.coordinator.state.topic.num.partitions=5
share.coordinator.state.topic.replication.factor=$rf
share.coordinator.state.topic.min.isr=$isr
# The default 128 MiB compaction buffer is a large share of a small heap.
log.cleaner.dedupe.buffer.size=33554432
EOF
    ((${#properties[@]} == 0)) || printf '%s\n' "${properties[@]}" >>"$nd/server.properties"
    # Formats run in parallel; -g makes formatting a formatted node a no-op, skipping it saves a JVM.
    if [[ ! -f $nd/data/meta.properties ]]; then
      "$java" -Dlog4j2.configurationFile="$log4j_conf" -Dkafka.logs.dir="$nd" -cp "$libs/*" \
        kafka.tools.StorageTool format -g -t "$cid" -c "$nd/server.properties" "${scram[@]}" >>"$nd.log" 2>&1 &
      formats[i]=$!
    fi
  done
  for i in "${!formats[@]}"; do wait "${formats[i]}" || fail "formatting node $i failed"; done

  for ((i = 1; i <= nodes; i++)); do
    nd=$dir/node-$i
    offsets[i]=$(stat -c %s "$nd/server.log" 2>/dev/null || echo 0)
    # log4j's own shutdown hook would stop logging before Kafka's hook has logged its shutdown.
    # A session of its own: a Ctrl-C at the terminal reaches whoever started it, who stops the
    # clients first and then the broker (`stop`), not the broker under its clients.
    nohup setsid "$java" "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$log4j_conf" -Dlog4j2.shutdownHookEnabled=false \
      -Dkafka.logs.dir="$nd" -cp "$libs/*" kafka.Kafka "$nd/server.properties" \
      </dev/null >>"$nd.log" 2>&1 &
    echo $! >"$dir/node-$i.pid"
    # Until the forked shell has exec'd java, the pid does not look like Kafka to is_kafka.
    while kill -0 $! 2>/dev/null && ! is_kafka $!; do sleep 0.05; done
  done

  # Ready when every node has logged "Kafka Server started" since this start (the log is appended).
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT:-120})) pending ready=() pid state status why
  while :; do
    pending=0
    for ((i = 1; i <= nodes; i++)); do
      pid=$(<"$dir/node-$i.pid")
      if ! is_kafka "$pid"; then
        # The JVM is this shell's child: gone or a zombie, `wait` gives its exit status at once.
        state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
        if [[ -z $state || $state == Z ]]; then
          status=0
          wait "$pid" 2>/dev/null || status=$?
          why="exit status $status"
          ((status <= 128)) || why="killed by signal $((status - 128))"
        else
          why="pid $pid now runs: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
        fi
        fail "node $i exited during start-up ($why)"
      fi
      [[ -n ${ready[i]-} ]] && continue
      if [[ $(tail -c +$((offsets[i] + 1)) "$dir/node-$i/server.log" 2>/dev/null) == *"Kafka Server started"* ]]
      then ready[i]=1; else pending=1; fi
    done
    ((pending)) || break
    ((SECONDS < deadline)) || fail "not ready after ${KAFKA_START_TIMEOUT:-120} s"
    sleep 0.2
  done
  if ((secure)); then
    (cd "$repo" && set -a && . "$secrets/admin.env" && RETAIL_KAFKA_BOOTSTRAP_SERVERS=$bootstrap \
      "$python" -m services.cli acls --users-from "$secrets" >&2) || fail "applying the ACLs failed"
  fi
  echo "$bootstrap" >"$dir/bootstrap"
  echo "$bootstrap"
}

# Kafka's command-line tools by the names of its bin/ scripts, such as
#   kafka.sh tool console-consumer --bootstrap-server 127.0.0.1:9092 --topic complaints --from-beginning \
#     --property print.key=true --property print.headers=true
tool() {
  local name=${1-} class
  case $name in
    console-consumer) class=org.apache.kafka.tools.consumer.ConsoleConsumer ;;
    console-producer) class=org.apache.kafka.tools.ConsoleProducer ;;
    consumer-groups) class=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand ;;
    get-offsets) class=org.apache.kafka.tools.GetOffsetShell ;;
    topics) class=org.apache.kafka.tools.TopicCommand ;;
    *) die "tool: one of console-consumer, console-producer, consumer-groups, get-offsets, topics" ;;
  esac
  shift
  fetch
  exec "$java" -cp "$libs/*" "$class" "$@"
}

cmd=${1-}
shift || usage
case $cmd in
  fetch) fetch ;;
  tls) parse_args "$@" && tls "$dir" "${hosts[@]}" ;;
  start) parse_args "$@" && start ;;
  stop) parse_args "$@" && stop ;;
  status) parse_args "$@" && status ;;
  tool) tool "$@" ;;
  *) usage ;;
esac
