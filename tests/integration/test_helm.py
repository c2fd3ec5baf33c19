"""The Helm chart (deploy/k8s/retail) rendered by Helm (deploy/local/helm.sh builds it into .cache/bin), every
object checked offline against the Kubernetes schemas (kubernetes-validate), and what an operator relies on:
each process gets the settings production needs (those docker-compose.yml gives it), secrets only from
Secrets, probes on the port the process listens on, the stream workers as StatefulSets with a volume and the
pod's name as their Kafka instance id, and no more workers than partitions."""

import importlib.util
import json
import os
import re
import secrets
import subprocess

import kubernetes_validate
import pytest
import yaml

from services.cli.acls import SERVICES as KAFKA_USERS
from services.cli.main import SETTINGS_CLASSES
from services.shared.topics import STORE_PARTITIONS
from tests.support.infra import REPO
from tests.support.processes import LISTENS_ON, READS

HELM = REPO / ".cache" / "bin" / "helm"
CHART = REPO / "deploy" / "k8s" / "retail"
CI_VALUES = CHART / "ci-values.yaml"
KUBERNETES = kubernetes_validate.latest_version()  # the newest the pinned package bundles
COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
KNOWN_VARIABLES = {
    f"{settings.model_config.get('env_prefix', '')}{name.upper()}"
    for settings in SETTINGS_CLASSES
    for name in settings.model_fields
}
# Where the chart's values differ from docker-compose's on purpose: the cluster's broker and CA, the pod's name.
SITE_SPECIFIC = {"RETAIL_KAFKA_BOOTSTRAP_SERVERS", "RETAIL_KAFKA_REPLICATION_FACTOR", "RETAIL_KAFKA_SSL_CA_FILE",
                 "ESCALATION_INSTANCE_ID", "ANALYTICS_INSTANCE_ID", "NOTIFICATIONS_SCHEDULING_URL",
                 "NOTIFICATIONS_COMPLAINTS_URL", "WEBAPP_COMPLAINTS_URL", "WEBAPP_SCHEDULING_URL", "WEBAPP_NOTIFICATIONS_URL",
                 "WEBAPP_BOARDS_URL"}
SECRET_NAME = re.compile(r"(PASSWORD|_KEY|_TOKEN|_SECRET|DATABASE_URL)$")
DEFAULT_PORTS = {
    f"{settings.model_config.get('env_prefix', '')}{name.upper()}": field.default
    for settings in SETTINGS_CLASSES for name, field in settings.model_fields.items() if name.endswith("port")
}


def helm(*args: str) -> subprocess.CompletedProcess:
    assert HELM.exists(), "no helm: run deploy/local/helm.sh install (make test does)"
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, check=False)


def render(*args: str) -> list[dict]:
    result = helm("template", "retail", str(CHART), "--namespace", "retail", *args)
    assert result.returncode == 0, result.stderr
    return [document for document in yaml.safe_load_all(result.stdout) if document]


@pytest.fixture(scope="module")
def default() -> list[dict]:
    return render()


@pytest.fixture(scope="module")
def production() -> list[dict]:
    return render("--values", str(CI_VALUES))


@pytest.fixture(scope="module")
def plain() -> list[dict]:
    """An open broker (PLAINTEXT) and no setup Job: the services migrate their own stores."""
    return render("--set", "kafka.securityProtocol=PLAINTEXT,setup.enabled=false")


def workloads(objects: list[dict]) -> dict[str, dict]:
    """Each process's Deployment or StatefulSet, by the module it runs."""
    found = {}
    for workload in objects:
        if workload["kind"] in ("Deployment", "StatefulSet"):
            command = workload["spec"]["template"]["spec"]["containers"][0]["command"]
            assert command[:2] == ["python", "-m"], command
            found[command[2]] = workload
    return found


