"""What each page shows, derived from a ``NetworkView`` once per state and cached on the ``ServedState``.

Per dealer: the portal's panels (allocations, stock, arrivals, transfers, statement, claims, campaigns).
Network-wide, for Atlas: the KPI tiles and map, every open alert, transfers in flight, allocation status by
dealer, campaigns, finance (statements, carrier disputes, claims held). Carrier disputes are read from the
settlement section here (the read model has no method for them). ``warm_state`` builds all of it when a state
is loaded, off the request path, so no request ever waits for a scan.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from markupsafe import Markup

from twin.domain.parts import PART_CLASS_NAMES
from twin.web.india import Projection
from twin.web.pages import render_fragment
from twin.web.presenters import Table, cell_text, frame_json, json_value, table_from_frame

if TYPE_CHECKING:
    from twin.views import DealerSummary, NetworkView
    from twin.web.service import ServedState

ALLOCATION_PAGE_COLUMNS = ("vin", "model", "variant", "colour", "step", "due_date", "place")
ALERT_PAGE_COLUMNS = (
    "sku_id",
    "description",
    "severity",
    "risk",
    "expected_stockout_date",
    "days_to_stockout",
    "available",
    "in_transit",
    "inbound_eta_date",
    "why",
)
PARTS_PAGE_COLUMNS = (
    "sku_id",
    "description",
    "part_class",
    "risk",
    "on_hand",
    "reserved",
    "available",
    "workshop_wip",
    "in_transit",
    "backorder",
    "inbound_eta_date",
)
ARRIVAL_PAGE_COLUMNS = ("consignment", "kind", "sku_id", "description", "units", "eta_date", "carrier_id")
TRANSFER_PAGE_COLUMNS = (
    "transfer",
    "kind",
    "direction",
    "counterpart_dealer_id",
    "item",
    "units",
    "status",
    "ship_date",
    "eta_date",
    "value_inr",
)
CLAIM_PAGE_COLUMNS = (
    "vin",
    "model",
    "scheme",
    "filed_date",
    "amount_inr",
    "status",
    "reason",
    "delivered_date",
)
#: yard age buckets (days), the 15-day-bucket KPI folded to four columns a dealer reads at a glance
AGE_BUCKETS = (
    (0, 30, "0-30 days"),
    (30, 60, "31-60 days"),
    (60, 90, "61-90 days"),
    (90, math.inf, "over 90 days"),
)
#: map colours: thresholds of the low/mid/high classes
#: open alerts per dealer are judged against the network: the dealers with alerts split in thirds (a busy
#: network has dozens per dealer, a calm one a few, so fixed numbers would paint every dot one colour)
ALERT_THIRDS = (1 / 3, 2 / 3)
AGED_SHARE_LEVELS = (0.10, 0.25)
DISPUTE_REASONS = {1: "overcharge", 2: "undercharge", 3: "duplicate invoice", 4: "unknown shipment"}
#: the template of a dealer's panels (the portal, and Atlas's page of one dealer)
PANELS_TEMPLATE = "_dealer_panels.html"
#: the dealer API answers encoded when a state is loaded (the ones a DMS polls); the rest on first request
WARM_JSON = ("allocations", "stock", "arrivals", "statement")
#: statuses of a transfer that is not yet at its receiver
IN_FLIGHT = ("awaiting approval", "booked, waiting for its truck", "on the road")


# -- per dealer ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DealerPanels:
    dealer: DealerSummary
    allocations: Table
    yard: Table
    yard_by_spec: Table
    parts: Table
    alerts: Table
    arrivals: Table
    transfers: Table
    statement_items: list[tuple[str, str]]
    statement_lines: Table
    claims: Table
    campaigns: Table


def dealer_panels(served: ServedState, dealer_id: str) -> DealerPanels:
    panels: DealerPanels = served.cached("dealer", dealer_id, lambda: _build_dealer(served.view, dealer_id))
    return panels


def _build_dealer(view: NetworkView, dealer_id: str) -> DealerPanels:
    yard = view.yard(dealer_id)
    alerts = view.alerts(dealer_id)
    parts = _parts_with_risk(view.parts(dealer_id), alerts)
    statement = view.statement(dealer_id)
    items: list[tuple[str, str]] = []
    lines = Table((), [], 0)
    if statement is not None:
        items = [
            ("Balance (you owe if positive)", cell_text(statement.balance_inr, "balance_inr") + " INR"),
            ("Freight billed", cell_text(statement.freight_billed_inr) + " INR"),
            ("Dealer-to-dealer transfers", cell_text(statement.transfers_inr) + " INR"),
            ("Incentives", cell_text(statement.incentives_inr) + " INR"),
            ("Payments", cell_text(statement.payments_inr) + " INR"),
        ]
        if statement.last_statement:
            last = statement.last_statement
            items += [
                ("Last statement closed", cell_text(last.get("close_date"))),
                ("Closing balance", cell_text(last.get("closing_inr")) + " INR"),
                ("Due", cell_text(last.get("due_date"))),
                ("Paid", cell_text(last.get("paid_date")) if last.get("paid_date") else "not yet"),
            ]
        lines = table_from_frame(statement.recent_lines)
    return DealerPanels(
        dealer=view.dealer(dealer_id),
        allocations=table_from_frame(view.allocations(dealer_id), ALLOCATION_PAGE_COLUMNS),
        yard=table_from_frame(yard),
        yard_by_spec=table_from_frame(yard_by_spec(yard)),
        parts=table_from_frame(parts, PARTS_PAGE_COLUMNS),
        alerts=table_from_frame(alerts, ALERT_PAGE_COLUMNS),
        arrivals=table_from_frame(view.arrivals(dealer_id), ARRIVAL_PAGE_COLUMNS),
        transfers=table_from_frame(view.transfers(dealer_id), TRANSFER_PAGE_COLUMNS),
        statement_items=items,
        statement_lines=lines,
        claims=table_from_frame(view.claims(dealer_id), CLAIM_PAGE_COLUMNS),
        campaigns=table_from_frame(view.campaigns(dealer_id)),
    )


def _parts_with_risk(parts: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    """The parts position with each part's stock-out risk (open alerts), riskiest and most owed first."""
    risk = alerts.groupby("sku_id")["risk"].max() if len(alerts) else pd.Series(dtype=float)
    frame = parts.assign(risk=parts["sku_id"].map(risk).astype(float))
    return frame.sort_values(
        ["risk", "backorder", "sku_id"], ascending=[False, False, True], na_position="last"
    )


