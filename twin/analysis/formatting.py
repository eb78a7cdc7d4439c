"""How a KPI reads in a comparison table: shares as %, money with thousands separators, differences with CI.

KPI names carry their unit (``twin.engine.kpis``: ``*_share``, ``*fill_rate*``, ``*availability*`` are
fractions, ``*_inr`` is money), so the name alone decides the format. Differences of shares read in
percentage points, so "+1.2 pp" is never confused with a relative change of 1.2 %.
"""

from __future__ import annotations

import math

SHARE_MARKERS: tuple[str, ...] = ("share", "fill_rate", "availability")
MISSING = "n/a"


def is_share(kpi: str) -> bool:
    """A fraction between 0 and 1 (fill rate, availability, any share)."""
    return any(marker in kpi for marker in SHARE_MARKERS)


def format_value(kpi: str, value: float) -> str:
    """A level (a mean over replications): 93.4%, 12,345,678, 4.25."""
    if not math.isfinite(value):
        return MISSING
    if is_share(kpi):
        return f"{value:.1%}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def format_difference(kpi: str, mean: float, low: float, high: float) -> str:
    """Mean difference with its interval, "+1.23 [0.50, 1.96]"; shares in percentage points ("... pp").

    Decimals follow the interval's half-width (two significant digits of it), so a tight interval
    is not rounded away and a wide one does not pretend to precision.
    """
    if not math.isfinite(mean):
        return MISSING
    scale, unit = (100.0, " pp") if is_share(kpi) else (1.0, "")
    mean, low, high = mean * scale, low * scale, high * scale
    decimals = _decimals(mean, (high - low) / 2.0)
    if not (math.isfinite(low) and math.isfinite(high)):
        return f"{mean:+,.{decimals}f}{unit}"
    return f"{mean:+,.{decimals}f} [{low:,.{decimals}f}, {high:,.{decimals}f}]{unit}"


def format_relative(relative_difference: float) -> str:
    """Difference as a share of the baseline mean, "+1.2%"."""
    if not math.isfinite(relative_difference):
        return MISSING
    return f"{relative_difference:+.1%}"


def format_p_value(p_value: float) -> str:
    if not math.isfinite(p_value):
        return MISSING
    if p_value < 0.001:
        return "<0.001"
    return f"{p_value:.3f}"


def format_variance_reduction(variance_reduction: float) -> str:
    if not math.isfinite(variance_reduction):
        return MISSING
    return f"{variance_reduction:.1%}"


def format_replication_factor(factor: float) -> str:
    """How many times the replications independent seeds would need: "×5.2"."""
    if math.isnan(factor):
        return MISSING
    if math.isinf(factor):
        return "×∞"
    return f"×{factor:,.1f}"


def _decimals(mean: float, half_width: float) -> int:
    scale = half_width if math.isfinite(half_width) and half_width > 0 else abs(mean)
    if not math.isfinite(scale):
        return 2
    if scale == 0:
        return 0
    return min(4, max(0, 1 - math.floor(math.log10(scale))))
