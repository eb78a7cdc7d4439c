"""``GET /api/dealers/{dealer_id}/...``: one dealership's data for DMS integrations.

``scoped_dealer`` runs before anything is read: a dealer user naming another dealer gets 403 and no data; an
OEM user may read any dealer of the network (404 for an unknown id). Answers are encoded once per state and
dealer and sent as they are. Transfers a manager decided in Atlas are shown with that decision (approved
ones as "approved in Atlas, dispatching") until the state itself moves them.
"""

from __future__ import annotations

import json

from fastapi import APIRouter
from fastapi.responses import Response

from twin.web.dependencies import ScopedDealerDep, ServicesDep, StateDep
from twin.web.panels import dealer_json
from twin.web.presenters import records_from_frame
from twin.web.routers.approvals_view import dealer_transfers
from twin.web.schemas import DealerRows, DealerStatement, DealerStock

router = APIRouter(prefix="/api/dealers", tags=["dealer data"])


def _json(body: bytes) -> Response:
    return Response(content=body, media_type="application/json")


@router.get("/{dealer_id}/allocations", response_model=DealerRows)
async def allocations(dealer_id: ScopedDealerDep, served: StateDep) -> Response:
    """Cars allocated to the dealer and not yet received: each car, its step, place and due date."""
    return _json(dealer_json(served, dealer_id, "allocations"))


@router.get("/{dealer_id}/arrivals", response_model=DealerRows)
async def arrivals(dealer_id: ScopedDealerDep, served: StateDep) -> Response:
    """Parts consignment lines on their way, with the carrier's ETA."""
    return _json(dealer_json(served, dealer_id, "arrivals"))


@router.get("/{dealer_id}/stock", response_model=DealerStock)
async def stock(dealer_id: ScopedDealerDep, served: StateDep) -> Response:
    """The dealer's own stock: cars in the yard (each, and by spec and age) and parts (with stock-out risk)."""
    return _json(dealer_json(served, dealer_id, "stock"))


@router.get("/{dealer_id}/statement", response_model=DealerStatement)
async def statement(dealer_id: ScopedDealerDep, served: StateDep) -> Response:
    """The settlement position: balance, the last closed statement, the latest ledger lines (INR)."""
    return _json(dealer_json(served, dealer_id, "statement"))


@router.get("/{dealer_id}/transfers", response_model=DealerRows)
async def transfers(dealer_id: ScopedDealerDep, served: StateDep, found: ServicesDep) -> Response:
    """Transfers and dealer trades in and out, with the decisions taken in Atlas applied."""
    frame = dealer_transfers(found, served, dealer_id)
    if frame is None:
        return _json(dealer_json(served, dealer_id, "transfers"))
    body = {
        "dealer_id": dealer_id,
        "day": served.day,
        "as_of": str(served.view.as_of),
        "rows": records_from_frame(frame),
    }
    return _json(json.dumps(body, separators=(",", ":")).encode())


@router.get("/{dealer_id}/claims", response_model=DealerRows)
async def claims(dealer_id: ScopedDealerDep, served: StateDep) -> Response:
    """Incentive claims: amount, status, and why one is held or rejected."""
    return _json(dealer_json(served, dealer_id, "claims"))


@router.get("/{dealer_id}/alerts", response_model=DealerRows)
async def alerts(dealer_id: ScopedDealerDep, served: StateDep) -> Response:
    """Open stock-out alerts, riskiest first, with the reason in words."""
    return _json(dealer_json(served, dealer_id, "alerts"))