def yard_by_spec(yard: pd.DataFrame) -> pd.DataFrame:
    """Cars in the yard by spec and age bucket: how many of each spec, how old, how many sold awaiting
    handover. A dealer's yard is ~100 cars: one pass in Python beats a pandas group-by tenfold here."""
    buckets = [label for _, _, label in AGE_BUCKETS]
    columns = ["spec_id", "model", "variant", "colour", "cars", *buckets, "reserved", "oldest_days"]
    groups: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for spec_id, model, variant, colour, age, reserved in zip(
        yard["spec_id"].tolist(),
        yard["model"].tolist(),
        yard["variant"].tolist(),
        yard["colour"].tolist(),
        yard["age_days"].tolist(),
        yard["reserved"].tolist(),
        strict=True,
    ):
        row = groups.setdefault(
            (spec_id, model, variant, colour),
            {"cars": 0, **dict.fromkeys(buckets, 0), "reserved": 0, "oldest_days": -math.inf},
        )
        row["cars"] += 1
        row[next(label for low, high, label in AGE_BUCKETS if age <= high or math.isinf(high))] += 1
        row["reserved"] += int(bool(reserved))
        row["oldest_days"] = max(row["oldest_days"], float(age))
    rows = [dict(zip(columns[:4], key, strict=True)) | counts for key, counts in groups.items()]
    rows.sort(key=lambda row: (-row["oldest_days"], row["spec_id"]))
    return pd.DataFrame(rows, columns=columns)


