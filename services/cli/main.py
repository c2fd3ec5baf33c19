"""`retail`: the platform's command line for developers and operators."""

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from services.analytics.dashboards import dashboard_files
from services.analytics.pipeline import PipelineSettings
from services.analytics.settings import AnalyticsSettings
from services.cli import acls as kafka_acls
from services.cli import dlq
from services.cli.demo import run_demo
from services.complaints.settings import ComplaintsSettings
from services.escalation.settings import EscalationSettings
from services.notifications.settings import NotificationsSettings
from services.scheduling.settings import SchedulingSettings
from services.shared import generate as generated
from services.shared.auth import AuthError, mint_token
from services.shared.principal import Role
from services.shared.clock import utc_now
from services.shared.kafka import ensure_topics
from services.shared.settings import PlatformSettings
from services.webapp.settings import WebappSettings
from services.shared.topics import ALL_TOPICS

app = typer.Typer(help="Retail customer-service platform: tokens, topics, generated files.", no_args_is_help=True)
SETTINGS_CLASSES = [
    PlatformSettings, ComplaintsSettings, EscalationSettings, AnalyticsSettings, PipelineSettings, SchedulingSettings,
    NotificationsSettings, WebappSettings,
]


def generated_files() -> dict[Path, str]:
    """Every file `retail generate` writes: event schemas, AsyncAPI, the settings reference, dashboards."""
    return {**generated.generated_files(SETTINGS_CLASSES), **dashboard_files()}


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="The caller's role.")],
    sub: Annotated[str, typer.Option(help="Staff or service id (never a name).")],
    region: Annotated[str | None, typer.Option(help="Region id, for store and region roles.")] = None,
    store: Annotated[str | None, typer.Option(help="Store id, for store roles.")] = None,
    ttl_minutes: Annotated[int, typer.Option(min=1, help="Lifetime of the token.")] = 480,
    output: Annotated[Path | None, typer.Option(
        help="Write it to this file (mode 600, replaced whole) instead of printing it.")] = None,
    renew_hours: Annotated[float | None, typer.Option(
        min=0.01, help="With --output: mint it again every so many hours, until stopped (Prometheus's scrape token).")] = None,
) -> None:
    """Mint a bearer token signed with RETAIL_AUTH_SIGNING_KEY."""
    if renew_hours is not None and (output is None or renew_hours * 60 >= ttl_minutes):
        raise typer.BadParameter("--renew-hours needs --output and must be shorter than --ttl-minutes")
    while True:
        try:
            minted = mint_token(PlatformSettings(), sub=sub, role=role, region_id=region, store_id=store, now=utc_now(),
                                ttl=timedelta(minutes=ttl_minutes))
        except AuthError as error:
            raise typer.BadParameter(str(error)) from None
        if output is None:
            typer.echo(minted)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        written = output.with_name(f".{output.name}.tmp")
        written.write_text(minted + "\n")
        written.chmod(0o600)
        written.replace(output)  # a reader sees the old token or the new one, never half of one
        if renew_hours is None:
            return
        time.sleep(renew_hours * 3600)


@app.command()
def topics() -> None:
    """Create every topic of the registry (and its DLQ) that does not exist yet."""
    created = ensure_topics(PlatformSettings(), ALL_TOPICS)
    typer.echo(f"created {len(created)} topics: {', '.join(created) or 'none'}; {len(ALL_TOPICS)} in the registry")


dlq_app = typer.Typer(help="A topic's dead letters: list them, and send their records back once the cause is fixed.")
app.add_typer(dlq_app, name="dlq")


def _dlq_topic(name: str):
    try:
        return dlq.topic_named(name)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None


@dlq_app.command("list")
def dlq_list(topic: Annotated[str, typer.Argument(help="The topic whose DLQ to read, such as complaints.")]) -> None:
    """Each dead letter on TOPIC.dlq: its offset there, when, which consumer, where the record was, why."""
    found = asyncio.run(dlq.letters(PlatformSettings(), _dlq_topic(topic)))
    for line in dlq.listing(found):
        typer.echo(line)
    typer.echo(f"{len(found)} dead letters on {topic}.dlq", err=True)


@dlq_app.command("replay")
def dlq_replay(
    topic: Annotated[str, typer.Argument(help="The topic whose DLQ to read, such as complaints.")],
    offset: Annotated[list[int], typer.Option(help="A dead letter's offset on the DLQ (as `retail dlq list` shows); repeat it.")],
) -> None:
    """Send the records of the dead letters at OFFSETs back to TOPIC, unchanged and under their keys (all or none)."""
    try:
        sent = asyncio.run(dlq.replay(PlatformSettings(), _dlq_topic(topic), offset))
    except dlq.NotReplayable as error:
        raise typer.BadParameter(str(error), param_hint="--offset") from None
    typer.echo(f"sent {sent} records back to {topic}")


@app.command()
def acls(
    users_from: Annotated[Path | None, typer.Option(
        exists=True, file_okay=False, help="A folder of <user>.env files: first create the users the brokers lack.",
    )] = None,
) -> None:
    """Grant each service's Kafka user what it may read and write on the locked brokers (as the admin user)."""
    typer.echo(f"{kafka_acls.apply(PlatformSettings(), users_from)} ACLs for {len(kafka_acls.SERVICES)} services")


@app.command()
def demo(
    url: Annotated[str, typer.Option(help="The complaints API.")] = "http://127.0.0.1:8001",
    rate: Annotated[float, typer.Option(min=0.1, help="Customer interactions per second.")] = 2.0,
    duration: Annotated[float, typer.Option(min=0, help="Seconds to run; 0 runs until interrupted.")] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed of the random stream, for a repeatable run.")] = 7,
    scheduling_url: Annotated[str, typer.Option(help="The scheduling API, where the chain's staff are scheduled.")]
    = "http://127.0.0.1:8006",
) -> None:
    """Seed a demo chain, schedule its staff on duty, and send realistic complaints, returns and CSAT answers through the API."""
    counts = asyncio.run(run_demo(url, rate, duration or None, seed, PlatformSettings(), scheduling_url))
    typer.echo(f"filed {counts.complaints} complaints, resolved {counts.resolved}, {counts.csat} CSAT answers, "
               f"returns {counts.returns}, {counts.errors} errors")
    if counts.errors:
        raise typer.Exit(1)


@app.command("generate")
def generate_files(
    root: Annotated[Path, typer.Option(help="The repository's root.")] = Path("."),
) -> None:
    """Write the events' JSON Schemas, the AsyncAPI document, docs/configuration.md and the Grafana dashboards."""
    files = generated_files()
    schemas = root / generated.SCHEMAS_DIR
    schemas.mkdir(parents=True, exist_ok=True)
    for stale in set(schemas.glob("*.json")) - {root / path for path in files}:
        stale.unlink()
    for path, content in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(content)
    typer.echo(f"wrote {len(files)} files")

