import json
from pathlib import Path

from services.shared import generate
from services.cli.main import SETTINGS_CLASSES, generated_files
from services.shared.topics import ALL_TOPICS

REPO = Path(__file__).resolve().parents[3]


def test_checked_in_generated_files_match_the_code():
    assert generate.stale(REPO, generated_files()) == [], "out of date: run `retail generate`"


def test_drift_is_reported_for_changed_missing_and_leftover_files(tmp_path):
    files = generate.generated_files(SETTINGS_CLASSES)
    for path, content in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content)
    assert generate.stale(tmp_path, files) == []

    changed = generate.SCHEMAS_DIR / "retail.complaint.filed.v1.json"
    (tmp_path / changed).write_text(files[changed].replace('"severity"', '"urgency"'))
    (tmp_path / generate.ASYNCAPI_PATH).unlink()
    leftover = generate.SCHEMAS_DIR / "retail.complaint.teleported.v1.json"
    (tmp_path / leftover).write_text("{}")
    assert generate.stale(tmp_path, files) == sorted(map(str, [changed, generate.ASYNCAPI_PATH, leftover]))


def test_asyncapi_lists_every_topic_and_message_and_every_reference_resolves():
    document = json.loads((REPO / generate.ASYNCAPI_PATH).read_text())
    assert document["asyncapi"] == "3.0.0"
    assert set(document["channels"]) == {topic.name for topic in ALL_TOPICS}
    for topic in ALL_TOPICS:
        channel = document["channels"][topic.name]
        assert channel["bindings"]["kafka"]["partitions"] == topic.partitions
        assert set(channel["messages"]) == {event.__name__ for event in topic.events}

    def resolve(ref: str):
        node = document
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]
        return node

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    resolve(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