def dealer_json(served: ServedState, dealer_id: str, kind: str) -> bytes:
    """The API's whole answer for one dealer and resource, encoded once per state: ``{"dealer_id", "day",
    "as_of", "rows"}`` (``"statement"`` for the statement; ``"vehicles"``, ``"vehicles_by_spec"``, ``"parts"``
    for the stock)."""

    def build() -> bytes:
        view = served.view
        head = json.dumps({"dealer_id": dealer_id, "day": served.day, "as_of": str(view.as_of)})[:-1]
        if kind == "statement":
            statement = view.statement(dealer_id)
            data = {} if statement is None else json_value(statement)
            return f'{head},"statement":{json.dumps(data, allow_nan=False)}}}'.encode()
        if kind == "stock":
            yard = view.yard(dealer_id)
            parts = _parts_with_risk(view.parts(dealer_id), view.alerts(dealer_id))
            return (
                f'{head},"vehicles":{frame_json(yard)},"vehicles_by_spec":{frame_json(yard_by_spec(yard))},'
                f'"parts":{frame_json(parts)}}}'
            ).encode()
        frames = {"allocations": view.allocations, "arrivals": view.arrivals, "transfers": view.transfers,
                  "claims": view.claims, "alerts": view.alerts}  # fmt: skip
        return f'{head},"rows":{frame_json(frames[kind](dealer_id))}}}'.encode()

    encoded: bytes = served.cached(f"json:{kind}", dealer_id, build)
    return encoded


# -- Atlas: network-wide ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tile:
    label: str
    text: str
    hint: str = ""


def kpi_tiles(served: ServedState) -> list[Tile]:
    def build() -> list[Tile]:
        kpis = served.view.kpis()
        days = int(kpis.get("days_in_window", 0))
        lost = kpis.get("parts_lost_lines", 0.0)
        cars_lost = kpis.get("vehicle_lost_sales", 0.0)
        return [
            Tile(
                "Parts fill rate", _share(kpis.get("parts_fill_rate_line")), f"first pick, last {days} days"
            ),
            Tile(
                "Lost sales",
                f"{cell_text(float(cars_lost))} cars",
                f"{cell_text(float(lost))} parts lines, last {days} days",
            ),
            Tile("Aged stock", _share(kpis.get("vehicle_aged_share_over_90d")), "yard cars over 90 days"),
            Tile("Working capital", _crore(kpis.get("working_capital_inr")), "vehicles and parts at cost"),
            Tile(
                "Open alerts", cell_text(float(kpis.get("open_alerts", 0.0))), "stock-out risk, dealer x part"
            ),
        ]

    tiles: list[Tile] = served.cached("atlas", "tiles", build)
    return tiles


def _share(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.1%}"


def _crore(value: float | None) -> str:
    return "–" if value is None or not math.isfinite(value) else f"₹{value / 1e7:,.1f} crore"


@dataclass(frozen=True)
class MapDot:
    dealer_id: str
    x: float
    y: float
    level: str
    title: str


@dataclass(frozen=True)
class DealerMap:
    width: int
    height: int
    outline: str
    radius: float
    dots: list[MapDot]
    colour_label: str
    legend: tuple[str, str, str]


