"""The comparison report: a terminal table, and a folder with Markdown, HTML, CSV and plots.

The Markdown table pastes into a planning memo as is; the HTML embeds its plots, so it is one file to mail;
the CSVs keep full precision for anyone who wants to redo the numbers.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from twin.analysis import formatting
from twin.analysis.comparison import (
    ArmResult,
    ComparisonError,
    arm_names,
    crn_variance_reduction_summary,
    replications_frame,
)
from twin.plots import comparison as figures

#: the first N KPIs plotted when no headline list is given; more make the plots unreadable
DEFAULT_HEADLINE_KPI_COUNT = 12

COMPARISON_HEADERS: tuple[str, ...] = (
    "KPI",
    "arm",
    "n",
    "baseline",
    "arm mean",
    "difference [CI]",
    "relative",
    "p",
    "sig",
)
#: headers of text columns (left-aligned); every other column is a number (right-aligned)
TEXT_HEADERS = frozenset({"KPI", "arm", "sig"})
SIGNIFICANT_MARKER = "*"

ARM_ONLY_HEADERS: tuple[str, ...] = ("KPI", "arm", "n", "arm mean [CI]")

VARIANCE_REDUCTION_HEADERS: tuple[str, ...] = (
    "arm",
    "KPIs",
    "median variance reduction",
    "range",
    "replication factor",
)


def arm_only_rows(table: pd.DataFrame, replications: pd.DataFrame) -> list[list[str]]:
    """KPIs the baseline arm does not report (e.g. the share of transfers used, with no transfers): no paired
    difference exists, so each reporting arm's own mean with its t interval over the replications."""
    confidence = float(table.attrs.get("confidence", 0.95))
    missing = table[table["n_pairs"] == 0]
    rows = []
    for kpi, arm in zip(missing["kpi"], missing["arm"], strict=True):
        values = replications.loc[replications["arm"] == arm, kpi].dropna().to_numpy(dtype=float)
        if values.size == 0:
            continue
        mean = float(values.mean())
        half_width = (
            float(
                stats.t.ppf(0.5 + confidence / 2.0, values.size - 1)
                * values.std(ddof=1)
                / np.sqrt(values.size)
            )
            if values.size > 1
            else float("nan")
        )
        low, high = (formatting.format_value(kpi, mean + sign * half_width) for sign in (-1.0, 1.0))
        interval = f"{formatting.format_value(kpi, mean)} [{low}, {high}]"
        rows.append([kpi, arm, str(values.size), interval])
    return rows


def comparison_rows(table: pd.DataFrame) -> list[list[str]]:
    """The comparison table as display strings, in ``COMPARISON_HEADERS`` order."""
    return [
        [
            str(row.kpi),
            str(row.arm),
            str(row.n_pairs),
            formatting.format_value(str(row.kpi), row.baseline_mean),
            formatting.format_value(str(row.kpi), row.arm_mean),
            formatting.format_difference(str(row.kpi), row.difference_mean, row.ci_low, row.ci_high),
            formatting.format_relative(row.relative_difference),
            formatting.format_p_value(row.p_value),
            SIGNIFICANT_MARKER if row.significant else "",
        ]
        for row in table.itertuples(index=False)
    ]


def variance_reduction_rows(summary: pd.DataFrame) -> list[list[str]]:
    """The per-arm CRN summary as display strings, in ``VARIANCE_REDUCTION_HEADERS`` order."""
    return [
        [
            str(row.arm),
            str(row.n_kpis),
            formatting.format_variance_reduction(row.median_variance_reduction),
            f"{formatting.format_variance_reduction(row.min_variance_reduction)} to "
            f"{formatting.format_variance_reduction(row.max_variance_reduction)}",
            formatting.format_replication_factor(row.median_replication_factor),
        ]
        for row in summary.itertuples(index=False)
    ]


