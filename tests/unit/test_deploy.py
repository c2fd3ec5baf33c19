"""docker-compose.yml and the Dockerfile cannot be run here (no Docker engine): check them statically."""

import fnmatch
import importlib
import importlib.util
import os
import re
import secrets
import tomllib
from pathlib import Path

import yaml

from services.cli.main import SETTINGS_CLASSES, app
from tests.support.processes import BUILDS, LISTENS_ON, READS

REPO = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
KNOWN_VARIABLES = {
    f"{settings.model_config.get('env_prefix', '')}{name.upper()}"
    for settings in SETTINGS_CLASSES
    for name in settings.model_fields
}
OWN_SERVICES = {name: service for name, service in COMPOSE["services"].items() if "build" in service}


def test_every_service_command_exists():
    commands = {command.name or command.callback.__name__ for command in app.registered_commands}
    for name, service in OWN_SERVICES.items():
        command = service["command"]
        if command[:2] == ["python", "-m"]:
            assert importlib.util.find_spec(f"{command[2]}.__main__"), name
        else:
            assert command[0] == "retail" and command[1] in commands, name


def test_every_variable_given_to_our_services_is_a_documented_setting():
    for name, service in OWN_SERVICES.items():
        unknown = set(service["environment"]) - KNOWN_VARIABLES
        assert not unknown, f"{name}: {unknown}"


def test_dependencies_name_defined_services():
    for name, service in COMPOSE["services"].items():
        assert set(service.get("depends_on", {})) <= set(COMPOSE["services"]), name


def test_compose_runs_the_kafka_version_the_local_scripts_fetch():
    local_version = re.search(r"KAFKA_VERSION:-([0-9.]+)", (REPO / "deploy/local/kafka.sh").read_text()).group(1)
    assert COMPOSE["services"]["kafka"]["image"] == f"apache/kafka:{local_version}"


def test_production_secrets_come_from_the_environment():
    for service in OWN_SERVICES.values():
        assert service["environment"]["RETAIL_ENV"] == "production"
        assert service["environment"]["RETAIL_AUTH_SIGNING_KEY"].startswith("${RETAIL_AUTH_SIGNING_KEY:?")


def test_the_dockerfile_copies_what_exists_and_does_not_run_as_root():
    dockerfile = (REPO / "Dockerfile").read_text()
    for sources in re.findall(r"^COPY (.+) \S+$", dockerfile, flags=re.MULTILINE):
        for source in sources.split():
            assert (REPO / source).exists(), source
    assert re.search(r"^USER (?!root)\S+$", dockerfile, flags=re.MULTILINE)


