"""Senior management's pages: the chain at a glance (every region's open complaints, deadline
breaches and pages, from the escalation service's boards; a region's sites on demand), the policy
proposals of every region with their evidence and the change they ask for, decided here, and a
return policy's versions with their provenance (from the complaints service)."""

import asyncio
from collections import Counter
from datetime import datetime
from uuid import UUID

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.shared.events.coordination import Decision
from services.shared.events.fields import RegionId
from services.shared.principal import Role
from services.webapp import i18n
from services.webapp.session import Session
from services.webapp.web import App, Person, Web, field_errors, language

router = APIRouter(include_in_schema=False)
SORTS = ("age", "region")  # the proposals' orders: the longest waiting first, or by region (then age)


@router.get("/chain")
async def chain(request: Request, session: Person, web: App, region: str | None = None) -> HTMLResponse:
    if (refused := _not_senior(request, session, web)) is not None:
        return refused
    stores = await _stores(web, session)
    boards = await _boards(web, session, stores)
    rows = [{"region_id": region_id, **_counts(board)} for region_id, board in boards.items()]
    total = {name: sum(row[name] for row in rows if row[name] is not None)
             for name in ("open", "breached", "paged", "problems", "waiting")}
    sites = _sites(boards[region], stores[region]) if region in boards and boards[region] is not None else None
    return web.page(request, "senior_chain.html", session=session, rows=rows, total=total, region=region, sites=sites,
                    missing=any(board is None for board in boards.values()), as_of=web.clock())


@router.get("/proposals")
async def proposals(request: Request, session: Person, web: App, sort: str = "age", decided: UUID | None = None) -> HTMLResponse:
    if (refused := _not_senior(request, session, web)) is not None:
        return refused
    return await _proposals_page(request, session, web, sort, decided)


@router.post("/proposals/{region_id}/{problem_id}/decision")
async def decide(request: Request, region_id: RegionId, problem_id: UUID, session: Person, web: App) -> Response:
    form = await request.form()
    web.checked(session, form.get("csrf"))
    sort = str(form.get("sort", "age"))
    decision, rationale = form.get("decision"), str(form.get("rationale", "")).strip()

    async def again(status: int, errors: dict[str, str]) -> HTMLResponse:
        """The proposals once more, with what went wrong at this one and its rationale kept."""
        return await _proposals_page(request, session, web, sort, None, status, {str(problem_id): errors},
                                     {str(problem_id): rationale})

    if not rationale:  # a decision says why: the region's coordinators read it
        return await again(422, _said(request, {"rationale": "error.required"}))
    if decision not in tuple(Decision):
        return await again(422, _said(request, {"form": "error.choose"}))
    try:
        answer = await web.api("boards", "POST", f"/regions/{region_id}/problems/{problem_id}/decision", session,
                               json={"decision": decision, "rationale": rationale})
    except httpx.HTTPError:
        return await again(503, _said(request, {"form": "boards.unavailable"}))
    if answer.status_code == 200:
        return RedirectResponse(f"/proposals?sort={_sort(sort)}&decided={problem_id}#p-{problem_id}", status_code=303)
    return await again(answer.status_code, _said(request, {"form": "decision.already"}) if answer.status_code == 409
                       else field_errors(request, answer))


@router.get("/policy")
async def policy(request: Request, session: Person, web: App, scope: str = "chain") -> HTMLResponse:
    if (refused := _not_senior(request, session, web)) is not None:
        return refused
    stores = await _stores(web, session)
    kind, _, scope_id = scope.partition(":")
    known = {"chain": not scope_id, "region": scope_id in stores,
             "store": any(scope_id in ids for ids in stores.values())}
    if not known.get(kind):
        return web.page(request, "message.html", 404, session=session, title_key="policy.unknown.title",
                        text_key="policy.unknown.text")
    path = {"chain": "/v1/return-policy/history", "region": f"/v1/regions/{scope_id}/return-policy/history",
            "store": f"/v1/stores/{scope_id}/return-policy/history"}[kind]
    history = await web.api("complaints", "GET", path, session)
    if history.status_code != 200:
        return web.page(request, "message.html", history.status_code, session=session, title_key="policy.unknown.title",
                        text_key="policy.unknown.text")
    return web.page(request, "senior_policy.html", session=session, stores=stores, scope=scope, history=history.json(),
                    money=_money(language(request)))


