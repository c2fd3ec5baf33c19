"""Who may do what on the locked brokers: each service is a Kafka user of its own name, and may
write only its own topics (for a stream worker also its faust-internal topics, named after its app
id, such as its tables' changelogs) and the dead-letter queues of what it reads; it may read only
the topics it consumes, in its own consumer group. Every user may see every topic's metadata
(names, partitions, offsets), which the workers check at start-up and the pipeline metrics read;
no user may read or write a record there without a grant below. `admin` and the brokers are the
super users (deploy/local/kafka.sh, docker-compose.yml)."""

from dataclasses import dataclass
from pathlib import Path

from kafka.admin import (
    ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, KafkaAdminClient, ResourcePattern, ResourceType,
    ScramMechanism, UserScramCredentialUpsertion,
)

from services.analytics import topics as analytics
from services.escalation import topics as escalation
from services.shared.kafka import client_options
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS, COORDINATION, ESCALATIONS, RETURNS, ROSTER, SCHEDULING, SIGNALS, Topic

READ, WRITE, CREATE, DESCRIBE = ACLOperation.READ, ACLOperation.WRITE, ACLOperation.CREATE, ACLOperation.DESCRIBE
LITERAL, PREFIXED = ACLResourcePatternType.LITERAL, ACLResourcePatternType.PREFIXED


@dataclass(frozen=True)
class Access:
    reads: tuple[Topic, ...] = ()  # consumed: it dead-letters what it cannot process into their DLQs
    follows: tuple[Topic, ...] = ()  # read from the start by a read model, without a group or DLQ
    writes: tuple[Topic, ...] = ()  # created by the admin, or by the service itself for its own internal topics
    group: str | None = None  # its consumer group, also the faust app id that prefixes its internal topics
    stream_worker: bool = False  # a faust app: owns every topic named "<group>-…" (changelogs, its leader topic)
    sees_groups: bool = False  # reads the lag of every service's consumer group


SERVICES: dict[str, Access] = {
    "complaints": Access(writes=(COMPLAINTS, RETURNS)),
    "escalation": Access(
        reads=(COMPLAINTS, RETURNS, ROSTER, escalation.CLOCK, escalation.OBSERVATIONS),
        writes=(ESCALATIONS, COORDINATION, escalation.CLOCK, escalation.OBSERVATIONS),
        group=escalation.APP_ID, stream_worker=True,
    ),
    "boards": Access(follows=(escalation.CHANGELOGS["cases"], COORDINATION), writes=(COORDINATION,)),
    "analytics": Access(
        reads=(*analytics.SOURCES, COORDINATION), writes=(SIGNALS,), group=analytics.APP_ID, stream_worker=True,
        sees_groups=True,
    ),
    "reports": Access(follows=(analytics.CHANGELOGS[analytics.REPORTS_TABLE],)),
    "scheduling": Access(writes=(SCHEDULING, ROSTER)),
    "scheduling_worker": Access(reads=(COMPLAINTS, RETURNS, ESCALATIONS, COORDINATION), group="scheduling"),
    "complaints_worker": Access(reads=(ESCALATIONS, COORDINATION), group="complaints"),
    "notifications": Access(reads=(ESCALATIONS, COORDINATION, SCHEDULING), group="notifications"),
}


def bindings(user: str, access: Access) -> set[ACL]:
    """The user's grants (Kafka allows nothing else once the authorizer is on)."""
    def allow(kind: ResourceType, name: str, operation: ACLOperation, pattern: ACLResourcePatternType = LITERAL) -> ACL:
        return ACL(f"User:{user}", "*", operation, ACLPermissionType.ALLOW, ResourcePattern(kind, name, pattern))

    grants = {allow(ResourceType.TOPIC, "*", DESCRIBE)}
    grants |= {allow(ResourceType.TOPIC, topic.name, READ) for topic in (*access.reads, *access.follows)}
    for topic in (*access.writes, *(read.dlq for read in access.reads)):
        grants |= {allow(ResourceType.TOPIC, topic.name, WRITE), allow(ResourceType.TOPIC, topic.name, CREATE)}
    if access.group:
        grants.add(allow(ResourceType.GROUP, access.group, READ))
    if access.stream_worker:
        grants |= {allow(ResourceType.TOPIC, f"{access.group}-", operation, PREFIXED) for operation in (READ, WRITE, CREATE)}
    if access.sees_groups:
        grants |= {allow(ResourceType.GROUP, other.group, DESCRIBE) for other in SERVICES.values() if other.group}
    return grants


def apply(settings: PlatformSettings, users_from: Path | None = None) -> int:
    """Creates every service's grants (existing ones are kept); returns how many there are. Needs the
    admin user. With `users_from` (a folder of `<user>.env` files, as deploy/local/kafka.sh keeps them),
    first creates each service's user the brokers do not know yet: a service added after the brokers'
    storage was formatted."""
    acls = [acl for user, access in SERVICES.items() for acl in bindings(user, access)]
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers, client_id="retail-acls",
                             **client_options(settings))
    try:
        if users_from is not None:
            _add_missing_users(admin, users_from)
        failed = admin.create_acls(acls)["failed"]
    finally:
        admin.close()
    if failed:
        raise RuntimeError(f"{len(failed)} ACLs were refused: {failed[0]}")
    return len(acls)


def _add_missing_users(admin: KafkaAdminClient, folder: Path) -> None:
    known = {user for user, found in admin.describe_user_scram_credentials().items() if not found["error"]}
    added = []
    for user in sorted(set(SERVICES) - known):
        settings = dict(line.split("=", 1) for line in (folder / f"{user}.env").read_text().splitlines() if "=" in line)
        added.append(UserScramCredentialUpsertion(user, ScramMechanism.SCRAM_SHA_512, settings["RETAIL_KAFKA_SASL_PASSWORD"]))
    failed = {user: error for user, error in admin.alter_user_scram_credentials(added).items() if error} if added else {}
    if failed:
        raise RuntimeError(f"creating Kafka users failed: {failed}")
