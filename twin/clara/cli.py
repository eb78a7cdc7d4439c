"""``twin-ask``: ask Clara one question, or answer a file of them, from a network state.

    twin-ask --dealer D0042 "where is my allocation?"             # the JSON answer on stdout
    twin-ask --dealer D0042 --state outputs/.../state "stmt bhejo"
    twin-ask --batch questions.jsonl --out answers.jsonl          # {"id","dealer_id","text"} per line

Without ``--state`` the newest state of a run under ``./outputs`` is used (``twin-run`` writes one), else a
built-in world is made once (``twin.views.loading``). The state is loaded once; a batch is understood in
chunks (one classifier call each) with a progress bar on long files, and ends with a summary line:
answered, escalated by reason, errors, questions per second. A bad line (not JSON, a field missing, an
unknown dealer, empty or binary text) gets an error line with its id and the batch goes on. Refusals
(``not_allowed``) are logged on ``twin.clara.audit`` (dealer, the batch line's id, intent, the entities probed
and the question's first 80 characters): to stderr for one question, to ``--audit-log`` (default
``<out>.audit.log``) for a batch. Exit codes: 0 answered (escalations are answers), 2 bad input
(arguments, the state path, the question, the batch file).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from twin.errors import TwinError

#: questions understood per classifier call in a batch (and per progress-bar step)
CHUNK = 1000
#: batches at least this long show a progress bar (on a terminal)
PROGRESS_FROM = 2000
AUDIT_LOGGER = "twin.clara.audit"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twin-ask",
        description="Ask Clara a dealer's question, answered from a network state (JSON out).",
        epilog='examples: twin-ask --dealer D0042 "where is my allocation?"; '
        "twin-ask --batch questions.jsonl --out answers.jsonl",
    )
    parser.add_argument("question", nargs="?", help="the question, in quotes (with --dealer)")
    parser.add_argument("--dealer", help="the dealer asking, e.g. D0042 (one question)")
    parser.add_argument("--batch", type=Path, help='a JSONL file of {"id", "dealer_id", "text"} lines')
    parser.add_argument("--out", type=Path, help="where a batch's answers go (JSONL, one line per question)")
    parser.add_argument(
        "--state",
        help="a state folder, a twin-run folder or a twin-shadow folder (default: the newest run under ./outputs)",
    )
    parser.add_argument(
        "--audit-log", type=Path, help="file for refusals of a batch (default: <out>.audit.log)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on long batches")
    return parser


def ask_main(argv: list[str] | None = None) -> None:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.batch is None:
        if args.question is None or args.dealer is None:
            parser.error("argument --dealer and a question are needed (or --batch IN.jsonl --out OUT.jsonl)")
        if args.out is not None:
            parser.error("argument --out: goes with --batch")
    else:
        if args.question is not None or args.dealer is not None:
            parser.error("argument --batch: answers a file; give the question and --dealer without it")
        if args.out is None:
            parser.error("argument --out: needed with --batch (where the answers go)")
        if not args.batch.is_file():
            parser.error(f"argument --batch: {str(args.batch)!r} is not a file")
        # checked before the state is loaded: a bad output path must not cost the load, nor the questions
        _check_output(parser, "--out", args.out, args.batch)
        _check_output(parser, "--audit-log", args.audit_log or _audit_path(args.out), args.batch)
    try:
        if args.batch is None:  # a question that is no question fails before the state is loaded
            from twin.clara.service import check_text

            check_text(args.question)
        clara, load_seconds = _clara(args.state)
        if args.batch is None:
            _ask_one(clara, str(args.dealer), str(args.question))
        else:
            _ask_batch(clara, args, load_seconds)
    except TwinError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (Python's reader takes them): a line holding one is no JSON line."""
    raise json.JSONDecodeError(f"{name} is not a JSON value", name, 0)


def _audit_path(out: Path) -> Path:
    """Where a batch's refusals go by default: beside its answers."""
    return out.with_name(out.name + ".audit.log")


def _check_output(parser: argparse.ArgumentParser, flag: str, path: Path, batch: Path) -> None:
    """An output file of a batch must be writable where it is named, and not the questions themselves."""
    if path.is_dir():
        parser.error(f"argument {flag}: {str(path)!r} is a folder; name a file")
    if path.resolve() == batch.resolve():
        parser.error(f"argument {flag}: {str(path)!r} is the --batch file (its questions would be lost)")
    if not path.resolve().parent.is_dir():
        parser.error(f"argument {flag}: the folder of {str(path)!r} does not exist")


def _clara(state: str | None) -> tuple[Any, float]:
    """Load the view once and build Clara on it (the classifier trains on first use, ~seconds)."""
    from twin.clara.service import Clara
    from twin.clara.understanding import Understander, Vocabulary
    from twin.views import load_view

    started = time.perf_counter()
    view = load_view(state)
    clara = Clara(view, Understander(Vocabulary.from_world(view.world)))
    return clara, time.perf_counter() - started