async def _proposals_page(request: Request, session: Session, web: Web, sort: str, decided: UUID | None,
                          status: int = 200, errors: dict | None = None, rationales: dict | None = None) -> HTMLResponse:
    stores = await _stores(web, session)
    boards = await _boards(web, session, stores)
    found = [{"region_id": region_id, **problem} for region_id, board in boards.items() if board is not None
             for problem in board["problems"] if problem["proposal"] is not None]
    by_age = sorted(found, key=lambda p: p["proposal"]["at"])
    ordered = sorted(by_age, key=lambda p: p["region_id"]) if _sort(sort) == "region" else by_age
    now = web.clock()
    for problem in ordered:
        problem["waiting"] = _age(now - datetime.fromisoformat(problem["proposal"]["at"]))
    outcome = next((p for p in ordered if str(decided) == p["problem_id"]), None) if decided else None
    return web.page(request, "senior_proposals.html", status, session=session, sort=_sort(sort), sorts=SORTS,
                    waiting=[p for p in ordered if p["proposal"]["status"] == "proposed"],
                    decided=[p for p in ordered if p["proposal"]["status"] != "proposed"], outcome=outcome,
                    errors=errors or {}, rationales=rationales or {}, missing=any(b is None for b in boards.values()),
                    money=_money(language(request)))


def _not_senior(request: Request, session: Session, web: Web) -> HTMLResponse | None:
    if session.role == Role.senior_manager:
        return None
    return web.page(request, "message.html", 403, session=session, title_key="senior.refused.title",
                    text_key="senior.refused.text")


async def _stores(web: Web, session: Session) -> dict[str, list[str]]:
    """The chain's regions, each with its stores, from the complaints service's directory."""
    answer = await web.api("complaints", "GET", "/v1/stores", session)
    answer.raise_for_status()
    regions: dict[str, list[str]] = {}
    for store in sorted(answer.json(), key=lambda s: (s["region_id"], s["id"])):
        regions.setdefault(store["region_id"], []).append(store["id"])
    return regions


async def _boards(web: Web, session: Session, stores: dict[str, list[str]]) -> dict[str, dict | None]:
    """Each region's board; None for a region whose board the boards API cannot give just now."""
    boards = await asyncio.gather(*(web.read("boards", f"/regions/{region_id}/board", session) for region_id in stores))
    return dict(zip(stores, boards, strict=True))


def _counts(board: dict | None) -> dict[str, int | None]:
    if board is None:
        return dict.fromkeys(("open", "breached", "paged", "problems", "waiting"))
    summary, problems = board["summary"], board["problems"]
    return {"open": summary["open"], "breached": summary["breached"], "paged": summary["paged"], "problems": len(problems),
            "waiting": sum(1 for p in problems if p["proposal"] is not None and p["proposal"]["status"] == "proposed")}


def _sites(board: dict, stores: list[str]) -> list[dict]:
    """The region's sites with their open complaints, breached and paged ones: every store of the
    region, also those with none open, and any other site the board has complaints of."""
    complaints = board["complaints"]
    counted = {name: Counter(c["store_id"] for c in complaints if keep(c)) for name, keep in (
        ("open", lambda c: True), ("breached", lambda c: c["breaches"] > 0), ("paged", lambda c: c["paged"]))}
    sites = sorted(set(stores) | set(counted["open"]))
    return [{"store_id": site, **{name: counts[site] for name, counts in counted.items()}} for site in sites]


def _age(waited) -> tuple[str, int]:
    """How long a proposal has waited, in its largest whole unit: a key of the words and the number."""
    minutes = max(0, int(waited.total_seconds() // 60))
    if minutes >= 24 * 60:
        return "age.days", minutes // (24 * 60)
    if minutes >= 60:
        return "age.hours", minutes // 60
    return "age.minutes", minutes


def _money(lang: str):
    def money(minor: int, currency: str = "EUR") -> str:
        amount = f"{minor / 100:,.2f}"
        if lang == "fi":  # 1 234,50
            amount = amount.replace(",", "\u00a0").replace(".", ",")
        return f"{amount} {currency}"

    return money


def _sort(sort: str) -> str:
    return sort if sort in SORTS else SORTS[0]


def _said(request: Request, keys: dict[str, str]) -> dict[str, str]:
    t = i18n.translator(language(request))
    return {name: t(key) for name, key in keys.items()}
