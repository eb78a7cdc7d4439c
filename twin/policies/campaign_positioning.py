"""Campaign positioning: vehicle stock placed at a campaign's dealers before it starts, not in its third week.

A campaign (regions, models, window, uplift; ``scenario.campaigns``) is planned, so the OEM can act ahead of
it. Without positioning the network learns of it through the volume plan's 14-day look-ahead and the dealers'
28-day sales; the extra cars reach the yards weeks into the campaign. With it:

- **Gap**, per campaign dealer and spec of a campaign model: the cars beyond what it holds and has on the way
  that are worth placing, valued like demand-profile allocation but at the campaign's demand: the k-th extra
  car sells if the first ``cover_days`` of campaign demand (the dealer's rate x the spec's plan share x the
  uplift, Poisson) reaches it, earning the margin, and costs floor-plan interest from now until it sells.
  A spec a dealer sells once a quarter gets no car; overlapping campaigns take the larger gap, not the sum.
- **Extra builds**: while the start is more than ``build_cutoff_days`` away, each stockyard's shortfall
  (its campaign dealers' gaps, less the yard's unallocated cars of the spec and positioning builds still on
  the trunk) is built. Later builds would land after the start, so they are not ordered.
- **First call on allocation**: from ``lead_days`` before the start, a yard's cars of campaign specs go to the
  campaign dealers with the largest gap first, within each dealer's yard room; the rest go to the normal
  allocation policy, which sees what was just given.

Pure: views in, arrays out. The engine (``twin.engine.campaigns``) schedules it and measures the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from twin.config import CampaignPolicyConfig, OperationsConfig
from twin.errors import ConfigError
from twin.policies.demand_allocation import unit_economics, unit_sale_values
from twin.policies.observation import IntArray, VehicleView
from twin.policies.vehicle_rebalancing import VehicleRebalancing

BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]
_DEFAULTS = CampaignPolicyConfig()  # defaults are declared once, in twin.config
_OPERATIONS = OperationsConfig()


class AllocatesVehicles(Protocol):
    """The allocation policy the campaign's first call hands the rest of a yard to (``VehicleAllocationPolicy``;
    declared here so the policies' Protocol module and this one do not import each other)."""

    def allocate(self, view: VehicleView, yard: int, vehicle_specs: IntArray) -> IntArray: ...


@dataclass(frozen=True)
class CampaignWindow:
    """A campaign as the policy sees it: which dealers and models, when, and how much more demand."""

    name: str
    #: ``[dealer]``: the dealers of the campaign's regions
    dealers: BoolArray
    #: ``[model]``: the campaign's models
    models: BoolArray
    start_day: int
    end_day: int
    vehicle_uplift: float


