"""Atlas: the OEM's live view (field ops, sales ops, finance, admin). Every page reads the precomputed
network frames of the state shown (``?day=N`` picks another state of a run folder: the day slider)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import pandas as pd
from fastapi import APIRouter, HTTPException, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup

from twin.web.dependencies import CsrfDep, OemDep, ServicesDep, SessionDep, StateDep, echoed
from twin.web.pages import render, render_fragment
from twin.web.panels import (
    ALERT_PAGE_COLUMNS,
    allocation_status,
    dealer_map,
    dealer_panels,
    finance_frames,
    kpi_tiles,
    network_alerts,
    network_campaigns,
    network_transfers,
    region_names,
    watch_list,
)
from twin.web.presenters import Table, mapping_items, records_from_frame, table_from_frame, table_from_records
from twin.web.routers.approvals_view import (
    approved_in_flight,
    dealer_panels_html,
    decision_record,
    waiting_frame,
    without_decided,
)
from twin.web.routers.common import page_context
from twin.web.security import APPROVER_ROLES

#: questions on one page of the managers' queue (a flood of them must not make the page unusable)
ESCALATIONS_PER_PAGE = 100
#: ids are SQLite integers: a larger one names no record (and SQLite could not take it)
MAXIMUM_RECORD_ID = 2**63 - 1

router = APIRouter(prefix="/atlas", tags=["Atlas"], include_in_schema=False)
#: alert rows one page shows (filters narrow it down)
ALERT_ROWS = 300
FilterText = Annotated[str, Query(max_length=64)]


@dataclasses.dataclass(frozen=True)
class Section:
    id: str
    title: str
    table: Table
    empty: str
    hint: str = ""


@router.get("")
async def overview(
    request: Request, found: ServicesDep, session: SessionDep, user: OemDep, served: StateDep
) -> Response:
    context = page_context(
        found,
        session,
        served,
        "Network overview",
        "/atlas",
        tiles=kpi_tiles(served),
        map=dealer_map(served),
        watch=watch_list(served),
        # the SVG (a dot per dealer) is the same for every user of a state: rendered once
        map_html=served.cached(
            "atlas_html",
            f"map{'' if served is found.states.current else served.day}",
            lambda: render_fragment(
                "_map.html",
                {
                    "map": dealer_map(served),
                    "day_query": "" if served is found.states.current else f"?day={served.day}",
                },
            ),
        ),
    )
    return render(request, "atlas_overview.html", context)


@router.get("/alerts")
async def alerts(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    user: OemDep,
    served: StateDep,
    region: FilterText = "",
    dealer: FilterText = "",
    part_class: FilterText = "",
) -> Response:
    all_alerts = network_alerts(served)
    day_query = "" if served is found.states.current else f"?day={served.day}"

    def table() -> tuple[Markup, int]:
        frame = all_alerts
        for column, value in (("region", region), ("dealer_id", dealer), ("part_class", part_class)):
            if value:
                frame = frame[frame[column] == value]
        shown = frame.head(ALERT_ROWS)
        columns = ("dealer_id", "region", "part_class", *ALERT_PAGE_COLUMNS)
        cells = table_from_frame(shown, columns, limit=ALERT_ROWS)
        rows = [
            {"dealer_id": dealer_id, "sku_id": sku_id, "cells": row}
            for dealer_id, sku_id, row in zip(shown["dealer_id"], shown["sku_id"], cells.cells, strict=False)
        ]
        context = {"rows": rows, "headers": cells.headers, "day_query": day_query}
        return render_fragment("_alerts_table.html", context), len(frame)

    # the network-wide views (no dealer named) are few and the heaviest: rendered once per state and filter
    # only filters naming a known region and part class are cached: a raw query value as a key would let
    # any client grow the cache without bound
    known = (not region or region in region_names(served)) and (
        not part_class or part_class in set(all_alerts["part_class"])
    )
    key = f"{region}|{part_class}"
    table_html, shown = served.cached("alerts_html", key, table) if known and not dealer else table()
    context = page_context(
        found, session, served, "Alerts", "/atlas/alerts", table_html=table_html, total=len(all_alerts),
        shown=shown, filters={"region": region, "dealer": dealer, "part_class": part_class},
        regions=region_names(served), dealers=list(served.view.dealer_ids),
        part_classes=sorted(set(all_alerts["part_class"])) if len(all_alerts) else [],
    )  # fmt: skip
    return render(request, "atlas_alerts.html", context)


@router.get("/dealers/{dealer_id}")
async def dealer(
    request: Request, dealer_id: str, found: ServicesDep, session: SessionDep, user: OemDep, served: StateDep
) -> Response:
    _known(served.view.dealer_ids, dealer_id)
    context = page_context(
        found, session, served, f"Dealer {dealer_id}", "", panels=dealer_panels(served, dealer_id),
        panels_html=dealer_panels_html(found, served, dealer_id),
    )  # fmt: skip
    return render(request, "atlas_dealer.html", context)


@router.get("/dealers/{dealer_id}/skus/{sku_id}")
async def dealer_sku(
    request: Request,
    dealer_id: str,
    sku_id: str,
    found: ServicesDep,
    session: SessionDep,
    user: OemDep,
    served: StateDep,
) -> Response:
    view = served.view
    _known(view.dealer_ids, dealer_id)
    try:
        position = view.part_position(dealer_id, sku_id)
    except (KeyError, ValueError):
        raise HTTPException(404, f"sku_id={sku_id!r}: no such part number in the catalog") from None
    alerts_frame = view.alerts(dealer_id)
    alert = alerts_frame[alerts_frame["sku_id"] == sku_id]
    arrivals_frame = view.arrivals(dealer_id)
    context = page_context(
        found,
        session,
        served,
        f"{sku_id} at {dealer_id}",
        "/atlas/alerts",
        dealer=view.dealer(dealer_id),
        sku_id=sku_id,
        position=mapping_items(position),
        alert=mapping_items(records_from_frame(alert)[0]) if len(alert) else [],
        inbound=table_from_frame(arrivals_frame[arrivals_frame["sku_id"] == sku_id]),
        candidates=table_from_frame(view.network_availability(dealer_id, sku_id=sku_id)),
    )
    return render(request, "atlas_sku.html", context)


@router.get("/recommendations")
async def recommendations(
    request: Request, found: ServicesDep, session: SessionDep, user: OemDep, served: StateDep, done: str = ""
) -> Response:
    frame = waiting_frame(found, served)
    waiting = table_from_frame(frame, limit=len(frame))
    rows = [
        {"id": approval, "cells": cells}
        for approval, cells in zip(frame["approval"], waiting.cells, strict=True)
    ]
    decided_columns = (
        "approval",
        "decision",
        "user",
        "decided_at",
        "kind",
        "sender_id",
        "receiver_id",
        "items",
        "units",
        "value_inr",
        "state_day",
    )
    decided = table_from_records(
        reversed([decision_record(item) for item in found.decisions.all()]), decided_columns
    )
    live = served is found.states.current
    can_decide = live and user.role in APPROVER_ROLES
    why_not = (
        "Decisions are taken on the live state; move the day slider back to the newest day."
        if not live
        else f"Your role ({user.role}) reads recommendations; {', '.join(APPROVER_ROLES)} decide them."
    )
    # the banner only confirms a decision that exists: ``done=`` is a query value anyone can craft
    approval, _, verb = done.partition(":")
    made = found.decisions.get(approval) if approval else None
    message = (
        f"Recommendation {made.recommendation_id} {made.decision}." if made and made.decision == verb else ""
    )
    context = page_context(
        found,
        session,
        served,
        "Approvals",
        "/atlas/recommendations",
        waiting=rows,
        headers=waiting.headers,
        decided=decided,
        can_decide=can_decide,
        why_not=why_not,
        message=message,
    )
    return render(request, "atlas_recommendations.html", context)


@router.get("/transfers")
async def transfers(
    request: Request, found: ServicesDep, session: SessionDep, user: OemDep, served: StateDep
) -> Response:
    frame = without_decided(found, network_transfers(served))
    approved = pd.DataFrame(approved_in_flight(found, served), columns=frame.columns)
    in_flight = (
        pd.concat([approved, frame[frame["status"] != "arrived"]], ignore_index=True)
        if len(approved)
        else frame[frame["status"] != "arrived"]
    )
    sections = [
        Section(
            "in-flight",
            "Transfers and dealer trades in flight",
            table_from_frame(in_flight),
            "Nothing is on its way between dealers.",
            "Waiting for approval, approved in Atlas and dispatching, booked for a truck, or on the road.",
        ),
        Section(
            "arrived", "Arrived", table_from_frame(frame[frame["status"] == "arrived"]), "None arrived yet."
        ),
    ]
    return _table_page(request, found, session, served, "Transfers", "/atlas/transfers", sections)


@router.get("/allocations")
async def allocations(
    request: Request, found: ServicesDep, session: SessionDep, user: OemDep, served: StateDep
) -> Response:
    sections = [
        Section(
            "allocation-status",
            "Cars allocated and not yet received, by dealer and step",
            table_from_frame(allocation_status(served)),
            "No allocation is open.",
            "Past due: the expected arrival date has passed.",
        )
    ]
    return _table_page(request, found, session, served, "Allocation status", "/atlas/allocations", sections)


@router.get("/campaigns")
async def campaigns(
    request: Request, found: ServicesDep, session: SessionDep, user: OemDep, served: StateDep
) -> Response:
    summary, by_dealer = network_campaigns(served)
    sections = [
        Section("campaign-summary", "Campaigns", table_from_frame(summary), "The scenario has no campaign."),
        Section(
            "campaign-dealers",
            "By dealer: stock landed and sold",
            table_from_frame(by_dealer),
            "No dealer is targeted.",
        ),
    ]
    return _table_page(request, found, session, served, "Campaigns", "/atlas/campaigns", sections)


@router.get("/finance")
async def finance(
    request: Request, found: ServicesDep, session: SessionDep, user: OemDep, served: StateDep
) -> Response:
    frames = finance_frames(served)
    sections = [
        Section(
            "statements",
            "Dealer statements (INR; positive balance: the dealer owes)",
            table_from_frame(frames["statements"]),
            "Settlement is off in this state.",
        ),
        Section(
            "disputes", "Disputes with carriers", table_from_frame(frames["disputes"]), "No invoice disputed."
        ),
        Section(
            "claims-held",
            "Incentive claims not paid, and why",
            table_from_frame(frames["claims"]),
            "Every claim is paid.",
        ),
    ]
    return _table_page(request, found, session, served, "Finance", "/atlas/finance", sections)


@router.get("/escalations")
async def escalations(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    user: OemDep,
    served: StateDep,
    region: FilterText = "",
    status: Annotated[str, Query(pattern="^(open|closed|all)$")] = "open",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> Response:
    wanted = None if status == "all" else status
    total = found.escalations.count(wanted, region or None)
    rows = found.escalations.list(
        wanted, region or None, limit=ESCALATIONS_PER_PAGE, offset=(page - 1) * ESCALATIONS_PER_PAGE
    )
    context = page_context(
        found,
        session,
        served,
        "Dealer questions",
        "/atlas/escalations",
        rows=rows,
        region=region,
        status=status,
        regions=region_names(served),
        can_close=True,
        total=total,
        page=page,
        pages=max(1, -(-total // ESCALATIONS_PER_PAGE)),
    )
    return render(request, "atlas_escalations.html", context)


@router.post("/escalations/{escalation_id}/close")
def close_escalation(
    escalation_id: Annotated[int, Path(ge=1, le=MAXIMUM_RECORD_ID)],
    found: ServicesDep,
    user: OemDep,
    session: CsrfDep,
) -> Response:
    """An OEM user marks a dealer's question answered (docs/web.md, roles: finance may too)."""
    if not found.escalations.close(escalation_id, user.name):
        raise HTTPException(404, f"escalation={escalation_id}: no such open question")
    return RedirectResponse("/atlas/escalations", status_code=303)


def _known(dealer_ids: tuple[str, ...], dealer_id: str) -> None:
    if dealer_id not in dealer_ids:
        raise HTTPException(404, f"dealer_id={echoed(dealer_id)}: no such dealer in the network")


def _table_page(
    request: Request,
    found: ServicesDep,
    session: SessionDep,
    served: StateDep,
    title: str,
    active: str,
    sections: list[Section],
) -> Response:
    return render(
        request,
        "atlas_table_page.html",
        page_context(found, session, served, title, active, sections=sections),
    )
