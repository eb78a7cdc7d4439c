"""Demand: parts order lines (counter + workshop) and vehicle customers, sampled in bulk per day.

Parts demand is compound Poisson per ``[dealer, sku]`` cell with a seasonal daily rate, and line sizes are
geometric (the "stuttering Poisson" model of lumpy parts demand). Only cells that see demand are touched:
each dealer's line count is one Poisson draw, and its lines are placed on SKUs by inverse-CDF look-up in the
dealer's cumulative rate row, for all dealers at once: a guide table (Chen and Asau's index table) per dealer
brackets each line's SKU, and a few vectorised probes inside the bracket finish the look-up. O(lines), never a
pass over all cells, and exactly the SKU a ``searchsorted`` in the dealer's row would give.
Every per-line attribute (size, channel, pickup/repair delay, emergency choice) is drawn here whether or not
the line is filled, so the draws do not depend on decisions: common random numbers across policies.

Textbook mode (``parts_demand_model``, docs/textbook.md) swaps in the classic models of counter demand handed
over at once: Poisson units (placed the same sparse way, one line per unit), normal or deterministic daily
units per cell. The last two draw every cell with a rate each day: they are for stylised networks of a few
cells, not for the 800k cells of the default network.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.config import DemandConfig
from twin.domain.parts import PART_CLASSES
from twin.domain.textbook_tables import read_rates
from twin.domain.world import World
from twin.engine.scenario_effects import ScenarioEffects

_DEFAULTS = DemandConfig()  # defaults are declared once, in twin.config
#: Indian monthly retail profile, Jan..Dec: low in May, festive peak Oct-Nov (max/min ~ 1.6)
MONTHLY_VEHICLE_PROFILE = np.array([1.00, 0.95, 1.05, 0.90, 0.80, 0.85, 0.90, 0.95, 1.05, 1.25, 1.28, 0.95])
MONTHLY_VEHICLE_PROFILE = MONTHLY_VEHICLE_PROFILE / MONTHLY_VEHICLE_PROFILE.mean()
#: service parts follow the car parc more than retail: half the amplitude
PARTS_SEASONAL_DAMPING = 0.5
#: guide-table buckets per SKU of a dealer's row, and the most a row gets (memory: dealers x buckets x 4 bytes).
#: Sixteen: a line's bracket is then nearly always one SKU, so few lines need a probe (a 500-SKU day places
#: its lines in two thirds of the time four buckets take); large catalogues reach the cap either way
GUIDE_BUCKETS_PER_SKU = 16
GUIDE_BUCKETS_MAX = 1 << 14


def _guide_half_bits(skus: int) -> int:
    """Bits for each end of a packed guide-table bracket (an end is a SKU count, at most ``skus``)."""
    return 16 if skus < 1 << 16 else 32


def _guide_bucket_count(skus: int) -> int:
    """A power of two near ``GUIDE_BUCKETS_PER_SKU x skus``: a bracket then holds well under one SKU."""
    wanted = max(1, GUIDE_BUCKETS_PER_SKU * int(skus))
    return int(min(GUIDE_BUCKETS_MAX, 1 << (wanted - 1).bit_length()))


@dataclass(frozen=True)
class PartsLines:
    """One day's parts demand lines, sorted by ``(location, sku)``. ``location`` is a dealer index."""

    location: npt.NDArray[np.int64]
    sku: npt.NDArray[np.int64]
    quantity: npt.NDArray[np.int32]
    workshop: npt.NDArray[np.bool_]
    #: whole days until a filled line leaves (repair finished / counter order picked up); 0 = at once
    release_delay_days: npt.NDArray[np.int64]
    #: uniform draw compared with the class's emergency-order probability when the line is short
    emergency_draw: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.sku)


@dataclass(frozen=True)
class VehicleCustomers:
    """One day's vehicle customers, sorted by arrival time (days since start)."""

    arrival_day: npt.NDArray[np.float64]
    dealer: npt.NDArray[np.int64]
    spec: npt.NDArray[np.int64]
    patience_days: npt.NDArray[np.float64]
    colour_draw: npt.NDArray[np.float64]
    variant_draw: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.dealer)