def dealer_map(served: ServedState) -> DealerMap:
    def build() -> DealerMap:
        risk = served.view.dealer_risk()
        by_alerts = served.view.has("tower")
        points = list(zip(risk["longitude"].astype(float), risk["latitude"].astype(float), strict=True))
        projection = Projection.around(points)
        alerts = risk["open_alerts"].to_numpy(dtype=float)
        with_alerts = alerts[alerts > 0]
        if by_alerts:
            # the lowest class is "none" or the bottom third; a level is at least one alert above the last
            lower = max(1.0, float(np.quantile(with_alerts, ALERT_THIRDS[0]))) if with_alerts.size else 1.0
            upper = (
                max(lower + 1.0, float(np.quantile(with_alerts, ALERT_THIRDS[1])))
                if with_alerts.size
                else 2.0
            )
            low, high = lower, upper
        else:
            low, high = AGED_SHARE_LEVELS
        dots = []
        for row, (longitude, latitude) in zip(risk.itertuples(index=False), points, strict=True):
            x, y = projection.xy(longitude, latitude)
            aged = float(row.aged_share_over_90d)
            value = float(row.open_alerts) if by_alerts else aged
            level = "low" if not value >= low else ("mid" if value < high else "high")
            title = (
                f"{row.dealer_id} {row.name} ({row.region}): {int(row.open_alerts)} open alerts, "
                f"{_share(aged)} of {int(row.vehicles_in_yard)} cars over 90 days"
            )
            dots.append(MapDot(str(row.dealer_id), x, y, level, title))
        legend = (
            (f"under {low:.0f} alerts", f"{low:.0f}-{high - 1:.0f} alerts", f"{high:.0f}+ alerts")
            if by_alerts
            else (
                f"under {AGED_SHARE_LEVELS[0]:.0%} aged",
                f"{AGED_SHARE_LEVELS[0]:.0%}-{AGED_SHARE_LEVELS[1]:.0%}",
                f"over {AGED_SHARE_LEVELS[1]:.0%} aged",
            )
        )
        radius = 5.0 if len(dots) <= 60 else 3.2
        return DealerMap(
            projection.width,
            projection.height,
            projection.outline_path(),
            radius,
            dots,
            "open stock-out alerts" if by_alerts else "aged stock (over 90 days)",
            legend,
        )

    built: DealerMap = served.cached("atlas", "map", build)
    return built


def watch_list(served: ServedState, count: int = 12) -> list[dict[str, str]]:
    def build() -> list[dict[str, str]]:
        risk = served.view.dealer_risk().fillna({"aged_share_over_90d": 0.0})
        top = risk.sort_values(["open_alerts", "aged_share_over_90d"], ascending=False).head(count)
        return [
            {
                "dealer_id": str(row.dealer_id),
                "name": str(row.name),
                "text": f"{int(row.open_alerts)} alerts, {_share(float(row.aged_share_over_90d))} aged",
            }
            for row in top.itertuples(index=False)
        ]

    rows: list[dict[str, str]] = served.cached("atlas", "watch", build)
    return rows


def region_names(served: ServedState) -> list[str]:
    names: list[str] = served.cached(
        "atlas", "regions", lambda: sorted(set(served.view.dealer_risk()["region"]))
    )
    return names


def network_alerts(served: ServedState) -> pd.DataFrame:
    """Every open alert with its dealer, region and part class (one frame per state)."""

    def build() -> pd.DataFrame:
        view = served.view
        regions = dict(zip(view.dealer_ids, view.dealer_risk()["region"], strict=True))
        frames = []
        for dealer_id in view.dealer_ids:
            alerts = view.alerts(dealer_id)
            if len(alerts):
                frames.append(alerts.assign(dealer_id=dealer_id, region=regions[dealer_id]))
        if not frames:
            return pd.DataFrame(columns=["dealer_id", "region", "part_class", *ALERT_PAGE_COLUMNS])
        frame = pd.concat(frames, ignore_index=True)
        classes = np.asarray(PART_CLASS_NAMES, dtype=object)[
            view.world.parts.part_class[[view.sku_index(sku) for sku in frame["sku_id"]]].astype(np.int64)
        ]
        frame["part_class"] = classes
        return frame.sort_values(["risk", "dealer_id"], ascending=[False, True], kind="stable").reset_index(
            drop=True
        )

    frame: pd.DataFrame = served.cached("atlas", "alerts", build)
    return frame


def network_transfers(served: ServedState) -> pd.DataFrame:
    """Every transfer and dealer trade once (as its receiver lists it), with sender and receiver ids."""

    def build() -> pd.DataFrame:
        view = served.view
        frames = []
        for dealer_id in view.dealer_ids:
            rows = view.transfers(dealer_id)
            incoming = rows[rows["direction"] == "in"]
            if len(incoming):
                frames.append(
                    incoming.drop(columns=["direction"])
                    .rename(columns={"counterpart_dealer_id": "sender_id"})
                    .assign(receiver_id=dealer_id)
                )
        columns = [
            "transfer",
            "kind",
            "sender_id",
            "receiver_id",
            "item",
            "units",
            "status",
            "ship_date",
            "eta_date",
            "value_inr",
        ]
        if not frames:
            return pd.DataFrame(columns=columns)
        return pd.concat(frames, ignore_index=True)[columns]

    frame: pd.DataFrame = served.cached("atlas", "transfers", build)
    return frame