def _ask_one(clara: Any, dealer_id: str, question: str) -> None:
    audit = logging.getLogger(AUDIT_LOGGER)
    handler: logging.Handler | None = None
    if not audit.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("audit: %(message)s"))
        audit.addHandler(handler)
    try:
        reply = clara.ask(dealer_id, question)
    finally:  # the logger is the process's: leave it as found (twin-ask may run in-process, e.g. in tests)
        if handler is not None:
            audit.removeHandler(handler)
    print(json.dumps({"dealer_id": dealer_id, **reply.to_json()}, ensure_ascii=False, indent=1))


def _read_questions(path: Path) -> list[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, the question or None, the error or None) for every non-blank line of the file."""
    rows: list[tuple[int, dict[str, Any] | None, str | None]] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
            except UnicodeDecodeError:
                rows.append((number, None, "line: is not UTF-8 text (binary data?)"))
                continue
            except json.JSONDecodeError as error:
                rows.append((number, None, f"line: is not JSON ({error.msg})"))
                continue
            if not isinstance(record, dict):
                rows.append((number, None, "line: must be a JSON object with id, dealer_id and text"))
                continue
            missing = [name for name in ("id", "dealer_id", "text") if name not in record]
            if missing:
                rows.append((number, record, f"{missing[0]}: is missing"))
                continue
            identifier = record["id"]
            if isinstance(identifier, bool) or not isinstance(identifier, str | int):  # echoed as given
                rows.append(
                    (number, None, f"id={str(identifier)[:40]!r}: must be a string or a whole number")
                )
                continue
            rows.append((number, record, None))
    return rows


def _ask_batch(clara: Any, args: argparse.Namespace, load_seconds: float) -> None:
    from tqdm import tqdm

    from twin.clara.service import ClaraError

    audit_path = args.audit_log or _audit_path(args.out)
    rows = _read_questions(args.batch)
    outcomes: Counter[str] = Counter()
    started = time.perf_counter()
    bar = tqdm(
        total=len(rows),
        unit="q",
        desc="twin-ask",
        disable=args.no_progress or len(rows) < PROGRESS_FROM or None,
        file=sys.stderr,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    audit = logging.getLogger(AUDIT_LOGGER)
    handler = logging.FileHandler(audit_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    audit.addHandler(handler)
    propagate = audit.propagate
    audit.propagate = False  # a batch's refusals go to its audit file, not to the terminal
    try:
        with args.out.open("w", encoding="utf-8") as out:
            for start in range(0, len(rows), CHUNK):
                chunk = rows[start : start + CHUNK]
                results: list[dict[str, Any]] = [{} for _ in chunk]
                valid: list[int] = []
                for position, (number, record, problem) in enumerate(chunk):
                    identity = {
                        "id": record.get("id") if record else None,
                        "dealer_id": record.get("dealer_id") if record else None,
                    }
                    if problem is None and record is not None:
                        try:
                            clara.check(record["dealer_id"], record["text"])
                            valid.append(position)
                        except ClaraError as error:
                            problem = str(error)
                    results[position] = (
                        identity if problem is None else {**identity, "line": number, "error": problem}
                    )
                replies = clara.ask_many(
                    [(chunk[i][1]["dealer_id"], chunk[i][1]["text"]) for i in valid],  # type: ignore[index]
                    [chunk[i][1]["id"] for i in valid],  # type: ignore[index]
                )
                for position, reply in zip(valid, replies, strict=True):
                    results[position] = {**results[position], **reply.to_json()}
                for result in results:
                    if "error" in result:
                        outcomes["error"] += 1
                    else:
                        outcomes[result["escalation_reason"] or "answered"] += 1
                    out.write(json.dumps(result, ensure_ascii=False) + "\n")
                bar.update(len(chunk))
    finally:
        bar.close()
        audit.removeHandler(handler)
        audit.propagate = propagate
        handler.close()
    seconds = time.perf_counter() - started
    asked = len(rows) - outcomes["error"]
    escalated = {
        reason: count for reason, count in sorted(outcomes.items()) if reason not in ("answered", "error")
    }
    print(
        f"answered {outcomes['answered']:,} of {asked:,} questions"
        + (f" ({outcomes['answered'] / asked:.1%})" if asked else "")
        + f"; escalated {sum(escalated.values()):,}"
        + (
            " (" + ", ".join(f"{reason} {count:,}" for reason, count in escalated.items()) + ")"
            if escalated
            else ""
        )
        + f"; {outcomes['error']:,} error line{'' if outcomes['error'] == 1 else 's'}"
        + f"; {len(rows) / max(seconds, 1e-9):,.0f} questions/s (state and classifier loaded in {load_seconds:.1f} s)"
        + f"; answers in {args.out}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    ask_main()
