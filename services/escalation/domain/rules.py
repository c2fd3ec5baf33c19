"""Routing rules are data: the chain's, with per-region overrides, validated when the service starts."""

import re
import tomllib
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from services.escalation.domain.problems import ProblemRules
from services.shared.events.complaints import Category, Mood, Severity
from services.shared.events.fields import LATEST, RegionId, Tier

TIERS = list(Tier)  # lowest first
REGION_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
END_OF_TIME = LATEST - timedelta(microseconds=1)  # the last moment an event can carry


def later(start: datetime, delta: timedelta) -> datetime:
    """`start` plus `delta`, or the end of time when that is past it: a deadline of a complaint filed
    near the end of the century is then an event's last moment, instead of one no event can carry."""
    return start + delta if END_OF_TIME - start > delta else END_OF_TIME


class Sla(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    acknowledge_minutes: Annotated[StrictInt, Field(gt=0)]
    resolve_minutes: Annotated[StrictInt, Field(gt=0)]

    @model_validator(mode="after")
    def _acknowledge_first(self) -> "Sla":
        if self.acknowledge_minutes > self.resolve_minutes:
            raise ValueError("acknowledge_minutes must not exceed resolve_minutes")
        return self

    def deadlines(self, start: datetime) -> tuple[datetime, datetime]:
        """When something given to this tier at `start` must be acknowledged, and resolved."""
        return later(start, timedelta(minutes=self.acknowledge_minutes)), later(start, timedelta(minutes=self.resolve_minutes))


def _complete(table: dict, keys: type[StrEnum], lacking: str) -> dict:
    """Every severity needs a tier and every tier its deadlines, or some complaint would have neither."""
    if missing := [str(key) for key in keys if key not in table]:
        raise ValueError(f"{lacking} {', '.join(missing)}")
    return table


class Rules(BaseModel):
    """The rules that apply in one region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_severities: frozenset[Severity]
    page_moods: frozenset[Mood]
    refund_threshold_minor: Annotated[StrictInt, Field(ge=0)]
    # Counted over the 30 days the complaints service reports in complaint.filed.
    repeat_customer_count: Annotated[StrictInt, Field(ge=2)]
    severity: dict[Severity, Tier]
    mood: dict[Mood, Tier] = Field(default_factory=dict)
    category: dict[Category, Tier] = Field(default_factory=dict)
    sla: dict[Tier, Sla]
    problems: ProblemRules = ProblemRules()

    @field_validator("severity")
    @classmethod
    def _every_severity(cls, tiers: dict[Severity, Tier]) -> dict[Severity, Tier]:
        return _complete(tiers, Severity, "no tier for")

    @field_validator("sla")
    @classmethod
    def _every_tier(cls, slas: dict[Tier, Sla]) -> dict[Tier, Sla]:
        return _complete(slas, Tier, "no deadlines for")


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
    if unknown or not isinstance(document.get("chain"), dict):
        raise InvalidRules(f"{origin}: expected a [chain] table and optional [regions.<id>] tables, got {sorted(document)}")
    regions = document.get("regions", {})
    if not isinstance(regions, dict):
        raise InvalidRules(f"{origin}: regions: expected [regions.<id>] tables")
    chain = _validated(document["chain"], origin, "chain")
    rules = {}
    for region, overrides in regions.items():
        where = f"regions.{region}"
        if not isinstance(overrides, dict):
            raise InvalidRules(f"{origin}: {where}: expected a table of overrides")
        if not REGION_ID.fullmatch(region):
            raise InvalidRules(f"{origin}: {where}: a region id is lower-case letters, digits and hyphens")
        rules[region] = _validated(_merge(document["chain"], overrides), origin, where)
    return RuleBook(chain=chain, regions=rules)


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
