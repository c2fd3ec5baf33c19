"""The fault suite (`make faults`): its figures, printed at the end of the run and written as JSON to
RETAIL_FAULTS_REPORT (by default .data/faults.json)."""

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from tests.support.faults import Figures
from tests.support.infra import REPO

FIGURES: dict[str, dict] = {}


@pytest.fixture(scope="session")
def record_figures():
    def record(run: str, figures: Figures) -> None:
        FIGURES[run] = asdict(figures)

    return record


def pytest_terminal_summary(terminalreporter) -> None:
    if not FIGURES:
        return
    path = Path(os.environ.get("RETAIL_FAULTS_REPORT", REPO / ".data" / "faults.json"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(FIGURES, indent=2) + "\n")
    terminalreporter.section("fault suite figures")
    for run, figures in FIGURES.items():
        terminalreporter.write_line(f"{run}:")
        for name, value in figures.items():
            terminalreporter.write_line(f"  {name}: {json.dumps(value)}")
    terminalreporter.write_line(f"written to {path}")