def test_the_package_carries_every_file_the_services_read():
    """Files outside Python packages (data, and migrations in plain folders) reach an installed
    service — the Docker image — only when pyproject.toml declares them as package data."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for path in (REPO / "services").rglob("*"):
        if not path.is_file() or path.suffix == ".pyc" or (path.suffix == ".py" and (path.parent / "__init__.py").exists()):
            continue
        package = next(parent for parent in path.parents if (parent / "__init__.py").exists())
        relative = path.relative_to(package).as_posix()
        patterns = declared.get(".".join(package.relative_to(REPO).parts), [])
        assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), f"{path} is not package data"


def test_each_service_reaches_kafka_over_tls_as_its_own_user():
    from services.cli.acls import SERVICES

    users = {}
    for name, service in OWN_SERVICES.items():
        environment = service["environment"]
        if name in ("scrape-token", "webapp"):
            continue  # signs Prometheus's token, talks to nothing; calls the APIs only
        assert environment["RETAIL_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert any(volume.endswith(f":{environment['RETAIL_KAFKA_SSL_CA_FILE']}:ro") for volume in service["volumes"]), name
        user = environment["RETAIL_KAFKA_SASL_USERNAME"]
        assert environment["RETAIL_KAFKA_SASL_PASSWORD"] == f"${{KAFKA_{user.upper()}_PASSWORD:?set KAFKA_{user.upper()}_PASSWORD}}"
        users[name] = user
    services = {name: user for name, user in users.items() if name not in ("kafka-acls", "topics")}
    assert set(users.values()) - set(services.values()) == {"admin"}, "only the set-up jobs are the admin"
    assert len(set(services.values())) == len(services), "no two services share a Kafka user"
    assert set(services.values()) <= set(SERVICES)
    kafka_formats = re.search(r"for user in ([\w ]+); do", COMPOSE["services"]["kafka"]["command"][0]).group(1).split()
    assert set(users.values()) <= set(kafka_formats)


def test_the_kafka_broker_is_locked():
    command = COMPOSE["services"]["kafka"]["command"][0]
    for setting in ("authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                    "allow.everyone.if.no.acl.found=false", "CLIENT:SASL_SSL", "super.users=User:admin;User:CN=broker"):
        assert setting in command
    assert "PLAINTEXT" not in command
    assert "ports" not in COMPOSE["services"]["kafka"]


def test_the_local_broker_makes_a_user_for_every_service_the_acls_name():
    from services.cli.acls import SERVICES

    users = re.search(r"^USERS=\(([\w ]+)\)$", (REPO / "deploy/local/kafka.sh").read_text(), flags=re.MULTILINE).group(1)
    assert set(users.split()) == set(SERVICES)


def test_the_complaints_service_gets_its_customer_ref_key_from_the_environment():
    environment = COMPOSE["services"]["complaints"]["environment"]
    assert environment["COMPLAINTS_CUSTOMER_REF_KEY"].startswith("${COMPLAINTS_CUSTOMER_REF_KEY:?")


def test_prometheus_and_grafana_are_published_on_loopback_only_and_grafana_asks_for_a_password():
    for name in ("prometheus", "grafana"):
        assert all(port.startswith("127.0.0.1:") for port in COMPOSE["services"][name]["ports"]), name
    grafana = COMPOSE["services"]["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert grafana["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_prometheus_scrapes_with_a_token_a_service_of_compose_keeps_minted():
    minter, prometheus = COMPOSE["services"]["scrape-token"], COMPOSE["services"]["prometheus"]
    command = minter["command"]
    output = command[command.index("--output") + 1]
    assert command[command.index("--role") + 1] == "metrics" and "--renew-hours" in command
    [volume] = [v for v in minter["volumes"] if v.endswith(":" + str(Path(output).parent))]
    name = volume.split(":")[0]
    assert f"{name}:/etc/prometheus/secrets:ro" in prometheus["volumes"] and "scrape-token" in prometheus["depends_on"]
    assert minter["user"] == "65534:65534"  # the user of the Prometheus image, who alone reads the token
    assert Path(output).name == "scrape-token"
    assert set(minter["environment"]) == {"RETAIL_ENV", "RETAIL_AUTH_SIGNING_KEY"}
    scraped = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())["scrape_configs"]
    assert {job["authorization"]["credentials_file"] for job in scraped} == {"secrets/scrape-token"}


def _placeholders_filled(value: object) -> str:
    """The value as compose would make it, with each required variable's stand-in: an address where a
    URL or host is asked for, a strong random secret elsewhere."""
    def filled(match: re.Match) -> str:
        name, default = match.group(1), match.group(2) or ""
        if default.startswith(":-"):
            return default[2:]
        if name.endswith("REDIRECT_URL"):  # where the identity provider sends people back: the app's callback
            return "https://care.example.org/signin/callback"
        if name.endswith(("URL", "ISSUER")):
            return "https://care.example.org/x"
        if name.endswith("HOST"):
            return "smtp.example.org"
        if name.endswith("SENDER"):
            return "care@example.org"
        return secrets.token_urlsafe(48)

    return re.sub(r"\$\{(\w+)(:[-?][^}]*)?\}", filled, str(value))


def test_every_variable_compose_reads_is_required_or_has_a_default():
    text = (REPO / "docker-compose.yml").read_text()
    loose = re.findall(r"\$\{\w+\}", text)
    assert not loose, f"neither required (:?) nor defaulted (:-): {sorted(set(loose))}"


def test_each_service_starts_with_what_compose_gives_it_in_production(monkeypatch):
    """What a container's start-up would refuse (a missing production setting, an http identity provider,
    SASL without a user...), with stand-ins for what the operator's environment gives."""
    classes = {settings.__name__: settings for settings in SETTINGS_CLASSES}
    for name, service in OWN_SERVICES.items():
        if service["command"][:2] != ["python", "-m"]:
            continue
        with monkeypatch.context() as patch:
            for variable in KNOWN_VARIABLES & set(os.environ):
                patch.delenv(variable)
            for variable, value in service["environment"].items():
                patch.setenv(variable, _placeholders_filled(value))
            module = service["command"][2]
            loaded = [classes[settings]() for settings in (*READS[module], "PlatformSettings")]
            if module in BUILDS:  # the app, built as at start-up (which checks the production keys), not started
                where, function = BUILDS[module].split(":")
                getattr(importlib.import_module(where), function)(*loaded)


def test_each_long_running_service_is_checked_for_readiness_on_the_port_it_listens_on():
    defaults = {f"{s.model_config.get('env_prefix', '')}{n.upper()}": f.default
                for s in SETTINGS_CLASSES for n, f in s.model_fields.items()}
    for name, service in OWN_SERVICES.items():
        if service["command"][:2] != ["python", "-m"]:
            continue
        _host, port = LISTENS_ON[service["command"][2]]
        listens = service["environment"].get(port, defaults[port])
        assert f"http://127.0.0.1:{listens}/readyz" in " ".join(service["healthcheck"]["test"]), name