def environment(objects: list[dict], workload: dict) -> dict[str, object]:
    """The container's variables: a value, or where it comes from (a secretKeyRef or fieldRef)."""
    configmaps = {item["metadata"]["name"]: item.get("data", {}) for item in objects if item["kind"] == "ConfigMap"}
    container = workload["spec"]["template"]["spec"]["containers"][0]
    env = {}
    for source in container.get("envFrom", []):
        env |= configmaps[source["configMapRef"]["name"]]
    for variable in container.get("env", []):
        env[variable["name"]] = variable.get("value", variable.get("valueFrom"))
    return env


def test_the_chart_lints_with_the_default_and_the_production_values():
    for args in ((), ("--values", str(CI_VALUES))):
        result = helm("lint", "--strict", str(CHART), *args)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", ["default", "production", "plain"])
def test_every_rendered_object_is_valid_kubernetes(values, request):
    objects = request.getfixturevalue(values)
    for item in objects:
        name = f"{item['kind']} {item['metadata']['name']}"
        if item["apiVersion"] == "monitoring.coreos.com/v1":  # the Prometheus Operator's CRD: no bundled schema
            assert item["kind"] == "ServiceMonitor" and item["spec"]["endpoints"], name
            continue
        try:
            kubernetes_validate.validate(item, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{name}: {error.message} at {'/'.join(map(str, error.path))}")


def test_every_process_of_the_platform_runs_and_its_command_exists(default):
    modules = set(workloads(default))
    compose = {service["command"][2] for service in COMPOSE["services"].values() if service.get("command", [""])[0] == "python"}
    assert modules == compose
    for module in modules:
        assert importlib.util.find_spec(f"{module}.__main__"), module


def test_each_process_gets_what_docker_compose_gives_it_in_production(production):
    running = workloads(production)
    for name, service in COMPOSE["services"].items():
        if service.get("command", [""])[0] != "python":
            continue
        env = environment(production, running[service["command"][2]])
        for variable, wanted in service["environment"].items():
            assert variable in env, f"{name}: {variable} unset"
            if SECRET_NAME.search(variable):
                assert set(env[variable]) == {"secretKeyRef"}, f"{name}: {variable} must come from a Secret"
            elif "${" in str(wanted):
                assert env[variable], f"{name}: {variable} empty"  # the site's own, set in ci-values.yaml
            elif variable not in SITE_SPECIFIC:
                assert env[variable] == wanted, f"{name}: {variable}"


def test_each_process_accepts_its_rendered_settings(production, monkeypatch):
    """What a pod's start-up would refuse (an http identity provider, an OIDC client half set up, SASL
    without a user...), with a strong random value standing in for each Secret's."""
    classes = {settings.__name__: settings for settings in SETTINGS_CLASSES}
    for module, workload in workloads(production).items():
        with monkeypatch.context() as patch:
            for variable in KNOWN_VARIABLES & set(os.environ):
                patch.delenv(variable)
            for variable, value in environment(production, workload).items():
                if isinstance(value, dict):
                    value = ("postgresql://retail:password@postgres/retail" if variable.endswith("DATABASE_URL")
                             else "retail-escalation-0" if "fieldRef" in value else secrets.token_urlsafe(48))
                patch.setenv(variable, value)
            for name in ("PlatformSettings", *READS[module]):
                classes[name]()


def test_each_setting_is_documented_and_the_chart_wires_the_services_to_each_other(production):
    services = {item["metadata"]["name"]: item["spec"]["ports"][0]["port"] for item in production if item["kind"] == "Service"}
    for module, workload in workloads(production).items():
        env = environment(production, workload)
        assert set(env) <= KNOWN_VARIABLES, module
        for variable, value in env.items():
            if variable.endswith("_URL") and isinstance(value, str) and value.startswith("http://"):
                host, port = re.fullmatch(r"http://([\w-]+):(\d+)", value).groups()
                assert services[host] == int(port), f"{module}: {variable}={value} is no service of the chart"
    webapp = environment(production, workloads(production)["services.webapp"])
    assert webapp["WEBAPP_DEVELOPMENT_SIGN_IN"] == "false" and webapp["WEBAPP_SECURE_COOKIES"] == "true"
    assert webapp["WEBAPP_SESSION_KEY"]["secretKeyRef"]["key"] == "session-key"


@pytest.mark.parametrize("values", ["default", "production"])
def test_probes_and_services_use_the_port_each_process_listens_on(values, request):
    objects = request.getfixturevalue(values)
    services = {item["spec"]["selector"]["app.kubernetes.io/component"]: item for item in objects if item["kind"] == "Service"}
    for module, workload in workloads(objects).items():
        env = environment(objects, workload)
        host, port = LISTENS_ON[module]
        assert env[host] == "0.0.0.0" and int(env[port]) == DEFAULT_PORTS[port], module
        pod = workload["spec"]["template"]
        container = pod["spec"]["containers"][0]
        assert container["ports"] == [{"name": "http", "containerPort": int(env[port])}], module
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, module
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, module
        assert container["resources"]["requests"] and container["resources"]["limits"], module
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == env[port], module
        service = services[workload["metadata"]["labels"]["app.kubernetes.io/component"]]
        assert service["spec"]["ports"] == [{"name": "http", "port": int(env[port]), "targetPort": "http"}], module


def test_the_stream_workers_are_statefulsets_with_their_tables_on_a_volume_and_the_pod_name_as_instance_id(production):
    for module, prefix in (("services.escalation", "ESCALATION"), ("services.analytics", "ANALYTICS")):
        workload = workloads(production)[module]
        assert workload["kind"] == "StatefulSet" and workload["spec"]["replicas"] == 3
        claims = {claim["metadata"]["name"] for claim in workload["spec"]["volumeClaimTemplates"]}
        container = workload["spec"]["template"]["spec"]["containers"][0]
        mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
        env = environment(production, workload)
        assert env[f"{prefix}_DATA_DIR"].startswith(mounts["data"] + "/") and "data" in claims, module
        assert env[f"{prefix}_INSTANCE_ID"] == {"fieldRef": {"fieldPath": "metadata.name"}}, module
        services = {item["metadata"]["name"]: item for item in production if item["kind"] == "Service"}
        assert services[workload["spec"]["serviceName"]]["spec"]["clusterIP"] == "None"
    assert {workload["kind"] for module, workload in workloads(production).items()
            if module not in ("services.escalation", "services.analytics")} == {"Deployment"}


def test_no_secret_is_rendered_and_each_secret_setting_comes_from_a_secret(production):
    assert not [item for item in production if item["kind"] == "Secret"]
    for item in production:
        if item["kind"] == "ConfigMap":
            assert not [name for name in item["data"] if SECRET_NAME.search(name)], item["metadata"]["name"]
        if item["kind"] in ("Deployment", "StatefulSet", "Job"):
            for variable in item["spec"]["template"]["spec"]["containers"][0]["env"]:
                if SECRET_NAME.search(variable["name"]):
                    assert "secretKeyRef" in variable["valueFrom"], variable["name"]
    result = helm("template", "retail", str(CHART), "--set", "config.complaints.COMPLAINTS_DATABASE_URL=postgresql://x")
    assert result.returncode != 0, "the schema refuses a secret among the settings"


def test_each_process_signs_in_to_kafka_as_its_own_user(default):
    users = {}
    for module, workload in workloads(default).items():
        env = environment(default, workload)
        if module == "services.webapp":
            assert "RETAIL_KAFKA_SASL_USERNAME" not in env  # it calls the APIs only
            continue
        assert env["RETAIL_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL" and env["RETAIL_KAFKA_SASL_PASSWORD"]["secretKeyRef"]
        users[module] = env["RETAIL_KAFKA_SASL_USERNAME"]
    assert len(set(users.values())) == len(users) and set(users.values()) <= set(KAFKA_USERS)


def test_the_setup_hook_creates_the_topics_and_migrates_every_store_before_the_services_change(production):
    job = next(item for item in production if item["kind"] == "Job")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    container = job["spec"]["template"]["spec"]["containers"][0]
    script = container["command"][-1]
    assert "retail topics" in script and "retail acls" in script
    env = {variable["name"]: variable.get("value", variable.get("valueFrom")) for variable in container["env"]}
    assert env["RETAIL_KAFKA_SASL_USERNAME"] == "admin"
    for store, variable in re.findall(r'\("([\w.]+)", "(\w+_DATABASE_URL)"\)', script):
        assert importlib.util.find_spec(f"{store}.migrate"), store
        assert set(env[variable]) == {"secretKeyRef"}, variable
    migrated = {variable for _, variable in re.findall(r'\("([\w.]+)", "(\w+_DATABASE_URL)"\)', script)}
    with_a_store = {name for module, workload in workloads(production).items()
                    for name in environment(production, workload) if name.endswith("_DATABASE_URL")}
    assert migrated == with_a_store
    for module, workload in workloads(production).items():
        env = environment(production, workload)
        assert all(value == "false" for name, value in env.items() if name.endswith("MIGRATE_ON_START")), module


def test_apis_autoscale_and_every_process_has_a_disruption_budget_and_a_service_monitor(production):
    kinds = {}
    for item in production:
        kinds.setdefault(item["kind"], set()).add(item["metadata"]["name"])
    scaled = {item["spec"]["scaleTargetRef"]["name"] for item in production if item["kind"] == "HorizontalPodAutoscaler"}
    assert scaled == {f"retail-{name}" for name in ("complaints", "scheduling", "notifications", "reports", "webapp")}
    for item in production:
        if item["kind"] == "Deployment":  # the HPA sets an autoscaled one's replicas; ci-values.yaml turns off the boards'
            assert ("replicas" in item["spec"]) == (item["metadata"]["name"] not in scaled), item["metadata"]["name"]
    assert kinds["PodDisruptionBudget"] == kinds["ServiceMonitor"] == kinds["Deployment"] | kinds["StatefulSet"]
    for monitor in (item for item in production if item["kind"] == "ServiceMonitor"):
        assert monitor["spec"]["endpoints"][0]["authorization"]["credentials"]["name"] == "retail-scrape-token"


def test_workers_are_bounded_by_the_partitions_they_share(tmp_path):
    properties = json.loads((CHART / "values.schema.json").read_text())["properties"]
    for worker in ("complaintsWorker", "schedulingWorker", "notifications", "escalation", "analytics"):
        assert properties[worker]["properties"]["replicas"]["maximum"] == STORE_PARTITIONS, worker
    assert properties["notifications"]["properties"]["autoscaling"]["properties"]["maxReplicas"]["maximum"] == STORE_PARTITIONS
    too_many = tmp_path / "too-many.yaml"
    too_many.write_text(yaml.safe_dump({"escalation": {"replicas": STORE_PARTITIONS + 1}}))
    for command in ("template", "lint"):
        args = ("retail", str(CHART)) if command == "template" else (str(CHART),)
        result = helm(command, *args, "--values", str(too_many))
        assert result.returncode != 0 and "maximum" in result.stdout + result.stderr, command
    render("--set", f"escalation.replicas={STORE_PARTITIONS}")


def test_pods_run_as_the_images_user():
    uid = re.search(r"useradd .*--uid (\d+)", (REPO / "Dockerfile").read_text()).group(1)
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == int(uid)


def test_without_the_setup_job_the_services_migrate_and_an_open_broker_wants_no_password(plain):
    assert not [item for item in plain if item["kind"] == "Job"]
    for module, workload in workloads(plain).items():
        env = environment(plain, workload)
        assert all(value == "true" for name, value in env.items() if name.endswith("MIGRATE_ON_START")), module
        assert "RETAIL_KAFKA_SASL_PASSWORD" not in env and "RETAIL_KAFKA_SSL_CA_FILE" not in env, module
