"""Settlement files of a run: the full ledger (CSV, one row per journal line, reloads into an identical
journal), dealer statements (CSV, one row per dealer per cycle) and a readable Markdown summary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from twin.settlement.book import SettlementBook
from twin.settlement.journal import ENTRY_COLUMNS, EntryKind, Journal, ReferenceKind
from twin.settlement.money import paise_to_inr

LEDGER_COLUMNS = ("entry", *ENTRY_COLUMNS, "account", "account_name", "amount_paise")


def ledger_table(journal: Journal, account_names: npt.NDArray[np.str_]) -> pa.Table:
    """Entries joined to their lines; an entry without lines keeps one row with account -1."""
    entries, lines = journal.entries, journal.lines
    line_entry = lines["entry"]
    bare = np.setdiff1d(np.arange(len(entries), dtype=np.int64), line_entry)
    entry = np.concatenate((line_entry, bare))
    account = np.concatenate((lines["account"], np.full(bare.size, -1, dtype=np.int64)))
    amount = np.concatenate((lines["amount_paise"], np.zeros(bare.size, dtype=np.int64)))
    order = np.argsort(entry, kind="stable")
    entry, account, amount = entry[order], account[order], amount[order]
    kinds = pa.array([kind.name.lower() for kind in EntryKind])
    references = pa.array([kind.name.lower() for kind in ReferenceKind])
    names = pa.array([*account_names.tolist(), ""])  # the last one names "no line" (account -1)
    # text columns are dictionary-encoded: a year's ledger has millions of lines but a few hundred names
    columns = {
        "entry": entry,
        "posted_day": entries["posted_day"][entry],
        "kind": pa.DictionaryArray.from_arrays(pa.array(entries["kind"][entry].astype(np.int32)), kinds),
        "reference_kind": pa.DictionaryArray.from_arrays(
            pa.array(entries["reference_kind"][entry].astype(np.int32)), references
        ),
        "reference_id": entries["reference_id"][entry],
        "reverses": entries["reverses"][entry],
        "account": account,
        "account_name": pa.DictionaryArray.from_arrays(
            pa.array(np.where(account >= 0, account, len(names) - 1).astype(np.int32)), names
        ),
        "amount_paise": amount,
    }
    return pa.table(columns)


def write_ledger_csv(journal: Journal, account_names: npt.NDArray[np.str_], path: Path) -> Path:
    pa_csv.write_csv(ledger_table(journal, account_names), path)
    return path


def write_ledger_parquet(journal: Journal, account_names: npt.NDArray[np.str_], path: Path) -> Path:
    pq.write_table(ledger_table(journal, account_names), path)
    return path


def read_ledger_csv(path: Path, account_count: int) -> Journal:
    """The journal a ledger CSV was written from (ids, days, kinds, references and lines as posted)."""
    integers = ("entry", "posted_day", "reference_id", "reverses", "account", "amount_paise")
    options = pa_csv.ConvertOptions(column_types={name: pa.int64() for name in integers})
    return _journal_from_table(pa_csv.read_csv(path, convert_options=options), account_count)


def read_ledger_parquet(path: Path, account_count: int) -> Journal:
    return _journal_from_table(pq.read_table(path), account_count)


def _journal_from_table(table: pa.Table, account_count: int) -> Journal:
    column = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    kinds = {kind.name.lower(): int(kind) for kind in EntryKind}
    references = {kind.name.lower(): int(kind) for kind in ReferenceKind}
    entry = column["entry"].astype(np.int64)
    first = (
        np.flatnonzero(np.r_[True, entry[1:] != entry[:-1]]) if entry.size else np.zeros(0, dtype=np.int64)
    )
    has_line = column["account"] >= 0
    journal = Journal(account_count)
    journal.load(
        {
            "journal_entry_posted_day": column["posted_day"][first],
            "journal_entry_kind": np.array([kinds[name] for name in column["kind"][first]], dtype=np.int64),
            "journal_entry_reference_kind": np.array(
                [references[name] for name in column["reference_kind"][first]], dtype=np.int64
            ),
            "journal_entry_reference_id": column["reference_id"][first],
            "journal_entry_reverses": column["reverses"][first],
            "journal_line_entry": entry[has_line],
            "journal_line_account": column["account"][has_line],
            "journal_line_amount_paise": column["amount_paise"][has_line],
        }
    )
    return journal


def statements_frame(book: SettlementBook, start_date: dt.date) -> pd.DataFrame:
    statements = book.statements
    dealer_ids = np.array(book.chart.dealer_ids)
    frame = pd.DataFrame({name: statements[name] for name in statements.columns})
    frame.insert(2, "dealer_id", dealer_ids[frame["dealer"].to_numpy()])
    for name in ("period_start_day", "close_day", "due_day"):
        frame[name.replace("_day", "_date")] = [
            (start_date + dt.timedelta(days=int(day))).isoformat() for day in frame[name]
        ]
    for name in [column for column in frame.columns if column.endswith("_paise")]:
        frame[name.replace("_paise", "_inr")] = paise_to_inr(frame[name].to_numpy())
    return frame


def statements_markdown(frame: pd.DataFrame, summary: dict[str, float]) -> str:
    """Network figures, then one line per dealer over the whole run (a positive amount: owed by the dealer)."""
    lines = [
        "# Dealer settlement statements",
        "",
        f"{int(summary.get('settlement_cycles', 0))} weekly cycles, {len(frame)} statements, "
        f"{int(summary.get('settlement_unbalanced_entries', 0))} unbalanced journal entries.",
        "",
        "| figure | value |",
        "|---|---:|",
    ]
    lines += [f"| {name.removeprefix('settlement_')} | {value:,.2f} |" for name, value in summary.items()]
    per_dealer = frame.groupby("dealer_id", sort=True).agg(
        statements=("cycle", "size"),
        freight_inr=("freight_inr", "sum"),
        transfers_inr=("transfers_inr", "sum"),
        incentives_inr=("incentives_inr", "sum"),
        payments_inr=("payments_inr", "sum"),
        last_closing_inr=("closing_inr", "last"),
    )
    lines += [
        "",
        "## Per dealer (charges positive, credits negative)",
        "",
        "| dealer | statements | freight INR | transfers INR | incentives INR | payments INR | last closing INR |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for dealer, row in per_dealer.iterrows():
        lines.append(
            f"| {dealer} | {row.statements} | {row.freight_inr:,.2f} | {row.transfers_inr:,.2f} | "
            f"{row.incentives_inr:,.2f} | {row.payments_inr:,.2f} | {row.last_closing_inr:,.2f} |"
        )
    return "\n".join(lines) + "\n"


def write_settlement(
    book: SettlementBook,
    summary: dict[str, float],
    folder: Path,
    start_date: dt.date,
    ledger_csv: bool = False,
) -> dict[str, Path]:
    """Statements (CSV and Markdown) and the ledger: Parquet always (a year is ~10^6 lines: compact and fast),
    CSV as well when asked (``settlement.ledger_csv=true``; both reload into the same journal)."""
    paths = {
        "ledger": folder / "settlement_ledger.parquet",
        "statements": folder / "settlement_statements.csv",
        "statements_summary": folder / "settlement_statements.md",
    }
    write_ledger_parquet(book.journal, book.chart.names(), paths["ledger"])
    if ledger_csv:
        paths["ledger_csv"] = write_ledger_csv(
            book.journal, book.chart.names(), folder / "settlement_ledger.csv"
        )
    frame = statements_frame(book, start_date)
    frame.to_csv(paths["statements"], index=False)
    settlement_summary = {name: value for name, value in summary.items() if name.startswith("settlement_")}
    paths["statements_summary"].write_text(statements_markdown(frame, settlement_summary))
    return paths
