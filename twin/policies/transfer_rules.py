"""The OEM policy engine for transfer recommendations: which auto-execute, which wait for a person, which are refused.

Rules are plain dataclasses a config builds (one per line of the OEM's policy sheet) and are evaluated in order,
first match wins, with a default at the end, so the policy reads like the sheet. Two network guards then apply
to every recommendation the rules did not reject, whatever rule matched, because no rule may override them:
a dealer never sends below its safety-stock floor, and no dealer takes part in more than a set number of transfers
in a rolling 7 days. Every decision names the rule or guard that made it (the audit trail the OEM asks for).

Evaluation is vectorised over the batch (one numpy pass per rule); the guards are greedy in batch order (the
caller puts its best recommendations first): the floor guard with prefix sums, the weekly cap in one ordered pass. Human approval is a pure model (lognormal latency, an approval probability) drawn from a Generator
the caller owns, so the simulator gives it its own stream and a live system can ignore it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import numpy.typing as npt

from twin.errors import ConfigError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: action codes, in the order of ``ACTION_NAMES`` (int8 in ``TransferDecisions.action``)
AUTO_EXECUTE = 0
APPROVAL = 1
REJECT = 2
ACTION_NAMES: tuple[str, ...] = ("auto_execute", "approval", "reject")

DEFAULT_RULE_ID = "default"
FLOOR_GUARD_ID = "guard:safety_stock_floor"
WEEKLY_CAP_GUARD_ID = "guard:max_transfers_per_week"

#: z-score of the 90th percentile of a standard normal (lognormal p90 = median * exp(z90 * sigma))
_Z90 = 1.2815515655446004


def action_code(name: str, field_name: str = "action") -> int:
    """The int code of an action name; unknown names raise ConfigError (a typo must not silently auto-execute)."""
    if name not in ACTION_NAMES:
        raise ConfigError(field_name, name, f"unknown action; expected one of {ACTION_NAMES}")
    return ACTION_NAMES.index(name)


def _check_range(rule_id: str, name: str, low: float, high: float, floor: float) -> None:
    for bound_name, bound in ((f"min_{name}", low), (f"max_{name}", high)):
        if not isinstance(bound, int | float) or math.isnan(bound):
            raise ConfigError(f"transfer_rules[{rule_id}].{bound_name}", bound, "must be a number")
    if low < floor:
        raise ConfigError(f"transfer_rules[{rule_id}].min_{name}", low, f"must be >= {floor}")
    if high < low:
        raise ConfigError(f"transfer_rules[{rule_id}].max_{name}", high, f"must be >= min_{name}={low}")


@dataclass(frozen=True)
class TransferRule:
    """One line of the OEM's transfer policy: conditions (all must hold) and the action when they do.

    Ranges are half-open ``[min, max)``; an empty ``categories`` matches every category (part class or
    vehicle model); an opt-in condition of ``None`` does not look at the flag.
    """

    rule_id: str
    action: str
    categories: tuple[str, ...] = ()
    min_value_inr: float = 0.0
    max_value_inr: float = math.inf
    min_distance_km: float = 0.0
    max_distance_km: float = math.inf
    min_benefit_cost_ratio: float = -math.inf
    max_benefit_cost_ratio: float = math.inf
    sender_opted_in: bool | None = None
    receiver_opted_in: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.rule_id, str) or not self.rule_id:
            raise ConfigError("transfer_rules.rule_id", self.rule_id, "must be a non-empty string")
        if self.rule_id in (DEFAULT_RULE_ID, FLOOR_GUARD_ID, WEEKLY_CAP_GUARD_ID):
            raise ConfigError(
                "transfer_rules.rule_id", self.rule_id, "reserved for the default rule or a guard"
            )
        action_code(self.action, f"transfer_rules[{self.rule_id}].action")
        if isinstance(self.categories, str) or not all(isinstance(c, str) for c in self.categories):
            raise ConfigError(
                f"transfer_rules[{self.rule_id}].categories", self.categories, "must be a list of names"
            )
        object.__setattr__(self, "categories", tuple(self.categories))
        _check_range(self.rule_id, "value_inr", self.min_value_inr, self.max_value_inr, 0.0)
        _check_range(self.rule_id, "distance_km", self.min_distance_km, self.max_distance_km, 0.0)
        _check_range(
            self.rule_id,
            "benefit_cost_ratio",
            self.min_benefit_cost_ratio,
            self.max_benefit_cost_ratio,
            -math.inf,
        )
        for name in ("sender_opted_in", "receiver_opted_in"):
            flag = getattr(self, name)
            if flag is not None and not isinstance(flag, bool):
                raise ConfigError(
                    f"transfer_rules[{self.rule_id}].{name}", flag, "must be true, false or null"
                )


def rule_from_mapping(record: Mapping[str, Any]) -> TransferRule:
    """Build a rule from a config mapping (YAML line); unknown keys are errors, not silently ignored."""
    known = {f.name for f in fields(TransferRule)}
    unknown = sorted(set(record) - known)
    if unknown:
        raise ConfigError(
            f"transfer_rules[{record.get('rule_id')}]", unknown, f"unknown keys; known: {sorted(known)}"
        )
    for required in ("rule_id", "action"):
        if required not in record:
            raise ConfigError(f"transfer_rules[{record.get('rule_id')}].{required}", None, "is required")
    values = dict(record)
    if "categories" in values and not isinstance(values["categories"], str):
        values["categories"] = tuple(values["categories"])
    return TransferRule(**values)


@dataclass(frozen=True)
class TransferPolicyConfig:
    """The whole policy: ordered rules, the default action, and the two network guards' settings."""

    rules: tuple[TransferRule, ...] = ()
    default_action: str = "approval"
    max_transfers_per_dealer_per_week: int = 10
    enforce_safety_stock_floor: bool = True
    #: judge value, distance and benefit/cost on the whole transfer (the lines sharing a shipment, sender and
    #: receiver), so a consignment whose freight is one charge ships whole or not at all
    evaluate_per_transfer: bool = False

    def __post_init__(self) -> None:
        rules = tuple(r if isinstance(r, TransferRule) else rule_from_mapping(r) for r in self.rules)
        object.__setattr__(self, "rules", rules)
        seen: set[str] = set()
        for rule in rules:
            if rule.rule_id in seen:
                raise ConfigError("transfer_rules.rule_id", rule.rule_id, "duplicate rule id")
            seen.add(rule.rule_id)
        action_code(self.default_action, "transfer_policy.default_action")
        cap = self.max_transfers_per_dealer_per_week
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise ConfigError(
                "transfer_policy.max_transfers_per_dealer_per_week", cap, "must be an integer >= 0"
            )

    @property
    def decider_ids(self) -> tuple[str, ...]:
        """Every id a decision can name: the rules in order, the default, then the guards."""
        return (*(r.rule_id for r in self.rules), DEFAULT_RULE_ID, FLOOR_GUARD_ID, WEEKLY_CAP_GUARD_ID)