class DemandModel:
    """Default demand model; Hydra builds it from ``conf/demand`` with ``_target_``."""

    def __init__(
        self,
        parts_lines_per_dealer_day: float = _DEFAULTS.parts_lines_per_dealer_day,
        vehicle_customers_per_dealer_month: float = _DEFAULTS.vehicle_customers_per_dealer_month,
        seasonality: bool = _DEFAULTS.seasonality,
        demand_multiplier: float = _DEFAULTS.demand_multiplier,
        customer_patience_days_mean: float = _DEFAULTS.customer_patience_days_mean,
        accept_other_colour: float = _DEFAULTS.accept_other_colour,
        accept_other_variant: float = _DEFAULTS.accept_other_variant,
        workshop_repair_days_mean: float = _DEFAULTS.workshop_repair_days_mean,
        counter_pickup_days_mean: float = _DEFAULTS.counter_pickup_days_mean,
        parts_demand_model: str = _DEFAULTS.parts_demand_model,
        parts_rate_mix: bool = _DEFAULTS.parts_rate_mix,
        parts_line_sizes: bool = _DEFAULTS.parts_line_sizes,
        parts_rates_path: str = _DEFAULTS.parts_rates_path,
        parts_demand_cv: float = _DEFAULTS.parts_demand_cv,
    ) -> None:
        self.parts_lines_per_dealer_day = parts_lines_per_dealer_day
        self.vehicle_customers_per_dealer_month = vehicle_customers_per_dealer_month
        self.seasonality = seasonality
        self.demand_multiplier = demand_multiplier
        self.customer_patience_days_mean = customer_patience_days_mean
        self.accept_other_colour = accept_other_colour
        self.accept_other_variant = accept_other_variant
        self.workshop_repair_days_mean = workshop_repair_days_mean
        self.counter_pickup_days_mean = counter_pickup_days_mean
        self.parts_demand_model = parts_demand_model
        self.parts_rate_mix = parts_rate_mix
        self.parts_line_sizes = parts_line_sizes
        self.parts_rates_path = parts_rates_path
        self.parts_demand_cv = parts_demand_cv
        self._bound = False

    # -- binding to a world -------------------------------------------------------------------------
    def bind(
        self,
        world: World,
        start_date: dt.date,
        mix_rng: np.random.Generator,
        effects: ScenarioEffects | None = None,
    ) -> None:
        """Precompute the per-cell rate table; ``mix_rng`` gives each dealer its own SKU mix (per network)."""
        dealers, skus = world.dealer_count, len(world.parts)
        mix = mix_rng.lognormal(-0.125, 0.5, size=(dealers, skus))  # mean 1, dealer-specific mix
        sku_class = world.parts.part_class
        units_per_line = np.array([c.units_per_line_mean for c in PART_CLASSES])[sku_class]
        #: mean units of a line, per SKU: the class's geometric mean, or one unit (textbook, sizes off)
        self.units_per_line_mean = (
            units_per_line
            if self.parts_demand_model == "compound_poisson" and self.parts_line_sizes
            else np.ones(skus)
        )
        #: standard deviation of a cell's daily units (``normal``); None: ``parts_demand_cv`` x the rate
        self._sd_units_per_day: npt.NDArray[np.float64] | None = None
        if self.parts_rates_path:
            table = read_rates(
                self.parts_rates_path,
                {str(dealer_id): index for index, dealer_id in enumerate(world.network.dealers.dealer_id)},
                {str(sku_id): index for index, sku_id in enumerate(world.parts.sku_id)},
            )
            rate = np.zeros((dealers, skus))
            # the table speaks units a day; the compound model places lines of the SKU's mean size
            rate[table.location, table.sku] = table.units_per_day / self.units_per_line_mean[table.sku]
            given = ~np.isnan(table.sd_units_per_day)
            if given.any():
                self._sd_units_per_day = self.parts_demand_cv * rate
                self._sd_units_per_day[table.location[given], table.sku[given]] = table.sd_units_per_day[
                    given
                ]
        else:
            rate = (
                self.parts_lines_per_dealer_day
                * world.dealer_parts_activity[:, None]
                * world.sku_demand_weight[None, :]
            )
            if self.parts_rate_mix:
                rate = rate * mix
        self.parts_rate_lines_per_day: npt.NDArray[np.float64] = rate
        self._skus = skus
        self._guide_buckets = _guide_bucket_count(skus)
        self._rates_changed()
        self._size_probability = 1.0 / units_per_line
        self._workshop_share = np.array([c.workshop_share for c in PART_CLASSES])[sku_class]
        self._world = world
        self._start_date = start_date
        self._effects = effects
        self._vehicle_rate_per_day = (
            self.vehicle_customers_per_dealer_month * 12.0 / 365.0 * world.dealer_vehicle_activity
        )
        self._bound = True

    def vehicle_season(self, day: int) -> float:
        if not self.seasonality:
            return 1.0
        month = (self._start_date + dt.timedelta(days=int(day))).month
        return float(MONTHLY_VEHICLE_PROFILE[month - 1])

    def parts_season(self, day: int) -> float:
        return 1.0 + PARTS_SEASONAL_DAMPING * (self.vehicle_season(day) - 1.0)

    def spec_weights(self, day: int) -> npt.NDArray[np.float64]:
        """Expected customers per ``[region, spec]`` relative to a dealer's base rate: the regional spec
        preference, scaled by any scenario shock or launch on the model (rows sum to 1 without one)."""
        preference = self._world.region_spec_preference
        if self._effects is None or not self._effects.changes_vehicle_demand:
            return preference
        return preference * self._effects.vehicle_multiplier(day)[:, self._world.specs.model]

    def expected_vehicle_customers_per_day(self, day: int) -> npt.NDArray[np.float64]:
        """Expected customers per dealer on ``day`` (season, demand multiplier and scenario effects)."""
        regional = self.spec_weights(day).sum(axis=1)[self._world.dealer_region]
        return self._vehicle_rate_per_day * self.vehicle_season(day) * self.demand_multiplier * regional

    def base_customers_per_day(self, day: int) -> npt.NDArray[np.float64]:
        """Per dealer, before scenario effects: rate x season x demand multiplier."""
        return self._vehicle_rate_per_day * self.vehicle_season(day) * self.demand_multiplier

    def expected_customers_by_spec(self, day: int) -> npt.NDArray[np.float64]:
        """Expected customers per spec on ``day`` over the whole network."""
        base = self.base_customers_per_day(day)
        weights = self.spec_weights(day)
        return np.bincount(self._world.dealer_region, weights=base, minlength=weights.shape[0]) @ weights

    def supersede(self, old_sku: int, new_sku: int) -> None:
        """From now on the old number's demand is asked for under the new one (demand rolls up)."""
        rate = self.parts_rate_lines_per_day
        rate[:, new_sku] += rate[:, old_sku]
        rate[:, old_sku] = 0.0
        spread = self._sd_units_per_day
        if spread is not None:  # independent demands add: variances add
            spread[:, new_sku] = np.hypot(spread[:, new_sku], spread[:, old_sku])
            spread[:, old_sku] = 0.0
        self._rates_changed()

    def _rates_changed(self) -> None:
        """The rate table changed: new cumulative rows now; the guide table when lines are next placed (a
        day's supersessions come several at a time)."""
        self._dealer_cumulative = np.cumsum(self.parts_rate_lines_per_day, axis=1)
        self._dealer_rate = self._dealer_cumulative[:, -1].copy()
        self._guide: npt.NDArray[np.unsignedinteger] | None = None
        #: the cells with a rate, sorted (the daily draws of the normal and deterministic models)
        self._rated_cells = np.flatnonzero(self.parts_rate_lines_per_day.reshape(-1) > 0)

    def _guide_table(self) -> npt.NDArray[np.unsignedinteger]:
        """The bracket of every bucket ``b`` of ``[0, 1)`` in every dealer's row, flat ``dealer * buckets + b``:
        ``first | last << half`` where ``first`` and ``last`` count the dealer's cumulative rates at most ``b /
        buckets`` and ``(b + 1) / buckets`` of its total (``searchsorted(row, b / buckets * total, side=
        "right")``). A line drawn at ``u`` in bucket ``b = floor(u * buckets)`` lands on a SKU from ``first`` to
        ``last``: the bucket count is a power of two, so ``b / buckets`` is exact, and rounding, being monotone,
        cannot move a line out of its bracket. Packed in pairs, one look-up per line reads both ends."""
        if self._guide is None:
            buckets = self._guide_buckets
            cumulative, total = self._dealer_cumulative, self._dealer_rate
            half = _guide_half_bits(self._skus)
            dtype = np.uint32 if half == 16 else np.uint64
            fractions = np.arange(buckets + 1) / buckets
            guide = np.empty((cumulative.shape[0], buckets), dtype=dtype)
            for dealer in range(cumulative.shape[0]):
                edges = np.searchsorted(cumulative[dealer], fractions * total[dealer], side="right")
                guide[dealer] = edges[:-1] | (edges[1:] << half)
            self._guide = guide.reshape(-1)
        return self._guide

    def _place_lines(
        self, location: npt.NDArray[np.int64], uniforms: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.int64]:
        """The flat cell (``dealer * skus + sku``) of each line, sorted: the SKU is the first whose cumulative
        rate in the dealer's row exceeds ``uniform x the dealer's total`` (inverse CDF). Sorting the cells, not
        the uniforms, gives the same lines: the look-up is monotone in the uniform within a dealer."""
        skus, buckets = self._skus, self._guide_buckets
        half = _guide_half_bits(skus)
        bracket = self._guide_table().take(location * buckets + (uniforms * buckets).astype(np.int64))
        row_start = location * skus
        cells = row_start + (bracket & ((1 << half) - 1)).astype(np.int64)
        limit = row_start + (bracket >> half).astype(np.int64)  # the cell is at most this one
        target = uniforms * self._dealer_rate[location]
        cumulative = self._dealer_cumulative.reshape(-1)
        probing = np.flatnonzero(cells < limit)
        while probing.size:  # brackets hold a SKU or two on average: a few rounds over a shrinking set
            probe = cells[probing]
            beyond = cumulative.take(probe) <= target[probing]
            probing = probing[beyond]
            cells[probing] += 1
            probing = probing[cells[probing] < limit[probing]]
        # the last SKU of a row when rounding puts the target at its very end
        np.minimum(cells, row_start + (skus - 1), out=cells)
        if cells.size and int(cells.max()) <= np.iinfo(np.int32).max:  # half the bytes to sort
            return np.sort(cells.astype(np.int32)).astype(np.int64)
        cells.sort()
        return cells

    # -- sampling -----------------------------------------------------------------------------------
    def parts_lines(self, day: int, rng: np.random.Generator) -> PartsLines:
        if self.parts_demand_model == "poisson":
            return self._poisson_unit_lines(day, rng)
        if self.parts_demand_model in ("normal", "deterministic"):
            return self._daily_unit_lines(day, rng)
        scale = self.parts_season(day) * self.demand_multiplier
        rate = self._dealer_rate * scale
        shocked = self._effects.parts_multiplier(day) if self._effects is not None else None
        counts = rng.poisson(rate if shocked is None else rate * shocked)
        count = int(counts.sum())
        uniforms = rng.random(count)
        location = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        # lines sorted by cell, which the fill step relies on for speed
        sku = self._place_lines(location, uniforms) - location * self._skus
        size = rng.geometric(self._size_probability[sku])
        if not self.parts_line_sizes:  # drawn all the same, so the later draws stay where they were
            size = np.ones_like(size)
        workshop = rng.random(count) < self._workshop_share[sku]
        repair_days = rng.geometric(1.0 / max(self.workshop_repair_days_mean, 1.0), count)
        waits = rng.random(count) < 0.3
        pickup_chance = 1.0 / max(self.counter_pickup_days_mean, 1.0)
        if pickup_chance == 1.0:
            # a geometric draw of chance 1 is always 1 and takes one uniform (numpy's search method), so
            # skipping the search leaves the same days and the stream where it would be
            rng.random(count)
            pickup_days = waits.astype(np.int64)
        else:
            pickup_days = np.where(waits, rng.geometric(pickup_chance, count), 0)
        return PartsLines(
            location=location,
            sku=sku,
            quantity=size.astype(np.int32),
            workshop=workshop,
            release_delay_days=np.where(workshop, repair_days, pickup_days).astype(np.int64),
            emergency_draw=rng.random(count),
        )

    # -- textbook demand -------------------------------------------------------------------------------
    def _day_rates(self, day: int) -> tuple[float, npt.NDArray[np.float64] | None]:
        """The day's scale on every rate (season x demand multiplier) and any scenario shock per dealer."""
        scale = self.parts_season(day) * self.demand_multiplier
        return scale, self._effects.parts_multiplier(day) if self._effects is not None else None

    def _poisson_unit_lines(self, day: int, rng: np.random.Generator) -> PartsLines:
        """Poisson units per cell, one line per unit: a Poisson count per dealer placed on its SKUs in
        proportion to their rates (Poisson splitting), so each cell's count is Poisson at its own rate."""
        scale, shocked = self._day_rates(day)
        rate = self._dealer_rate * scale
        counts = rng.poisson(rate if shocked is None else rate * shocked)
        location = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
        sku = self._place_lines(location, rng.random(location.size)) - location * self._skus
        return _counter_lines(location, sku, np.ones(sku.size, dtype=np.int32), rng)

    def _daily_unit_lines(self, day: int, rng: np.random.Generator) -> PartsLines:
        """One line a day per rated cell with demand: ``round(max(0, N(rate, sd)))`` units (normal) or the
        whole units the running total ``rate x day`` passes today (deterministic, rate exact over time)."""
        scale, shocked = self._day_rates(day)
        cells = self._rated_cells
        location = cells // self._skus
        mean = self.parts_rate_lines_per_day.reshape(-1)[cells] * scale
        if shocked is not None:
            mean = mean * shocked[location]
        if self.parts_demand_model == "normal":
            if self._sd_units_per_day is None:
                sd = self.parts_demand_cv * mean
            else:  # the table's spread, scaled with the mean by season, multiplier and shock
                sd = self._sd_units_per_day.reshape(-1)[cells] * scale
                if shocked is not None:
                    sd = sd * shocked[location]
            # rounded at random (down, or up with the fraction as the chance): whole units whose mean is the
            # normal's cut at zero, so a slow cell keeps its rate where rint would round it away
            units = np.floor(np.maximum(rng.normal(mean, sd), 0.0) + rng.random(cells.size)).astype(np.int64)
        else:
            units = np.floor(mean * (day + 1) + 0.5).astype(np.int64) - np.floor(mean * day + 0.5).astype(
                np.int64
            )
        demanded = units > 0
        return _counter_lines(
            location[demanded],
            cells[demanded] - location[demanded] * self._skus,
            units[demanded].astype(np.int32),
            rng,
        )

    def vehicle_customers(self, day: int, rng: np.random.Generator) -> VehicleCustomers:
        counts = rng.poisson(self.expected_vehicle_customers_per_day(day))
        dealer = np.repeat(np.arange(counts.size), counts)
        total = dealer.size
        arrival = day + rng.random(total)
        region = self._world.dealer_region[dealer]
        draws = rng.random(total)
        spec = np.empty(total, dtype=np.int64)
        cumulative = np.cumsum(self.spec_weights(day), axis=1)
        for region_index in np.unique(region):
            members = region == region_index
            table = cumulative[region_index]
            spec[members] = np.minimum(
                np.searchsorted(table, draws[members] * table[-1], side="right"), table.size - 1
            )
        patience = rng.exponential(self.customer_patience_days_mean, total)
        colour_draw = rng.random(total)
        variant_draw = rng.random(total)
        order = np.argsort(arrival, kind="stable")
        return VehicleCustomers(
            arrival[order],
            dealer[order],
            spec[order],
            patience[order],
            colour_draw[order],
            variant_draw[order],
        )


def _counter_lines(
    location: npt.NDArray[np.int64],
    sku: npt.NDArray[np.int64],
    quantity: npt.NDArray[np.int32],
    rng: np.random.Generator,
) -> PartsLines:
    """Textbook lines: counter sales handed over at once (no workshop, no pickup wait), sorted by cell."""
    count = sku.size
    return PartsLines(
        location=location,
        sku=sku,
        quantity=quantity,
        workshop=np.zeros(count, dtype=bool),
        release_delay_days=np.zeros(count, dtype=np.int64),
        emergency_draw=rng.random(count),
    )
