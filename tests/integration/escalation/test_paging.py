"""The escalation worker as a process on the real broker, fed by the complaints service's real
events: routing decisions and pages for the on-duty manager, or the regional coordinator."""

from services.shared.principal import Role
from services.shared.topics import ESCALATIONS, ROSTER
from tests.support import ServiceProcess, eventually, read_topic
from tests.support.escalation import publish_roster
from tests.support.infra import REPO


def decisions_for(complaint_id: str):
    def matching(envelopes):
        return {e.type: e for e in envelopes if str(e.data.complaint_id) == complaint_id}

    return matching


async def test_a_critical_complaint_pages_the_on_duty_manager_or_else_the_regional_coordinator(api, platform, worker):
    await publish_roster(platform, "hel-kamppi", "uusimaa", [("emp-1042", "associate"), ("mgr-0007", "store_manager")])
    await publish_roster(platform, "esp-iso-omena", "uusimaa", [("emp-2001", "associate")])

    await eventually(lambda: worker.has_read(ROSTER), timeout_s=90, what="the worker to read the rosters")

    with_manager = (await api.file(store="hel-kamppi", severity="critical")).json()["id"]
    without_manager = (await api.file(store="esp-iso-omena", severity="high", mood="hostile")).json()["id"]
    calm = (await api.file(store="hel-kamppi", severity="low", mood="calm", customer={"email": "new@example.com"})).json()["id"]

    for complaint_id, recipient, reason in [
        (with_manager, {"tier": "store_manager", "staff_id": "mgr-0007"}, "severity critical"),
        (without_manager, {"tier": "regional_coordinator", "staff_id": None}, "mood hostile; no store manager on duty"),
    ]:
        found = decisions_for(complaint_id)
        envelopes = await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, lambda es: len(found(es)) == 2)
        decided = found(envelopes)
        page = decided["retail.escalation.paged.v1"].data
        assert page.recipient.model_dump() == recipient
        assert page.reason == reason
        assert decided["retail.escalation.routed.v1"].data.assignee.model_dump() == recipient

    found = decisions_for(calm)
    envelopes = await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, lambda es: len(found(es)) >= 1)
    routed = found(envelopes)
    assert set(routed) == {"retail.escalation.routed.v1"}, "a calm, low complaint pages nobody"
    assert routed["retail.escalation.routed.v1"].data.assignee.model_dump() == {"tier": "associate", "staff_id": "emp-1042"}


async def test_a_rules_file_with_an_error_refuses_to_start_with_a_clear_message(platform, tmp_path):
    rules = tmp_path / "rules.toml"
    text = (REPO / "services/escalation/rules.toml").read_text().replace('high = "coordinator"', 'high = "night_guard"')
    rules.write_text(text)
    process = ServiceProcess(
        "services.escalation",
        {"RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers, "ESCALATION_RULES_FILE": str(rules),
         "ESCALATION_DATA_DIR": str(tmp_path / "data")},
    )
    exit_code = await eventually(lambda: _exited(process), timeout_s=60, what="the worker to refuse")
    assert exit_code != 0
    assert f"refusing to start: {rules}: chain.severity.high: Input should be 'associate'" in process.logs()


async def _exited(process: ServiceProcess) -> int | None:
    return process.process.poll()


async def test_a_worker_killed_mid_stream_routes_every_complaint_once_after_restart(api, platform, worker, tmp_path):
    worker.kill()
    filed = [(await api.file(store=store, customer={"email": f"restart-{i}@example.com"})).json()["id"]
             for i, store in enumerate(["hel-kamppi", "esp-iso-omena", "tre-koskikeskus"] * 8)]

    def routed_ids(envelopes):
        ids: dict[str, set] = {}
        for e in envelopes:
            if e.type == "retail.escalation.routed.v1" and str(e.data.complaint_id) in filed:
                ids.setdefault(str(e.data.complaint_id), set()).add(e.id)
        return ids

    worker.start()
    await read_topic(platform.kafka_bootstrap_servers, ESCALATIONS, lambda es: len(routed_ids(es)) >= 5, timeout_s=90)
    worker.kill()  # mid-stream, without a clean shutdown
    worker.start()
    try:
        envelopes = await read_topic(
            platform.kafka_bootstrap_servers, ESCALATIONS, lambda es: len(routed_ids(es)) == len(filed), timeout_s=240
        )
    except AssertionError as error:
        raise AssertionError(f"{error}; the restarted worker's log ends:\n{worker.last_words()}") from None
    ids = routed_ids(envelopes)
    assert all(len(decision_ids) == 1 for decision_ids in ids.values()), "one decision per complaint, replays reuse its id"


async def test_the_worker_is_ready_once_its_tables_are_restored_and_shows_metrics_to_ops_only(worker):
    async def ready():
        response = await worker.get("/readyz")
        return response if response is not None and response.status_code == 200 else None

    assert (await eventually(ready, timeout_s=90, what="the worker to be ready")).json()["checks"] == {"tables": "ok"}
    assert (await worker.get("/metrics")).status_code == 401
    assert (await worker.get("/metrics", Role.senior_manager)).status_code == 403
    metrics = await worker.get("/metrics", Role.ops)
    assert metrics.status_code == 200 and "process_cpu_seconds_total" in metrics.text