@dataclass(frozen=True)
class TransferBatch:
    """A batch of recommendations, one entry per (shipment, sender, receiver, item) line, best first.

    ``item`` is a SKU (parts) or a spec (vehicles) index into the stock arrays; ``category`` indexes the
    category names the engine was built with; ``shipment`` groups lines travelling together (a lane's truck or
    a multi-stop route): the weekly cap counts one transfer per (shipment, sender, receiver), not per SKU.
    """

    sender: IntArray
    receiver: IntArray
    item: IntArray
    units: IntArray
    value_inr: FloatArray
    distance_km: FloatArray
    freight_inr: FloatArray
    benefit_inr: FloatArray
    category: IntArray
    day: IntArray
    shipment: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        count = len(self.sender)
        if len(self.shipment) == 0 and count:
            object.__setattr__(self, "shipment", np.zeros(count, dtype=np.int64))
        for f in fields(self):
            array = np.asarray(getattr(self, f.name))
            if array.ndim != 1 or len(array) != count:
                raise ConfigError(f"TransferBatch.{f.name}", array.shape, f"must be 1-d of length {count}")
            object.__setattr__(self, f.name, array)
        for name in ("units", "value_inr", "distance_km", "freight_inr"):
            array = getattr(self, name)
            if count and (not np.all(np.isfinite(array)) or array.min() < 0):
                raise ConfigError(f"TransferBatch.{name}", float(np.min(array)), "must be finite and >= 0")
        if count and self.units.min() <= 0:
            raise ConfigError("TransferBatch.units", int(self.units.min()), "every line must move >= 1 unit")
        if count and np.any(self.sender == self.receiver):
            raise ConfigError(
                "TransferBatch.receiver", int(self.receiver[self.sender == self.receiver][0]), "== sender"
            )

    def __len__(self) -> int:
        return len(self.sender)

    @property
    def benefit_cost_ratio(self) -> FloatArray:
        """Benefit / freight; +inf for a free move with a benefit, 0 for a free move without one."""
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = self.benefit_inr / self.freight_inr
        return np.where(self.freight_inr > 0, ratio, np.where(self.benefit_inr > 0, np.inf, 0.0))