def terminal_table(table: pd.DataFrame, max_rows: int | None = None) -> str:
    """A fixed-width table for the terminal, with a legend line saying what the interval and * mean."""
    rows = comparison_rows(table)
    hidden = 0
    if max_rows is not None and len(rows) > max_rows:
        hidden = len(rows) - max(max_rows, 0)
        rows = rows[: max(max_rows, 0)]
    widths = [
        max([len(header)] + [len(row[index]) for row in rows])
        for index, header in enumerate(COMPARISON_HEADERS)
    ]

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.ljust(width) if header in TEXT_HEADERS else cell.rjust(width)
            for cell, width, header in zip(cells, widths, COMPARISON_HEADERS, strict=True)
        ]
        return "  ".join(padded).rstrip()

    lines = [line(COMPARISON_HEADERS), "  ".join("-" * width for width in widths)]
    lines += [line(row) for row in rows]
    if hidden:
        lines.append(f"... {hidden} more rows")
    lines.append(_legend(table))
    return "\n".join(lines)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown pipe table; text columns left-aligned, numbers right-aligned."""
    alignment = ["---" if header in TEXT_HEADERS else "---:" for header in headers]
    lines = [_pipe_row(headers), _pipe_row(alignment)]
    lines += [_pipe_row(row) for row in rows]
    return "\n".join(lines)


def write_report(
    table: pd.DataFrame,
    results: Sequence[ArmResult],
    folder: Path,
    title: str,
    notes: Sequence[str] = (),
    headline_kpis: Sequence[str] | None = None,
) -> dict[str, Path]:
    """Write comparison.md/.html/.csv, replications.csv, difference_ci.png and distributions.png.

    ``headline_kpis`` limits both plots (default: the first 12 KPIs of the table); the tables keep every KPI.
    """
    all_kpis = list(dict.fromkeys(table["kpi"]))
    if headline_kpis is None:
        headline_kpis = all_kpis[:DEFAULT_HEADLINE_KPI_COUNT]
    for kpi in headline_kpis:
        if kpi not in all_kpis:
            raise ComparisonError("headline_kpis", kpi, "is not a KPI of the comparison table")
    folder.mkdir(parents=True, exist_ok=True)
    replications = replications_frame(results)
    baseline_arms = list(dict.fromkeys(table["baseline_arm"]))
    arms = baseline_arms + [arm for arm in arm_names(results) if arm not in baseline_arms]
    paths = {
        "markdown": folder / "comparison.md",
        "html": folder / "comparison.html",
        "comparison_csv": folder / "comparison.csv",
        "replications_csv": folder / "replications.csv",
        "difference_ci": folder / "difference_ci.png",
        "distributions": folder / "distributions.png",
    }
    table.to_csv(paths["comparison_csv"], index=False)
    replications.to_csv(paths["replications_csv"], index=False)
    figures.plot_difference_ci(table, headline_kpis, paths["difference_ci"])
    figures.plot_distributions(replications, arms, headline_kpis, paths["distributions"])

    variance_summary = crn_variance_reduction_summary(table)
    overview = _overview(table, results)
    arm_only = arm_only_rows(table, replications)
    paths["markdown"].write_text(
        _markdown(table, variance_summary, title, overview, notes, paths, arm_only), encoding="utf-8"
    )
    paths["html"].write_text(
        _html(table, variance_summary, title, overview, notes, paths, arm_only), encoding="utf-8"
    )
    return paths


def _legend(table: pd.DataFrame) -> str:
    alpha = table.attrs.get("alpha")
    if alpha is None:
        return f"difference = arm − baseline, paired by replication; {SIGNIFICANT_MARKER} significant"
    return (
        f"difference = arm − baseline, paired by replication, with its {1 - alpha:.0%} paired t interval; "
        f"{SIGNIFICANT_MARKER} p < {alpha:g}; shares in percentage points (pp)"
    )


def _overview(table: pd.DataFrame, results: Sequence[ArmResult]) -> str:
    replication_counts = replications_frame(results).groupby("arm", sort=False)["replication"].nunique()
    counts = sorted(set(replication_counts))
    runs = (
        f"{counts[0]} replications per arm"
        if len(counts) == 1
        else "replications per arm: "
        + ", ".join(f"{arm} {count}" for arm, count in replication_counts.items())
    )
    baseline = ", ".join(dict.fromkeys(table["baseline_arm"])) or "n/a"
    significant = int(table["significant"].sum())
    alpha = table.attrs.get("alpha")
    level = f" at alpha = {alpha:g}" if alpha is not None else ""
    return (
        f"Baseline arm: {baseline}; {runs}, common random numbers (replication r of every arm on the same seed). "
        f"{significant} of {len(table)} KPI differences are significant{level}."
    )


def _markdown(
    table: pd.DataFrame,
    variance_summary: pd.DataFrame,
    title: str,
    overview: str,
    notes: Sequence[str],
    paths: dict[str, Path],
    arm_only: Sequence[Sequence[str]] = (),
) -> str:
    parts = [f"# {title}", "", overview, ""]
    if notes:
        parts += [f"- {note}" for note in notes] + [""]
    parts += [
        "## Differences against the baseline",
        "",
        markdown_table(COMPARISON_HEADERS, comparison_rows(table)),
        "",
        _legend(table) + ".",
        "",
    ]
    if arm_only:
        parts += [
            "## KPIs the baseline does not report",
            "",
            f"Each arm's mean with its {table.attrs.get('confidence', 0.95):.0%} t interval over its replications.",
            "",
            markdown_table(ARM_ONLY_HEADERS, arm_only),
            "",
        ]
    parts += [
        "## Variance reduction from common random numbers",
        "",
        "1 − Var(difference) / (Var(baseline) + Var(arm)): how much narrower the paired interval is than one "
        "from independent seeds; replication factor = how many times the replications independent "
        "seeds would need for the same width.",
        "",
        markdown_table(VARIANCE_REDUCTION_HEADERS, variance_reduction_rows(variance_summary)),
        "",
        "## Figures",
        "",
        f"![Differences with intervals]({paths['difference_ci'].name})",
        "",
        f"![Per-replication values]({paths['distributions'].name})",
        "",
    ]
    return "\n".join(parts)


def _html(
    table: pd.DataFrame,
    variance_summary: pd.DataFrame,
    title: str,
    overview: str,
    notes: Sequence[str],
    paths: dict[str, Path],
    arm_only: Sequence[Sequence[str]] = (),
) -> str:
    arm_only_html = (
        "<h2>KPIs the baseline does not report</h2>\n"
        f"<p>Each arm's mean with its {table.attrs.get('confidence', 0.95):.0%} t interval over its replications.</p>\n"
        + _html_table(ARM_ONLY_HEADERS, arm_only, [False] * len(arm_only))
        if arm_only
        else ""
    )
    notes_html = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 80em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ padding: 0.25em 0.6em; border-bottom: 1px solid #ddd; }}
td.number {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.significant td {{ background: #fdecea; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>{html.escape(overview)}</p>
{f"<ul>{notes_html}</ul>" if notes else ""}
<h2>Differences against the baseline</h2>
{_html_table(COMPARISON_HEADERS, comparison_rows(table), list(table["significant"]))}
<p>{html.escape(_legend(table))}.</p>
{arm_only_html}
<h2>Variance reduction from common random numbers</h2>
<p>1 − Var(difference) / (Var(baseline) + Var(arm)); replication factor = how many times the
replications independent seeds would need for the same interval width.</p>
{_html_table(VARIANCE_REDUCTION_HEADERS, variance_reduction_rows(variance_summary), [False] * len(variance_summary))}
<h2>Figures</h2>
{_html_image(paths["difference_ci"], "Differences with intervals")}
{_html_image(paths["distributions"], "Per-replication values")}
</body>
</html>
"""


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], highlighted: Sequence[bool]) -> str:
    header_cells = "".join(f"<th>{html.escape(header)}</th>" for header in headers)
    body = []
    for row, highlight in zip(rows, highlighted, strict=True):
        cells = "".join(
            f"<td>{html.escape(cell)}</td>"
            if header in TEXT_HEADERS
            else f'<td class="number">{html.escape(cell)}</td>'
            for cell, header in zip(row, headers, strict=True)
        )
        row_class = ' class="significant"' if highlight else ""
        body.append(f"<tr{row_class}>{cells}</tr>")
    return (
        f"<table>\n<thead><tr>{header_cells}</tr></thead>\n<tbody>\n"
        + "\n".join(body)
        + "\n</tbody>\n</table>"
    )


def _html_image(path: Path, description: str) -> str:
    """The PNG inlined as base64, so the HTML is one self-contained file."""
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<p><img alt="{html.escape(description)}" src="data:image/png;base64,{encoded}"></p>'


def _pipe_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