def waiting_approvals(served: ServedState) -> pd.DataFrame:
    """Recommendations awaiting approval, one row per approval (its lines summed): what a manager decides on."""

    def build() -> pd.DataFrame:
        lines = served.view.recommendations()
        columns = [
            "approval",
            "kind",
            "sender_id",
            "receiver_id",
            "items",
            "lines",
            "units",
            "value_inr",
            "benefit_inr",
            "freight_inr",
            "distance_km",
            "decision_due_date",
        ]
        if lines.empty:
            return pd.DataFrame(columns=columns)
        grouped = lines.groupby("approval", sort=False).agg(
            kind=("kind", "first"),
            sender_id=("sender_id", _joined),
            receiver_id=("receiver_id", _joined),
            items=("item", _joined),
            lines=("item", "size"),
            units=("units", "sum"),
            value_inr=("value_inr", "sum"),
            benefit_inr=("benefit_inr", "sum"),
            freight_inr=("freight_inr", "sum"),
            distance_km=("distance_km", "max"),
            decision_due_date=("decision_due_date", "min"),
        )
        return grouped.reset_index()[columns]

    frame: pd.DataFrame = served.cached("atlas", "approvals", build)
    return frame


def _joined(values: pd.Series) -> str:
    unique = list(dict.fromkeys(str(value) for value in values))
    return ", ".join(unique[:4]) + (f" +{len(unique) - 4}" if len(unique) > 4 else "")


def allocation_status(served: ServedState) -> pd.DataFrame:
    """Per dealer: cars on their way by allocation step, and how many are past their due date."""

    def build() -> pd.DataFrame:
        from twin.views import ALLOCATION_STEPS

        view = served.view
        regions = view.dealer_risk()["region"].tolist()
        rows = []
        for dealer_id, region in zip(view.dealer_ids, regions, strict=True):
            cars = view.allocations(dealer_id)
            counts = cars["step"].value_counts()
            due = pd.to_datetime(cars["due_date"], errors="coerce")
            overdue = int((due < pd.Timestamp(view.as_of)).sum())
            rows.append(
                {
                    "dealer_id": dealer_id,
                    "region": region,
                    "inbound_cars": len(cars),
                    **{step.replace(" ", "_"): int(counts.get(step, 0)) for step in ALLOCATION_STEPS},
                    "past_due": overdue,
                }
            )
        return pd.DataFrame(rows).sort_values(["inbound_cars", "dealer_id"], ascending=[False, True])

    frame: pd.DataFrame = served.cached("atlas", "allocation_status", build)
    return frame


