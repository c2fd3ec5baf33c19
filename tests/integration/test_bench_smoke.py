"""A smoke of the benchmark harness (make bench): B1 with one round of 20 requests a run, on the
session's broker and PostgreSQL. It checks the report's shape and that the filings were real, not
the figures, which mean something only at full size on a quiet machine."""

import io
import json
from dataclasses import dataclass, field

from rich.console import Console
from sqlalchemy import func, select

from bench import filing
from bench.harness import Infra, Options, run
from services.complaints.store.models import Complaint, Customer, IdempotencyKey, OutboxEvent
from services.shared.db import make_engine


@dataclass
class RecordingInfra(Infra):
    """The session's infrastructure, remembering the databases the benchmark makes."""

    made: list[str] = field(default_factory=list)

    async def new_database(self, prefix: str) -> str:
        url = await super().new_database(prefix)
        self.made.append(url)
        return url


async def test_b1_reports_every_figure_against_its_baseline_and_files_for_real(kafka_bootstrap, postgres_url, tmp_path):
    infra, output, shown = RecordingInfra(kafka_bootstrap, postgres_url), tmp_path / "results.json", io.StringIO()

    await run({"B1": filing.run}, infra, Options(rounds=1, scale=0.02), output=output, console=Console(file=shown, width=200))

    written = json.loads(output.read_text())
    assert set(written["machine"]) >= {"cores", "memory_gib", "python", "kafka", "postgresql"}
    assert [f["name"] for f in written["figures"]] == [
        "B1 filing · 16 clients · 8 stores", "B1 filing · 16 clients · 1 store",
        "B1 filing · 64 clients · 8 stores", "B1 filing · 64 clients · 1 store",
    ]
    for figure in written["figures"]:
        assert figure["goal"] == "≥ 0.5" and figure["ratio"] > 0 and isinstance(figure["met"], bool)
        [measured] = figure["rounds"]
        assert measured["subject"]["count"] == measured["baseline"]["count"] == 20
        assert measured["subject"]["p50_ms"] <= measured["subject"]["p99_ms"]
        assert figure["name"] in shown.getvalue()

    subject = next(url for url in infra.made if "bench_subject_" in url)
    engine = make_engine(subject)
    try:
        async with engine.connect() as connection:
            counts = [(await connection.execute(select(func.count()).select_from(model))).scalar_one()
                      for model in (Complaint, Customer, IdempotencyKey, OutboxEvent)]
    finally:
        await engine.dispose()
    assert counts[0] >= 4 * 20 and counts == [counts[0]] * 4, counts  # a new customer, key and event each
