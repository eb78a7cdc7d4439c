"""What-if scenarios as timed effects on the network: demand shocks, launches, carrier and DC outages,
lead-time changes and part supersessions.

``ScenarioEffects`` turns the scenario config into per-day multipliers and masks that the demand model,
the parts logistics and the vehicle flow ask for; names in the config are resolved against the world
here, so a misspelt region, model, carrier or DC fails before the run with the field and value named.

Events that overlap in time and place combine as follows (README, "What-if scenarios"): demand shocks and
campaigns on the same ``[region, model]`` cells multiply (two shocks of x1.5 and x2 give x3, a campaign of
x1.2 on top x3.6), and so do lead-time changes and region lane disruptions; DC outages are a union (a DC is
shut while any outage covers it). Refused instead: two overlapping carrier-wide cuts of one carrier (a fleet
cut is a number of trucks, not a factor: merge them), a model launched twice (``twin.config.validate``), and a
carrier disruption of one carrier in a region where no dealer is served by that carrier (it would change
nothing).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from twin.config import ScenarioConfig
from twin.domain.parts import PART_CLASS_NAMES
from twin.domain.world import World
from twin.errors import ConfigError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class VehicleFleetBlock:
    """Trucks of a vehicle carrier taken out of service over a window."""

    carrier: int
    trucks: int
    start_day: int
    end_day: int


class ScenarioEffects:
    def __init__(self, scenario: ScenarioConfig, world: World, generator_seed: int) -> None:
        self.scenario = scenario
        self.world = world
        network = world.network
        self._regions = {name: index for index, name in enumerate(world.region_names)}
        self._models = {name: index for index, name in enumerate(world.specs.model_names)}
        self._carriers = {
            str(carrier_id): index for index, carrier_id in enumerate(network.carriers.carrier_id)
        }
        self._dcs = {str(site_id): index for index, site_id in enumerate(network.parts_dcs.site_id)}
        self._shocks = [
            (
                shock,
                self._region(f"scenario.demand_shocks[{i}].region", shock.region),
                self._model(f"scenario.demand_shocks[{i}].model", shock.model),
            )
            for i, shock in enumerate(scenario.demand_shocks)
        ]
        #: per campaign: its config, and which regions and models it covers (masks)
        self.campaigns = [
            (
                campaign,
                self._mask(self._regions, f"scenario.campaigns[{i}].regions", campaign.regions),
                self._mask(self._models, f"scenario.campaigns[{i}].models", campaign.models),
            )
            for i, campaign in enumerate(scenario.campaigns)
        ]
        self._launches = [
            (launch, self._model(f"scenario.model_launches[{i}].model", launch.model, required=True))
            for i, launch in enumerate(scenario.model_launches)
        ]
        self._disruptions = [
            (
                event,
                self._carrier(f"scenario.carrier_disruptions[{i}].carrier_id", event.carrier_id),
                self._region(f"scenario.carrier_disruptions[{i}].region", event.region),
            )
            for i, event in enumerate(scenario.carrier_disruptions)
        ]
        self._outages = [
            (event, self._dc(f"scenario.dc_outages[{i}].dc_id", event.dc_id))
            for i, event in enumerate(scenario.dc_outages)
        ]
        self.supersession_pairs = self._supersession_pairs(generator_seed)
        self._lead_time_changes = tuple(scenario.lead_time_changes)  # asked once per shipment: keep it cheap
        self._dealer_region = world.dealer_region
        self._reject_overlapping_fleet_cuts()
        self._reject_lanes_nobody_uses()

    # -- name resolution ---------------------------------------------------------------------------
    def _lookup(self, table: dict[str, int], field_name: str, value: str, required: bool) -> int:
        if not value:
            if required:
                raise ConfigError(field_name, value, "must be given")
            return -1
        if value not in table:
            raise ConfigError(field_name, value, f"is not in this network (known: {sorted(table)})")
        return table[value]

    def _mask(self, table: dict[str, int], field_name: str, values: list[str]) -> npt.NDArray[np.bool_]:
        """Which of ``table`` a list of names covers; an empty list covers all."""
        mask = np.zeros(len(table), dtype=bool)
        if not values:
            mask[:] = True
        for index, value in enumerate(values):
            mask[self._lookup(table, f"{field_name}[{index}]", value, True)] = True
        return mask

    def _region(self, field_name: str, value: str) -> int:
        return self._lookup(self._regions, field_name, value, False)

    def _model(self, field_name: str, value: str, required: bool = False) -> int:
        return self._lookup(self._models, field_name, value, required)

    def _carrier(self, field_name: str, value: str) -> int:
        return self._lookup(self._carriers, field_name, value, False)

    def _dc(self, field_name: str, value: str) -> int:
        return self._lookup(self._dcs, field_name, value, True)

    def _supersession_pairs(self, generator_seed: int) -> list[tuple[int, list[tuple[int, int]]]]:
        """Which SKUs are superseded (and by which) on each supersession day; fixed by the network seed."""
        pairs = []
        retired: set[int] = set()
        part_class = self.world.parts.part_class
        for index, event in enumerate(self.scenario.supersessions):
            if event.part_class and event.part_class not in PART_CLASS_NAMES:
                raise ConfigError(
                    f"scenario.supersessions[{index}].part_class",
                    event.part_class,
                    f"must be one of {list(PART_CLASS_NAMES)}",
                )
            members = (
                np.arange(part_class.size)
                if not event.part_class
                else np.flatnonzero(part_class == PART_CLASS_NAMES.index(event.part_class))
            )
            rng = np.random.default_rng(np.random.SeedSequence([generator_seed, 7, index]))
            count = max(1, round(event.sku_share * members.size))
            chosen = rng.permutation(np.setdiff1d(members, np.fromiter(retired, dtype=np.int64)))[: 2 * count]
            retired.update(chosen[:count].tolist())
            pairs.append(
                (
                    event.day,
                    list(zip(chosen[:count].tolist(), chosen[count : 2 * count].tolist(), strict=False)),
                )
            )
        return pairs

    # -- demand ------------------------------------------------------------------------------------
    @property
    def changes_vehicle_demand(self) -> bool:
        return bool(self._shocks or self._launches or self.campaigns)

    def vehicle_multiplier(self, day: int) -> FloatArray:
        """Demand factor per ``[region, model]`` on ``day`` (launches zero a model before its day)."""
        factor = np.ones((len(self._regions), len(self._models)))
        for shock, region, model in self._shocks:
            if shock.start_day <= day < shock.end_day:
                factor[region if region >= 0 else slice(None), model if model >= 0 else slice(None)] *= (
                    shock.vehicle_multiplier
                )
        for campaign, regions, models in self.campaigns:
            if campaign.start_day <= day < campaign.end_day:
                factor[np.ix_(regions, models)] *= campaign.vehicle_uplift
        for launch, model in self._launches:
            if day < launch.launch_day:
                factor[:, model] = 0.0
        return factor

    def parts_multiplier(self, day: int) -> FloatArray | None:
        """Parts demand factor per dealer on ``day``, or None when nothing is active (the common case)."""
        factor = None
        for shock, region, _ in self._shocks:
            if shock.start_day <= day < shock.end_day and shock.parts_multiplier != 1.0:
                if factor is None:
                    factor = np.ones(self._dealer_region.size)
                factor[self._dealer_region == region if region >= 0 else slice(None)] *= (
                    shock.parts_multiplier
                )
        for campaign, regions, _ in self.campaigns:
            if campaign.start_day <= day < campaign.end_day and campaign.parts_uplift != 1.0:
                if factor is None:
                    factor = np.ones(self._dealer_region.size)
                factor[regions[self._dealer_region]] *= campaign.parts_uplift
        return factor

    def supersessions_on(self, day: int) -> list[tuple[int, int]]:
        return [pair for event_day, pairs in self.supersession_pairs if event_day == day for pair in pairs]

    # -- supply ------------------------------------------------------------------------------------
    def parts_capacity_share(self, day: int, carriers: int) -> FloatArray:
        share = np.ones(carriers)
        for event, carrier, region in self._disruptions:
            if event.start_day <= day < event.end_day and carrier >= 0 and region < 0:
                share[carrier] *= event.capacity_share
        return share

    def lane_share(self, day: int, mode: str) -> FloatArray | None:
        """Capacity share of each dealer's inbound ``mode`` lane ("parts" or "vehicles") under region-wide
        disruptions (optionally of one carrier), or None when nothing is active."""
        network = self.world.network
        lane_carrier = network.parts_carrier if mode == "parts" else network.vehicle_carrier
        share = None
        for event, carrier, region in self._disruptions:
            if event.start_day <= day < event.end_day and region >= 0:
                lanes = self._dealer_region == region
                if carrier >= 0:
                    lanes &= lane_carrier == carrier
                if lanes.any():
                    share = np.ones(self._dealer_region.size) if share is None else share
                    share[lanes] *= event.capacity_share
        return share

    def dc_open(self, day: int, dcs: int) -> npt.NDArray[np.bool_]:
        is_open = np.ones(dcs, dtype=bool)
        for event, dc in self._outages:
            if event.start_day <= day < event.end_day:
                is_open[dc] = False
        return is_open

    def supplier_multiplier(self, day: int) -> float:
        return math.prod(
            c.supplier_multiplier for c in self._lead_time_changes if c.start_day <= day < c.end_day
        )

    def transit_multiplier(self, day: int) -> float:
        """Asked once per shipment, so plain Python: no numpy call on an empty list."""
        return math.prod(
            c.transit_multiplier for c in self._lead_time_changes if c.start_day <= day < c.end_day
        )

    def _reject_overlapping_fleet_cuts(self) -> None:
        """Two carrier-wide cuts of one car carrier at once would add up to more than either says."""
        carrier_wide = [(i, e, c) for i, (e, c, r) in enumerate(self._disruptions) if c >= 0 and r < 0]
        for position, (index, event, carrier) in enumerate(carrier_wide):
            for other_index, other, other_carrier in carrier_wide[position + 1 :]:
                if (
                    carrier == other_carrier
                    and event.start_day < other.end_day
                    and other.start_day < event.end_day
                ):
                    raise ConfigError(
                        f"scenario.carrier_disruptions[{other_index}].start_day",
                        other.start_day,
                        f"overlaps carrier_disruptions[{index}] on {event.carrier_id}; merge them into one share",
                    )

    def _reject_lanes_nobody_uses(self) -> None:
        """A region disruption of one named carrier must hit some dealer's lane, or it silently does nothing."""
        network = self.world.network
        for index, (event, carrier, region) in enumerate(self._disruptions):
            if carrier < 0 or region < 0:
                continue
            in_region = self._dealer_region == region
            served = in_region & ((network.parts_carrier == carrier) | (network.vehicle_carrier == carrier))
            if not served.any():
                raise ConfigError(
                    f"scenario.carrier_disruptions[{index}].region",
                    event.region,
                    f"no dealer in it is served by carrier {event.carrier_id}: the disruption would change nothing",
                )

    def warn_outside(self, horizon_days: int) -> list[str]:
        """Events that start on or after the horizon change nothing; say so (a short debug run is legitimate)."""
        scenario = self.scenario
        starts = [
            *(
                (f"scenario.demand_shocks[{i}].start_day", e.start_day)
                for i, e in enumerate(scenario.demand_shocks)
            ),
            *((f"scenario.campaigns[{i}].start_day", e.start_day) for i, e in enumerate(scenario.campaigns)),
            *(
                (f"scenario.carrier_disruptions[{i}].start_day", e.start_day)
                for i, e in enumerate(scenario.carrier_disruptions)
            ),
            *(
                (f"scenario.dc_outages[{i}].start_day", e.start_day)
                for i, e in enumerate(scenario.dc_outages)
            ),
            *(
                (f"scenario.lead_time_changes[{i}].start_day", e.start_day)
                for i, e in enumerate(scenario.lead_time_changes)
            ),
            *(
                (f"scenario.model_launches[{i}].launch_day", e.launch_day)
                for i, e in enumerate(scenario.model_launches)
            ),
            *((f"scenario.supersessions[{i}].day", e.day) for i, e in enumerate(scenario.supersessions)),
        ]
        messages = [
            f"{field}={day} is on or after the horizon ({horizon_days} days): it has no effect in this run"
            for field, day in starts
            if day >= horizon_days
        ]
        for message in messages:
            warnings.warn(message, stacklevel=2)
        return messages

    def vehicle_fleet_blocks(self) -> list[VehicleFleetBlock]:
        """Carrier-wide disruptions of vehicle carriers, as trucks taken out of the fleet."""
        carriers = self.world.network.carriers
        blocks = []
        for event, carrier, region in self._disruptions:
            if carrier >= 0 and region < 0 and carriers.mode[carrier] == "vehicles":
                trucks = round(float(carriers.fleet_size[carrier]) * (1.0 - event.capacity_share))
                if trucks > 0:
                    blocks.append(VehicleFleetBlock(carrier, trucks, event.start_day, event.end_day))
        return blocks
