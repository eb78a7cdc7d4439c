"""Recommendations as a manager sees them: the state's waiting approvals minus those decided in Atlas, and
the decisions taken, approved ones shown as transfers dispatching until the state itself moves them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd
from markupsafe import Markup

from twin.web.dependencies import Services
from twin.web.pages import render_fragment
from twin.web.panels import (
    PANELS_TEMPLATE,
    DealerPanels,
    dealer_panels,
    dealer_panels_fragment,
    waiting_approvals,
)
from twin.web.presenters import table_from_frame
from twin.web.records import Decision
from twin.web.service import ServedState

APPROVED_STATUS = "approved in Atlas, dispatching"


def waiting_frame(found: Services, served: ServedState) -> pd.DataFrame:
    frame = waiting_approvals(served)
    decided = found.decisions.decided_ids()
    return frame[~frame["approval"].isin(decided)] if decided else frame


def decision_record(decision: Decision) -> dict[str, Any]:
    recommendation = decision.recommendation
    return {
        "approval": decision.recommendation_id,
        "decision": decision.decision,
        "user": decision.user_name,
        "decided_at": decision.decided_at,
        "state_day": decision.state_day,
        "kind": recommendation.get("kind"),
        "sender_id": recommendation.get("sender_id"),
        "receiver_id": recommendation.get("receiver_id"),
        "items": recommendation.get("items"),
        "units": recommendation.get("units"),
        "value_inr": recommendation.get("value_inr"),
        "note": decision.note,
    }


def approved_in_flight(found: Services, served: ServedState) -> list[dict[str, Any]]:
    """Approved decisions as transfer rows (the columns of the network transfers table), while the state
    served does not show them moving yet: the approval is still listed as waiting in it, or the decision
    was taken on this state's day or later. Once a newer state has the transfer, its own row takes over."""
    still_waiting = set(waiting_approvals(served)["approval"])
    rows = []
    for decision in found.decisions.all():
        if decision.decision != "approved":
            continue
        if decision.recommendation_id not in still_waiting and decision.state_day < served.day:
            continue
        recommendation = decision.recommendation
        rows.append(
            {
                "transfer": decision.recommendation_id,
                "kind": recommendation.get("kind"),
                "sender_id": recommendation.get("sender_id"),
                "receiver_id": recommendation.get("receiver_id"),
                "item": recommendation.get("items"),
                "units": recommendation.get("units"),
                "status": APPROVED_STATUS,
                "ship_date": None,
                "eta_date": None,
                "value_inr": recommendation.get("value_inr"),
            }
        )
    return rows


def without_decided(found: Services, frame: pd.DataFrame) -> pd.DataFrame:
    """Transfer rows minus the state's "awaiting approval" lines of approvals decided in Atlas (their
    decision is shown instead: approved ones as dispatching, rejected ones not at all)."""
    decided = found.decisions.decided_ids()
    if not decided or frame.empty:
        return frame
    stale = (frame["status"] == "awaiting approval") & frame["transfer"].isin(decided)
    return frame[~stale] if stale.any() else frame


def approved_rows_for_dealer(found: Services, served: ServedState, dealer_id: str) -> list[dict[str, Any]]:
    """A dealer's view of Atlas approvals touching it (as sender or receiver), in its transfers' columns."""
    rows = []
    for row in approved_in_flight(found, served):
        senders = str(row["sender_id"] or "").split(", ")
        receivers = str(row["receiver_id"] or "").split(", ")
        if dealer_id not in senders and dealer_id not in receivers:
            continue
        incoming = dealer_id in receivers
        rows.append(
            {
                "transfer": row["transfer"],
                "kind": row["kind"],
                "direction": "in" if incoming else "out",
                "counterpart_dealer_id": row["sender_id"] if incoming else row["receiver_id"],
                "item": row["item"],
                "vins": "",
                "units": row["units"],
                "status": APPROVED_STATUS,
                "ship_date": None,
                "eta_date": None,
                "value_inr": row["value_inr"],
            }
        )
    return rows


def dealer_transfers(found: Services, served: ServedState, dealer_id: str) -> pd.DataFrame | None:
    """The dealer's transfers with Atlas decisions applied; None when no decision touches them (the cached
    panels and rows stand as they are)."""
    if not found.decisions.touching(dealer_id):
        return None
    approved = approved_rows_for_dealer(found, served, dealer_id)
    frame = served.view.transfers(dealer_id)
    trimmed = without_decided(found, frame)
    if not approved and len(trimmed) == len(frame):
        return None
    return pd.concat([pd.DataFrame(approved, columns=frame.columns), trimmed], ignore_index=True)


def panels_with_approved(found: Services, served: ServedState, dealer_id: str) -> DealerPanels:
    """The dealer's cached panels, with the Atlas decisions touching it applied to its transfers."""
    panels = dealer_panels(served, dealer_id)
    frame = dealer_transfers(found, served, dealer_id)
    if frame is None:
        return panels
    return dataclasses.replace(panels, transfers=table_from_frame(frame, panels.transfers.columns))


def dealer_panels_html(found: Services, served: ServedState, dealer_id: str) -> Markup:
    """The dealer's panels as HTML: rendered once per state, again only while an Atlas decision touches it."""
    if dealer_transfers(found, served, dealer_id) is not None:
        return render_fragment(PANELS_TEMPLATE, {"panels": panels_with_approved(found, served, dealer_id)})
    return dealer_panels_fragment(served, dealer_id)