@dataclass(frozen=True)
class TransferDecisions:
    """Per recommendation: the action code and the index of the deciding rule or guard in ``decider_ids``."""

    action: npt.NDArray[np.int8]
    decider: IntArray
    decider_ids: tuple[str, ...]

    def action_names(self) -> npt.NDArray[np.str_]:
        return np.asarray(ACTION_NAMES)[self.action]

    def decider_names(self) -> npt.NDArray[np.str_]:
        """The audit trail: the id of the rule or guard that decided each recommendation."""
        return np.asarray(self.decider_ids)[self.decider]


def _first_violations_per_group(group: IntArray, amount: IntArray, allowance: IntArray) -> BoolArray:
    """Greedy in order within each group: accept while the running total fits ``allowance`` (per element).

    Groups are independent, so each pass rejects the first overflowing element of every group at once; passes
    = the largest number of rejections in one group.
    """
    count = len(group)
    accepted = np.ones(count, dtype=bool)
    order = np.lexsort((np.arange(count), group))
    sorted_group = group[order]
    starts = np.r_[True, sorted_group[1:] != sorted_group[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(count), 0))
    while True:
        taken = np.where(accepted[order], amount[order], 0)
        running = np.cumsum(taken)
        before_group = (running - taken)[group_start]
        within = running - before_group
        over = (within > allowance[order]) & accepted[order]
        if not over.any():
            return accepted
        over_index = np.flatnonzero(over)
        first_in_group = np.r_[True, sorted_group[over_index[1:]] != sorted_group[over_index[:-1]]]
        accepted[order[over_index[first_in_group]]] = False


def _weekly_cap(sender: IntArray, receiver: IntArray, base_count: IntArray, cap: int) -> BoolArray:
    """Greedy in order over transfers: accept one unless it lifts its sender's or receiver's 7-day count over cap.

    One pass in order; each decision depends on every earlier one, so this is a plain loop over the transfers
    (tens of thousands a cycle at most, milliseconds), where a vectorised version needs a pass per rejection.
    """
    counts = np.asarray(base_count, dtype=np.int64).tolist()
    accepted = np.zeros(len(sender), dtype=bool)
    for index, (from_dealer, to_dealer) in enumerate(zip(sender.tolist(), receiver.tolist(), strict=True)):
        if counts[from_dealer] < cap and counts[to_dealer] < cap:
            counts[from_dealer] += 1
            counts[to_dealer] += 1
            accepted[index] = True
    return accepted


