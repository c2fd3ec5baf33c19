"""Routing rules are data: the chain's, with per-region overrides, validated when the service starts."""

import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services.shared.events.complaints import Category, Mood, Severity
from services.shared.events.fields import RegionId, Tier

TIERS = list(Tier)  # lowest first


class Sla(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    acknowledge_minutes: Annotated[int, Field(gt=0)]
    resolve_minutes: Annotated[int, Field(gt=0)]

    @model_validator(mode="after")
    def _acknowledge_first(self) -> "Sla":
        if self.acknowledge_minutes > self.resolve_minutes:
            raise ValueError("acknowledge_minutes must not exceed resolve_minutes")
        return self


class Rules(BaseModel):
    """The rules that apply in one region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_severities: frozenset[Severity]
    page_moods: frozenset[Mood]
    refund_threshold_minor: Annotated[int, Field(ge=0)]
    repeat_customer_count: Annotated[int, Field(ge=2)]
    repeat_customer_days: Annotated[int, Field(ge=1)]
    severity: dict[Severity, Tier]
    mood: dict[Mood, Tier] = Field(default_factory=dict)
    category: dict[Category, Tier] = Field(default_factory=dict)
    sla: dict[Tier, Sla]

    @model_validator(mode="after")
    def _complete(self) -> "Rules":
        if missing := [str(s) for s in Severity if s not in self.severity]:
            raise ValueError(f"severity: no tier for {', '.join(missing)}")
        if missing := [str(t) for t in Tier if t not in self.sla]:
            raise ValueError(f"sla: no deadlines for {', '.join(missing)}")
        return self


class RuleBook(BaseModel):
    """The chain's rules and each region's, with the overrides already applied."""

    model_config = ConfigDict(frozen=True)

    chain: Rules
    regions: dict[RegionId, Rules] = Field(default_factory=dict)

    def for_region(self, region_id: str) -> Rules:
        return self.regions.get(region_id, self.chain)


class InvalidRules(ValueError):
    """A rules file the service refuses to start with; the message names the file and the fields."""


def load_rules(path: Path) -> RuleBook:
    try:
        document = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InvalidRules(f"{path}: {error}") from None
    return parse_rules(document, str(path))


def parse_rules(document: dict[str, Any], origin: str = "rules") -> RuleBook:
    unknown = set(document) - {"chain", "regions"}
    if unknown or "chain" not in document:
        raise InvalidRules(f"{origin}: expected [chain] and optional [regions.<id>] tables, got {sorted(document)}")
    chain = _validated(document["chain"], origin, "chain")
    regions = {
        region: _validated(_merge(document["chain"], overrides), origin, f"regions.{region}")
        for region, overrides in document.get("regions", {}).items()
    }
    try:
        return RuleBook(chain=chain, regions=regions)
    except ValidationError as error:
        raise InvalidRules(f"{origin}: regions: {error.errors()[0]['msg']}") from None


def _validated(document: Any, origin: str, where: str) -> Rules:
    try:
        return Rules.model_validate(document)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join([where, *(str(part) for part in detail['loc'])])}: {detail['msg']}" for detail in error.errors()
        )
        raise InvalidRules(f"{origin}: {problems}") from None


def _merge(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged
