"""Starting real infrastructure with the project's own scripts under deploy/local/."""

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port(consecutive: int = 1) -> int:
    """A port free now; with `consecutive`, the first of that many free ports in a row."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            base = sock.getsockname()[1]
        if base + consecutive <= 65536 and all(_bindable(port) for port in range(base + 1, base + consecutive)):
            return base


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def script(name: str, *args: str) -> str:
    """Runs one of deploy/local's scripts; returns its last line of output."""
    result = subprocess.run(
        [str(REPO / "deploy" / "local" / name), *args], capture_output=True, text=True, cwd=REPO, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"{name} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""


@contextmanager
def kafka_broker(directory: Path, *, secure: bool = False, properties: dict[str, str] | None = None) -> Iterator[str]:
    """A real single-node Kafka broker (KRaft) keeping its data in `directory`, for data thrown away
    (killed at the end, not shut down cleanly); its bootstrap address.
    `secure`: locked, each service its own user over TLS (`kafka_user`), with the platform's ACLs.
    `properties`: broker settings added to its server.properties."""
    locked = ["--secure"] if secure else []
    extra = [argument for name, value in (properties or {}).items() for argument in ("--property", f"{name}={value}")]
    bootstrap = script("kafka.sh", "start", "--dir", str(directory), "--port", str(free_port()), *locked, *extra)
    try:
        yield bootstrap
    finally:
        script("kafka.sh", "stop", "--dir", str(directory), "--now")


@contextmanager
def own_platform(directory: Path):
    """The platform on a broker of its own in `directory`, every topic created: for a module whose
    consumers must read only what the module itself produces, which the session's broker, carrying
    every earlier test's events and consumer groups' offsets, cannot promise."""
    from services.shared.kafka import ensure_topics
    from services.shared.settings import PlatformSettings
    from services.shared.topics import ALL_TOPICS

    with kafka_broker(directory) as bootstrap:
        platform = PlatformSettings(kafka_bootstrap_servers=bootstrap)
        ensure_topics(platform, ALL_TOPICS)
        yield platform


def kafka_user(directory: Path, bootstrap: str, user: str, **settings: str):
    """The platform settings with which `user` (a service, or `admin`) reaches the locked brokers
    that kafka.sh --secure started in `directory`; `settings` override them."""
    from services.shared.settings import PlatformSettings

    lines = (directory / "secure" / f"{user}.env").read_text().splitlines()
    given = {name.removeprefix("RETAIL_").lower(): value for name, value in (line.split("=", 1) for line in lines)}
    return PlatformSettings(kafka_bootstrap_servers=bootstrap, **{**given, **settings})
