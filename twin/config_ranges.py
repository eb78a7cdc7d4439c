"""The values a numeric setting may take: a ``Range`` declared on each field of ``twin.config`` (``ranged``), the
shared ranges (days, shares, km, seeds...) and the one walker that checks a config against them.

Kept apart from the settings themselves so that ``twin.config`` reads as the list of settings, and a range is
declared once, next to its unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

from twin.errors import ConfigError

#: the longest any day-valued setting may be: a century. Anything longer is a typo, and the bound keeps day
#: arithmetic exact (``inf`` days would become NaN when cast to whole days). ``horizon_days`` alone is bounded
#: by the memory its state needs instead (``state_memory_bytes``)
MAX_DAYS = 36_500
#: once round the Earth: no road trip between two sites is longer
MAX_KM = 40_000.0
#: numpy's ``SeedSequence`` takes any integer >= 0; 64 bits keeps seeds storable in every output format
MAX_SEED = 2**63 - 1


@dataclass(frozen=True)
class Range:
    """The values a numeric setting may take, declared on the field (``ranged``) and checked by ``validate``.

    ``low``/``high`` bound the value (``low_open``/``high_open`` exclude the bound itself); ``finite`` refuses
    +-inf (a transfer rule's open bounds are the only settings that take infinity); NaN is never a value.
    ``special`` lists sentinels outside the interval that carry a meaning (-1 = open-ended or "the default").
    A list or dict setting's range applies to each of its items.
    """

    unit: str
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    finite: bool = True
    special: tuple[float, ...] = ()

    def describe(self) -> str:
        low = "(" if self.low_open else "["
        high = ")" if self.high_open else "]"
        if self.low > -math.inf and self.high < math.inf:
            text = f"in {low}{_number(self.low)}, {_number(self.high)}{high}"
        elif self.low > -math.inf:
            text = f"{'>' if self.low_open else '>='} {_number(self.low)}"
        elif self.high < math.inf:
            text = f"{'<' if self.high_open else '<='} {_number(self.high)}"
        else:
            text = "any number"
        if self.special:
            text += " or " + " or ".join(_number(value) for value in self.special)
        return f"{text} ({self.unit})"

    def problem(self, value: Any, whole: bool) -> str | None:
        """Why ``value`` is not allowed, or None. ``whole``: the field is an int."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number {self.describe()}, not {type(value).__name__}"
        if whole and not isinstance(value, int):
            return f"must be a whole number {self.describe()}"
        if value in self.special:
            return None
        if isinstance(value, float) and math.isnan(value):
            return f"must be a number {self.describe()}, not NaN"
        if isinstance(value, float) and self.finite and math.isinf(value):
            return f"must be a finite number {self.describe()}"
        too_low = value <= self.low if self.low_open else value < self.low
        too_high = value >= self.high if self.high_open else value > self.high
        if too_low and value < 0 <= self.low:
            return f"must be {self.describe()}, not negative"
        return f"must be {self.describe()}" if too_low or too_high else None


def _number(value: float) -> str:
    if value == MAX_SEED:
        return "2**63 - 1"
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def ranged(default: Any, allowed: Range) -> Any:
    """A numeric field with its range: ``supplier_lead_time_days: float = ranged(21.0, DAYS)``. A list or dict
    of numbers declares its items' range the same way: ``field(default_factory=..., metadata={"range": ...})``."""
    return field(default=default, metadata={"range": allowed})


#: ranges shared by many fields
DAYS = Range("days", 0, MAX_DAYS)
POSITIVE_DAYS = Range("days", 0, MAX_DAYS, low_open=True)
CYCLE_DAYS = Range("whole days", 1, MAX_DAYS)
DAY = Range("day counted from start_date", 0, MAX_DAYS)
SHARE = Range("share", 0, 1)
PROBABILITY = Range("probability", 0, 1)
SMOOTHING = Range("smoothing weight", 0, 1, low_open=True)
INR = Range("INR", 0)
KM = Range("km", 0, MAX_KM)
POSITIVE_KM = Range("km", 0, MAX_KM, low_open=True)
SEED = Range("seed", 0, MAX_SEED)
MULTIPLIER = Range("factor on the modelled value", 0, 100)
POSITIVE_MULTIPLIER = Range("factor on the modelled value", 0, 100, low_open=True)
#: sites and catalog sizes: the generator makes one record each; dealers and SKUs are bounded by memory
SITES = Range("sites", 1, 10_000)
#: repair and pickup waits are whole days drawn geometrically, at least 1: a mean below 1 cannot be drawn
WHOLE_DAYS_MEAN = Range("mean whole days, at least 1", 1, MAX_DAYS)
UNITS_PER_SPEC = Range("vehicles", 1, 10_000)
HOURS = Range("hours", 0, MAX_DAYS * 24, low_open=True)
#: holding and floor-plan interest: a share of the stock's value per year
RATE_PER_YEAR = Range("share of value per year", 0, 1)
#: a dealer's gross margin is a share of the price below 1 (a margin of 1 or more makes stock cost nothing)
MARGIN = Range("share of the price", 0, 1, high_open=True)
#: a transfer rule's bounds: infinity leaves that side open
OPEN_INR = Range("INR; inf = no bound", 0, finite=False)
OPEN_KM = Range("km; inf = no bound", 0, finite=False)
RATIO = Range("benefit/cost ratio; -inf or inf = no bound", finite=False)


def check_ranges(node: Any, key: str = "") -> None:
    """Every numeric field of ``node`` and of every settings object under it (sections, the policy options in
    use, scenario events, rate cards...) against the ``Range`` declared on the field; a ``ConfigError`` names
    the key a user types (``scenario.campaigns[0].vehicle_uplift``) and the value as given."""
    prefix = f"{key}." if key else ""
    for setting in fields(node):
        value = getattr(node, setting.name)
        name = prefix + setting.name
        allowed = setting.metadata.get("range")
        if allowed is not None:
            whole = setting.type in ("int", "list[int]")
            if isinstance(value, list):
                items = [(f"{name}[{index}]", item) for index, item in enumerate(value)]
            elif isinstance(value, dict):
                items = [(f"{name}.{item_key}", item) for item_key, item in value.items()]
            else:
                items = [(name, value)]
            for item_name, item in items:
                problem = allowed.problem(item, whole)
                if problem is not None:
                    raise ConfigError(item_name, item, problem)
        elif is_dataclass(value) and not isinstance(value, type):
            check_ranges(value, name)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if is_dataclass(item) and not isinstance(item, type):
                    check_ranges(item, f"{name}[{index}]")
