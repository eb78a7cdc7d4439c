"""What a snapshot walks: the components of a built run and the few run-level facts around them.

``Simulation`` satisfies this protocol; the snapshot module reads and restores through it, so it never imports
the simulation (which imports the snapshot module to save and resume runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import simpy

    from twin.config import TwinConfig
    from twin.domain.world import World
    from twin.engine.campaigns import CampaignFlow
    from twin.engine.control_tower import ControlTower
    from twin.engine.customer_orders import CustomerOrders
    from twin.engine.kpis import KpiRecorder
    from twin.engine.parts_flow import PartsFlow
    from twin.engine.parts_logistics import PartsLogistics
    from twin.engine.rebalancing_flow import RebalancingFlow
    from twin.engine.settlement_flow import SettlementFlow
    from twin.engine.streams import RandomStreams
    from twin.engine.vehicle_flow import VehicleFlow

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class RunState(Protocol):
    # the run's state that is not a component's: the DMS history, the production plan of the allocation
    # period, the last age statistics, and a restored snapshot's in-flight steps not yet resumed
    history_lines_per_year: FloatArray
    history_units_per_day: FloatArray
    build_plan: list[tuple[IntArray, IntArray]]
    age_stats: tuple[float, float, float]
    pending_resume: dict[str, npt.NDArray[np.float64]] | None

    @property
    def config(self) -> TwinConfig: ...
    @property
    def world(self) -> World: ...
    @property
    def dealers(self) -> int: ...
    @property
    def skus(self) -> int: ...
    @property
    def env(self) -> simpy.Environment: ...
    @property
    def streams(self) -> RandomStreams: ...
    @property
    def kpis(self) -> KpiRecorder: ...
    @property
    def parts(self) -> PartsFlow: ...
    @property
    def logistics(self) -> PartsLogistics: ...
    @property
    def vehicles(self) -> VehicleFlow: ...
    @property
    def settlement(self) -> SettlementFlow: ...
    @property
    def control_tower(self) -> ControlTower | None: ...
    @property
    def rebalancing(self) -> RebalancingFlow | None: ...
    @property
    def customer_orders(self) -> CustomerOrders | None: ...
    @property
    def campaigns(self) -> CampaignFlow | None: ...