def network_campaigns(served: ServedState) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per campaign (targets, positioned, landed, sold summed over its dealers) and per dealer."""

    def build() -> tuple[pd.DataFrame, pd.DataFrame]:
        view = served.view
        frames = [view.campaigns(dealer_id).assign(dealer_id=dealer_id) for dealer_id in view.dealer_ids]
        frames = [frame for frame in frames if len(frame)]
        if not frames:
            empty = pd.DataFrame(
                columns=[
                    "campaign",
                    "status",
                    "dealers",
                    "target_units",
                    "positioned_units",
                    "landed_units",
                    "sold_units",
                    "stock_units",
                ]
            )
            return empty, empty
        by_dealer = pd.concat(frames, ignore_index=True)
        summary = by_dealer.groupby(
            ["campaign", "models", "start_date", "end_date", "status"], as_index=False
        ).agg(
            dealers=("dealer_id", "nunique"),
            target_units=("target_units", "sum"),
            positioned_units=("positioned_units", "sum"),
            landed_units=("landed_units", "sum"),
            sold_units=("sold_units", "sum"),
            stock_units=("stock_units", "sum"),
        )
        ordered = ["dealer_id", *(column for column in by_dealer.columns if column != "dealer_id")]
        return summary, by_dealer[ordered]

    frames: tuple[pd.DataFrame, pd.DataFrame] = served.cached("atlas", "campaigns", build)
    return frames


def finance_frames(served: ServedState) -> dict[str, pd.DataFrame]:
    """Statements of every dealer, carrier disputes, and incentive claims not paid (with why)."""

    def build() -> dict[str, pd.DataFrame]:
        view = served.view
        statements, claims = [], []
        for dealer_id in view.dealer_ids:
            statement = view.statement(dealer_id)
            if statement is not None:
                last = statement.last_statement or {}
                statements.append(
                    {
                        "dealer_id": dealer_id,
                        "balance_inr": statement.balance_inr,
                        "freight_billed_inr": statement.freight_billed_inr,
                        "transfers_inr": statement.transfers_inr,
                        "incentives_inr": statement.incentives_inr,
                        "payments_inr": statement.payments_inr,
                        "last_close_date": last.get("close_date"),
                        "last_closing_inr": last.get("closing_inr"),
                        "due_date": last.get("due_date"),
                        "paid_date": last.get("paid_date"),
                    }
                )
            held = view.claims(dealer_id)
            held = held[held["status"] != "paid"]
            if len(held):
                claims.append(held.assign(dealer_id=dealer_id))
        claim_frame = (
            pd.concat(claims, ignore_index=True)[["dealer_id", *CLAIM_PAGE_COLUMNS]]
            if claims
            else pd.DataFrame(columns=["dealer_id", *CLAIM_PAGE_COLUMNS])
        )
        return {
            "statements": pd.DataFrame(statements),
            "disputes": carrier_disputes(view),
            "claims": claim_frame,
        }

    frames: dict[str, pd.DataFrame] = served.cached("atlas", "finance", build)
    return frames


def carrier_disputes(view: NetworkView) -> pd.DataFrame:
    """Disputes raised against carriers' invoices (settlement section): carrier, shipment, reason, amounts."""
    columns = [
        "carrier_id",
        "shipment",
        "reason",
        "raised_date",
        "invoiced_inr",
        "expected_inr",
        "difference_inr",
        "status",
        "resolved_date",
    ]
    if not view.has("settlement"):
        return pd.DataFrame(columns=columns)
    settlement = view.state.section("settlement")
    carrier_ids = np.asarray(view.world.network.carriers.carrier_id, dtype=object)
    carrier = np.asarray(settlement["disputes_carrier"], dtype=np.int64)
    invoiced = np.asarray(settlement["disputes_invoiced_paise"], dtype=np.float64) / 100.0
    expected = np.asarray(settlement["disputes_expected_paise"], dtype=np.float64) / 100.0
    resolved = np.asarray(settlement["disputes_resolved_day"], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "carrier_id": carrier_ids[np.clip(carrier, 0, len(carrier_ids) - 1)],
            "shipment": np.asarray(settlement["disputes_shipment"], dtype=np.int64),
            "reason": [DISPUTE_REASONS.get(int(code), "other") for code in settlement["disputes_reason"]],
            "raised_date": [view.date_of(float(day)) for day in settlement["disputes_raised_day"]],
            "invoiced_inr": invoiced,
            "expected_inr": expected,
            "difference_inr": invoiced - expected,
            "status": np.where(resolved >= 0, "resolved", "open"),
            "resolved_date": [view.date_of(float(day)) if day >= 0 else None for day in resolved],
        }
    )
    return frame.iloc[::-1].reset_index(drop=True)[columns]


def dealer_panels_fragment(served: ServedState, dealer_id: str) -> Markup:
    """The dealer's panels rendered as HTML, once per state."""
    html: Markup = served.cached(
        "html",
        dealer_id,
        lambda: render_fragment(PANELS_TEMPLATE, {"panels": dealer_panels(served, dealer_id)}),
    )
    return html


def warm_state(served: ServedState) -> None:
    """Build every page's data for a freshly loaded state (in the refresh thread, before it is served)."""
    kpi_tiles(served)
    dealer_map(served)
    watch_list(served)
    network_alerts(served)
    network_transfers(served)
    waiting_approvals(served)
    for dealer_id in served.view.dealer_ids:
        dealer_panels_fragment(served, dealer_id)
        for kind in WARM_JSON:
            dealer_json(served, dealer_id, kind)
