"""The layering the code is built on, checked: decisions, declarations and stream handlers load no framework, the
shared package depends on no service, services depend on no other service, and tests share code
only through tests/support."""

import ast
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.infra import REPO

FRAMEWORKS = ("faust", "fastapi", "starlette", "uvicorn", "sqlalchemy", "aiokafka", "kafka")
SERVICES = REPO / "services"
PURE = sorted(
    {
        *SERVICES.glob("*/domain/*.py"),
        *SERVICES.glob("*/events.py"),
        *SERVICES.glob("*/topics.py"),
        *SERVICES.glob("*/tables.py"),
        *SERVICES.glob("*/handlers.py"),  # a stream worker's behaviour, unit-tested without a broker
        *SERVICES.glob("shared/events/*.py"),
        SERVICES / "shared" / "principal.py",
        SERVICES / "shared" / "errors.py",
        SERVICES / "shared" / "clock.py",
    }
)


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Every module the file imports, at any depth in the file (also inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_pure_modules_are_found():
    assert {"services.escalation.domain.routing", "services.complaints.domain.returns",
            "services.analytics.domain.totals", "services.shared.topics"} <= {module_name(path) for path in PURE}


def frameworks_loaded(module: str) -> str:
    """The frameworks that importing `module` in a fresh interpreter loads, comma-separated."""
    probe = f"import sys, {module}\nprint(','.join(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def loaded() -> dict[str, str]:
    """What each pure module loads, the interpreters started one per core at a time."""
    modules = [module_name(path) for path in PURE]
    with ThreadPoolExecutor(max_workers=os.cpu_count()) as pool:
        return dict(zip(modules, pool.map(frameworks_loaded, modules), strict=True))


@pytest.mark.parametrize("path", PURE, ids=module_name)
def test_a_decision_or_declaration_module_loads_no_framework(path: Path, loaded: dict[str, str]):
    assert loaded[module_name(path)] == "", f"importing {module_name(path)} loads {loaded[module_name(path)]}"


def service_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "services" else None


@pytest.mark.parametrize("service", sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists() and p.name != "cli"))
def test_a_service_imports_only_itself_and_shared(service: str):
    """`shared` imports no service; a service imports no other service (only the command line,
    which sits above them all, imports every service)."""
    crossing = {
        f"{path.relative_to(REPO)} imports {module}"
        for path in (SERVICES / service).rglob("*.py")
        for module in imported_modules(path)
        if service_of(module) not in (None, service, "shared")
    }
    assert not crossing, sorted(crossing)


def test_tests_share_code_only_through_tests_support():
    crossing = {
        f"{path.relative_to(REPO)} imports {module}"
        for path in (REPO / "tests").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "tests" and module.split(".")[:2] != ["tests", "support"]
    }
    assert not crossing, sorted(crossing)