class TransferPolicyEngine:
    """Evaluates a policy over batches of recommendations; built once per run against the category names."""

    def __init__(self, config: TransferPolicyConfig, category_names: Sequence[str]) -> None:
        self.config = config
        self.category_names = tuple(category_names)
        self.decider_ids = config.decider_ids
        index = {name: i for i, name in enumerate(self.category_names)}
        self._category_masks: list[BoolArray] = []
        for rule in config.rules:
            mask = np.ones(len(self.category_names), dtype=bool)
            if rule.categories:
                unknown = [c for c in rule.categories if c not in index]
                if unknown:
                    raise ConfigError(
                        f"transfer_rules[{rule.rule_id}].categories", unknown, "unknown category"
                    )
                mask = np.zeros(len(self.category_names), dtype=bool)
                mask[[index[c] for c in rule.categories]] = True
            self._category_masks.append(mask)

    def transfers_left(self, recent_transfer_count: npt.ArrayLike) -> IntArray:
        """Per dealer, the transfers (sent or received) the weekly cap still allows, given each dealer's count
        of the last 7 days: what a planner may plan within (``PartsView.transfers_left_this_week``)."""
        left = self.config.max_transfers_per_dealer_per_week - np.asarray(
            recent_transfer_count, dtype=np.int64
        )
        return np.maximum(left, 0)

    def decide(
        self,
        batch: TransferBatch,
        opted_in: BoolArray,
        recent_transfer_count: IntArray,
        stock_units: IntArray,
        floor_units: IntArray,
    ) -> TransferDecisions:
        """Action and deciding rule per recommendation.

        ``opted_in[dealer]``: the dealer accepts automatic transfers; ``recent_transfer_count[dealer]``:
        transfers executed or approved in the last 7 days; ``stock_units`` / ``floor_units`` ``[dealer, item]``:
        what the sender holds now and the floor it must keep (safety stock).
        """
        count = len(batch)
        dealers = len(opted_in)
        for name, dealer in (("sender", batch.sender), ("receiver", batch.receiver)):
            outside = np.flatnonzero((dealer < 0) | (dealer >= dealers)) if count else dealer[:0]
            if outside.size:
                raise ConfigError(
                    f"TransferBatch.{name}", int(dealer[outside[0]]), f"dealer index out of 0..{dealers - 1}"
                )
        if count and (batch.category.min() < 0 or batch.category.max() >= len(self.category_names)):
            raise ConfigError(
                "TransferBatch.category", int(batch.category.max()), "category index out of range"
            )
        action = np.full(count, action_code(self.config.default_action), dtype=np.int8)
        decider = np.full(count, len(self.config.rules), dtype=np.int64)
        undecided = np.ones(count, dtype=bool)
        ratio, value, distance = batch.benefit_cost_ratio, batch.value_inr, batch.distance_km
        if self.config.evaluate_per_transfer and count:
            ratio, value, distance = _per_transfer(batch)
        sender_in = opted_in[batch.sender]
        receiver_in = opted_in[batch.receiver]
        for position, (rule, category_mask) in enumerate(
            zip(self.config.rules, self._category_masks, strict=True)
        ):
            match = (
                undecided
                & category_mask[batch.category]
                & (value >= rule.min_value_inr)
                & (value < rule.max_value_inr)
                & (distance >= rule.min_distance_km)
                & (distance < rule.max_distance_km)
                & (ratio >= rule.min_benefit_cost_ratio)
                & (ratio < rule.max_benefit_cost_ratio)
            )
            if rule.sender_opted_in is not None:
                match &= sender_in == rule.sender_opted_in
            if rule.receiver_opted_in is not None:
                match &= receiver_in == rule.receiver_opted_in
            action[match] = action_code(rule.action)
            decider[match] = position
            undecided &= ~match

        live = np.flatnonzero(action != REJECT)
        if self.config.enforce_safety_stock_floor and len(live):
            cell = batch.sender[live] * stock_units.shape[1] + batch.item[live]
            allowance = np.maximum(stock_units.ravel()[cell] - floor_units.ravel()[cell], 0)
            fits = _first_violations_per_group(cell, batch.units[live], allowance)
            stripped = live[~fits]
            action[stripped] = REJECT
            decider[stripped] = len(self.config.rules) + 1
            live = live[fits]
        if len(live):
            # one transfer per (shipment, sender, receiver), in order of first appearance in the batch
            first_index, inverse = transfer_groups(
                batch.shipment[live], batch.sender[live], batch.receiver[live]
            )
            order = np.argsort(first_index, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(len(order))
            key_first = first_index[order]
            accepted = _weekly_cap(
                batch.sender[live][key_first],
                batch.receiver[live][key_first],
                np.asarray(recent_transfer_count),
                self.config.max_transfers_per_dealer_per_week,
            )
            capped = live[~accepted[rank[inverse]]]
            action[capped] = REJECT
            decider[capped] = len(self.config.rules) + 2
        return TransferDecisions(action=action, decider=decider, decider_ids=self.decider_ids)


def transfer_groups(
    shipment: npt.ArrayLike, sender: npt.ArrayLike, receiver: npt.ArrayLike
) -> tuple[IntArray, IntArray]:
    """The distinct transfers (shipment, sender, receiver) among some lines, in sorted order: each one's
    first line and each line's transfer. ``np.unique`` of the stacked rows (``axis=0``) gives the same several
    times slower; one integer key per line sorts like the rows. Ids that could make the key overflow (a
    planner's own shipment numbering, negative ids) are ranked first, which keeps their order."""
    columns = [np.asarray(column).astype(np.int64).ravel() for column in (shipment, sender, receiver)]
    if not columns[0].size:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    if not _fits_one_key(columns):
        columns = [np.unique(column, return_inverse=True)[1].ravel() for column in columns]
    if not _fits_one_key(columns):  # millions of distinct ids in every column: the rows themselves
        _, first, transfer = np.unique(
            np.stack(columns, axis=1), axis=0, return_index=True, return_inverse=True
        )
        return first, transfer.ravel()
    shipment_id, sender_id, receiver_id = columns
    senders, receivers = int(sender_id.max()) + 1, int(receiver_id.max()) + 1
    key = (shipment_id * senders + sender_id) * receivers + receiver_id
    _, first, transfer = np.unique(key, return_index=True, return_inverse=True)
    return first, transfer.ravel()


def _fits_one_key(columns: list[IntArray]) -> bool:
    """Whether ``(shipment * senders + sender) * receivers + receiver`` stays within int64 for these ids."""
    if min(int(column.min()) for column in columns) < 0:
        return False
    shipments, senders, receivers = (int(column.max()) + 1 for column in columns)
    return shipments * senders * receivers <= np.iinfo(np.int64).max  # Python integers: no overflow here


def _per_transfer(batch: TransferBatch) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Each line's transfer totals: benefit/cost ratio, value and distance of its (shipment, sender,
    receiver) group."""
    _, group = transfer_groups(batch.shipment, batch.sender, batch.receiver)
    benefit = np.bincount(group, weights=batch.benefit_inr)
    freight = np.bincount(group, weights=batch.freight_inr)
    value = np.bincount(group, weights=batch.value_inr)
    distance = np.zeros(benefit.size)
    np.maximum.at(distance, group, batch.distance_km)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(freight > 0, benefit / freight, np.where(benefit > 0, np.inf, 0.0))
    return ratio[group].astype(np.float64), value[group].astype(np.float64), distance[group]


@dataclass(frozen=True)
class ApprovalOutcome:
    approved: BoolArray
    latency_hours: FloatArray


@dataclass(frozen=True)
class ApprovalModel:
    """A person approving transfers: lognormal decision latency (median, p90) and a probability of yes."""

    median_hours: float = 4.0
    p90_hours: float = 24.0
    approval_probability: float = 0.85

    def __post_init__(self) -> None:
        if not (self.median_hours > 0 and math.isfinite(self.median_hours)):
            raise ConfigError("approval.median_hours", self.median_hours, "must be > 0")
        if not (self.p90_hours > self.median_hours and math.isfinite(self.p90_hours)):
            raise ConfigError(
                "approval.p90_hours", self.p90_hours, f"must be > median_hours={self.median_hours}"
            )
        if not 0.0 <= self.approval_probability <= 1.0:
            raise ConfigError("approval.approval_probability", self.approval_probability, "must be in [0, 1]")

    @property
    def log_sigma(self) -> float:
        return math.log(self.p90_hours / self.median_hours) / _Z90

    def draw(self, count: int, rng: np.random.Generator) -> ApprovalOutcome:
        """Outcomes for ``count`` recommendations sent for approval, from the caller's stream."""
        if count < 0:
            raise ConfigError("approval.count", count, "must be >= 0")
        latency = rng.lognormal(mean=math.log(self.median_hours), sigma=self.log_sigma, size=count)
        approved = rng.random(count) < self.approval_probability
        return ApprovalOutcome(approved=approved, latency_hours=latency)