class CampaignPositioning:
    def __init__(
        self,
        lead_days: int = _DEFAULTS.lead_days,
        build_cutoff_days: int = _DEFAULTS.build_cutoff_days,
        cover_days: float = _DEFAULTS.cover_days,
        max_units_per_spec: int = _DEFAULTS.max_units_per_spec,
        margin_share: float = _OPERATIONS.vehicle_margin_share,
        floor_plan_rate_per_year: float = _OPERATIONS.floor_plan_rate_per_year,
    ) -> None:
        """``margin_share`` and ``floor_plan_rate_per_year`` are facts of the business: the engine passes its
        ``operations`` values."""
        if lead_days <= 0:
            raise ConfigError("policy.campaign.lead_days", lead_days, "must be > 0")
        if not 0 <= build_cutoff_days < lead_days:
            raise ConfigError(
                "policy.campaign.build_cutoff_days", build_cutoff_days, "must be in 0..lead_days - 1"
            )
        if not cover_days > 0:
            raise ConfigError("policy.campaign.cover_days", cover_days, "must be > 0")
        self.lead_days = lead_days
        self.build_cutoff_days = build_cutoff_days
        if max_units_per_spec < 1:
            raise ConfigError("policy.campaign.max_units_per_spec", max_units_per_spec, "must be >= 1")
        self.cover_days = cover_days
        self.max_units_per_spec = max_units_per_spec
        self.margin_share = margin_share
        self.floor_plan_rate_per_year = floor_plan_rate_per_year
        self._gap_cache: tuple[VehicleView, int, tuple[CampaignWindow, ...], IntArray] | None = None

    # -- when -----------------------------------------------------------------------------------------
    def positioning(self, campaign: CampaignWindow, day: int) -> bool:
        return campaign.start_day - self.lead_days <= day < campaign.start_day

    def building(self, campaign: CampaignWindow, day: int) -> bool:
        return campaign.start_day - self.lead_days <= day < campaign.start_day - self.build_cutoff_days

    # -- how much -------------------------------------------------------------------------------------
    def unit_values(
        self,
        view: VehicleView,
        campaign: CampaignWindow,
        day: int,
        position: IntArray,
        rate: FloatArray | None = None,
    ) -> FloatArray:
        """``[dealer, spec, k]``: what the k-th car beyond ``position`` placed for the campaign is worth (INR).

        It sells if the campaign's first ``cover_days`` of demand (Poisson: the dealer's rate x the uplift)
        reaches it, earning the margin; it costs floor-plan interest from now to the start, then for about half
        the cover if it sells and the whole cover if not. -inf outside the campaign's dealers and models.
        ``rate`` (``[dealer, spec]`` sales a day before the uplift) defaults to the one the view's trailing sales
        give (the dealer's model rate x the spec's plan share)."""
        if rate is None:
            rate = VehicleRebalancing.sales_rate_per_day(view)
        covered = campaign.dealers[:, None] & campaign.models[np.asarray(view.spec_model)][None, :]
        cover = min(self.cover_days, campaign.end_day - campaign.start_day)
        margin, holding_per_day = unit_economics(view, self.margin_share, self.floor_plan_rate_per_year)
        dealer, spec = np.nonzero(covered)
        values = np.full((*rate.shape, self.max_units_per_spec), -np.inf)
        values[dealer, spec] = unit_sale_values(
            position[dealer, spec],
            rate[dealer, spec] * campaign.vehicle_uplift * cover,
            margin[spec],
            holding_per_day[spec],
            cover,
            self.max_units_per_spec,
            days_before=max(campaign.start_day - day, 0),
        )
        return values

    def stock_target(
        self, view: VehicleView, campaign: CampaignWindow, rate: FloatArray | None = None
    ) -> IntArray:
        """``[dealer, spec]``: the cars a campaign dealer should hold at the start, judged from an empty yard
        when positioning begins, within its yard capacity. The engine measures both arms of a comparison
        against it, from the demand model's rate so the yardstick cannot depend on the arm."""
        empty = np.zeros(view.dealer_stock.shape, dtype=np.int64)
        values = self.unit_values(view, campaign, campaign.start_day - self.lead_days, empty, rate)
        return self._best_within_room(values, np.asarray(view.dealer_capacity, dtype=np.int64))

    def gap(self, view: VehicleView, campaigns: Sequence[CampaignWindow], day: int) -> IntArray:
        """``[dealer, spec]``: cars worth adding at campaign dealers now, for campaigns in positioning, the most
        valuable first within each dealer's yard room (overlapping campaigns: the larger value, not the sum).
        Computed once per view and day: every yard's allocation asks for it."""
        cached = self._gap_cache
        if (
            cached is not None
            and cached[0] is view  # the objects themselves, not ids a collected object could hand on
            and cached[1] == day
            and len(cached[2]) == len(campaigns)
            and all(a is b for a, b in zip(cached[2], campaigns, strict=True))
        ):
            return cached[3]
        held = np.asarray(view.dealer_stock, dtype=np.int64) + np.asarray(view.dealer_inbound, dtype=np.int64)
        values = np.full((*held.shape, self.max_units_per_spec), -np.inf)
        for campaign in campaigns:
            if self.positioning(campaign, day):
                np.maximum(values, self.unit_values(view, campaign, day, held), out=values)
        gap = self._best_within_room(values, self._room(view))
        self._gap_cache = (view, day, tuple(campaigns), gap)
        return gap

    @staticmethod
    def _best_within_room(values: FloatArray, room: IntArray) -> IntArray:
        """``[dealer, spec]`` counts of the units worth having (value > 0), each dealer's best ``room`` of them."""
        dealer, spec, _ = np.nonzero(values > 0)
        worth = values[dealer, spec, _]
        order = np.lexsort((-worth, dealer))  # by dealer, best first
        dealer, spec = dealer[order], spec[order]
        rank = np.arange(dealer.size) - np.searchsorted(dealer, dealer)
        keep = rank < room[dealer]
        gap = np.zeros(values.shape[:2], dtype=np.int64)
        np.add.at(gap, (dealer[keep], spec[keep]), 1)
        return gap

    def builds(
        self, view: VehicleView, campaigns: Sequence[CampaignWindow], day: int, on_trunk: IntArray
    ) -> IntArray:
        """``[stockyard, spec]``: extra stock builds for campaigns still far enough ahead to be reached.

        ``on_trunk`` counts positioning builds not yet in their yard's unallocated stock."""
        building = [campaign for campaign in campaigns if self.building(campaign, day)]
        yards = view.yard_stock.shape[0]
        if not building:
            return np.zeros((yards, view.yard_stock.shape[1]), dtype=np.int64)
        gap = self.gap(view, building, day)
        by_yard = np.zeros((yards, gap.shape[1]), dtype=np.int64)
        np.add.at(by_yard, np.asarray(view.dealer_stockyard), gap)
        return np.maximum(by_yard - np.asarray(view.yard_stock, dtype=np.int64) - on_trunk, 0)

    # -- who gets the cars ----------------------------------------------------------------------------
    def allocate_first(
        self, view: VehicleView, yard: int, vehicle_specs: IntArray, campaigns: Sequence[CampaignWindow]
    ) -> IntArray:
        """Dealer for each of the yard's cars that goes to close a campaign gap (-1: left to the normal policy).

        Per spec, units go to the dealer with the largest remaining gap first (ties: lower dealer index); each
        dealer's gap is already within its yard room, which the loop keeps as cars of several specs arrive."""
        assignment = np.full(vehicle_specs.size, -1, dtype=np.int64)
        dealers = np.flatnonzero(np.asarray(view.dealer_stockyard) == yard)
        if dealers.size == 0 or vehicle_specs.size == 0:
            return assignment
        gap = self.gap(view, campaigns, view.day)[dealers]
        room = self._room(view)[dealers]
        for spec in np.unique(vehicle_specs).tolist():
            wanting = np.flatnonzero((gap[:, spec] > 0) & (room > 0))
            if wanting.size == 0:
                continue
            cars = np.flatnonzero(vehicle_specs == spec)
            wants = np.minimum(gap[wanting, spec], room[wanting])
            # one entry per wanted unit, ranked by the gap left once the units before it are given
            owner = np.repeat(wanting, wants)
            remaining = np.repeat(wants, wants) - (
                np.arange(owner.size) - np.repeat(np.cumsum(wants) - wants, wants)
            )
            order = np.lexsort((owner, -remaining))[: cars.size]
            winners = owner[order]
            assignment[cars[: winners.size]] = dealers[winners]
            np.subtract.at(room, winners, 1)
        return assignment

    @staticmethod
    def _room(view: VehicleView) -> IntArray:
        held = np.asarray(view.dealer_stock).sum(axis=1) + np.asarray(view.dealer_inbound).sum(axis=1)
        return np.maximum(np.asarray(view.dealer_capacity, dtype=np.int64) - held, 0)

    def allocate(
        self,
        view: VehicleView,
        yard: int,
        vehicle_specs: IntArray,
        campaigns: Sequence[CampaignWindow],
        base: AllocatesVehicles,
    ) -> tuple[IntArray, BoolArray]:
        """Campaign gaps first, then ``base`` on the rest with the first call's cars counted as inbound.

        Returns each car's dealer (-1 stays in the yard) and which of them went to close a campaign gap."""
        first = self.allocate_first(view, yard, vehicle_specs, campaigns)
        positioned = first >= 0
        if positioned.all():
            return first, positioned
        after = view.with_allocated(first[positioned], vehicle_specs[positioned])
        rest = np.flatnonzero(~positioned)
        assignment = first.copy()
        assignment[rest] = base.allocate(after, yard, vehicle_specs[rest])
        return assignment, positioned
