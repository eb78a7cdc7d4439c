"""The replay's fast paths agree with the code-by-code paths they shortcut (issue 15's speed work).

A shadow replay takes every record through a few shortcuts: packed part numbers found in bulk as 8-byte
keys, packed code columns checked by slicing the text, quantity signs checked on the bytes, VIN check digits
computed with one ``bytes.translate``, the feed file's lines cut in C loops. Each shortcut only says "fine" or
"look closer"; these tests hold them to the slow path's answers, refusals and messages included.
"""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import numpy as np
import pytest

from twin.domain.vin import VIN_ALPHABET, _check_digit_by_character, check_digit
from twin.errors import VinError
from twin.live.codes import PackedPartNumbers
from twin.live.contract import (
    PACKED_POSITION_QUANTITIES,
    FeedRecordError,
    _check_codes,
    _int_columns,
    _PackedColumnError,
    parse_record,
)
from twin.live.recorder import packed_ints
from twin.live.transports import JsonlReader


def _outcome(function: object, *arguments: object) -> tuple[object, ...]:
    """What a call did: its result, or the error's type and message (to compare two paths)."""
    try:
        return ("returned", function(*arguments))  # type: ignore[operator]
    except (VinError, _PackedColumnError) as error:
        return (type(error).__name__, str(error))


@pytest.mark.parametrize("width", [1, 3, 7, 8, 12])
def test_packed_part_numbers_found_in_bulk_as_one_by_one(width: int) -> None:
    """Catalogues of one code length up to 7 are looked up in bulk; anything else (longer codes, an unknown
    or non-ASCII code, a wrong count) is left to the code-by-code path (None)."""
    generator = random.Random(width)
    alphabet = string.ascii_uppercase + string.digits + "-"
    catalogue = sorted({"".join(generator.choices(alphabet, k=width)) for _ in range(300)})
    generator.shuffle(catalogue)
    index = {code: sku for sku, code in enumerate(catalogue)}
    lookup = PackedPartNumbers(catalogue)
    found = 0
    for _ in range(400):
        codes = generator.choices(catalogue, k=generator.randint(1, 20))
        if generator.random() < 0.3:  # an unknown code, one of another length, a non-ASCII one
            codes[generator.randrange(len(codes))] = generator.choice(
                ["?" * width, "A" * (width + 1), "é" * width]
            )
        skus = lookup.skus("|".join(codes), len(codes))
        if skus is None:
            assert width >= 8 or any(code not in index for code in codes)
            continue
        found += 1
        np.testing.assert_array_equal(skus, [index[code] for code in codes])
        assert lookup.skus("|".join(codes), len(codes) + 1) is None
    assert (found > 0) == (width < 8)


def test_a_catalogue_of_mixed_code_lengths_is_never_looked_up_in_bulk() -> None:
    lookup = PackedPartNumbers(["P1", "P22", "P333"])
    assert lookup.slot_bytes == 0 and lookup.skus("P1|P22", 2) is None


def test_a_packed_record_of_one_empty_part_number_is_refused_naming_it() -> None:
    """``count`` 1 and an empty part number (once an IndexError that stopped the replay) is a dead letter."""
    zero = packed_ints(np.zeros(1, dtype=np.int64))
    lines = {"count": 1, "part_number": "", **dict.fromkeys(PACKED_POSITION_QUANTITIES, zero)}
    record = {
        "event_id": "DMS:D0001/7", "source": "DMS:D0001", "sequence": 7, "schema_version": 2,
        "occurred_at": "2026-01-05T10:00:00+05:30", "type": "parts.position_delta",
        "payload": {"location_id": "D0001", "packed_lines": lines},
    }  # fmt: skip
    with pytest.raises(FeedRecordError) as refused:
        parse_record(json.dumps(record))
    assert (refused.value.field, refused.value.value, refused.value.reason) == (
        "payload.packed_lines.part_number[0]",
        "",
        "a code has 1 to 40 characters",
    )


def _check_codes_one_by_one(name: str, text: str, count: int) -> None:
    """The rule ``_check_codes`` applies, written plainly: ``count`` codes of 1 to 40 characters."""
    if count == 0:
        if text:
            raise _PackedColumnError(
                name, text[:80] + ("..." if len(text) > 80 else ""), "must be empty when count is 0"
            )
        return
    codes = text.split("|")
    if len(codes) != count:
        raise _PackedColumnError(
            name, text[:80] + ("..." if len(text) > 80 else ""), f"holds {len(codes)} codes, count is {count}"
        )
    for at, code in enumerate(codes):
        if not 1 <= len(code) <= 40:
            raise _PackedColumnError(f"{name}[{at}]", code, "a code has 1 to 40 characters")


def test_packed_code_columns_are_checked_as_code_by_code() -> None:
    generator = random.Random(5)
    for _ in range(3_000):
        count = generator.choice([0, 1, 2, 3, 6])
        width = generator.choice([1, 2, 17, 40, 41])
        text = "|".join("".join(generator.choices("RO-1é", k=width)) for _ in range(count))
        if text and generator.random() < 0.5:  # a separator, a letter or nothing in place of one character
            at = generator.randrange(len(text))
            text = text[:at] + generator.choice(["|", "A", ""]) + text[at + 1 :]
        assert _outcome(_check_codes, "document_number", text, count) == _outcome(
            _check_codes_one_by_one, "document_number", text, count
        ), (text, count)


class _Columns:
    """A decoded packed record's quantity columns (bytes), as msgspec leaves them."""

    def __init__(self, columns: dict[str, bytes]) -> None:
        self.__dict__.update(columns)


def test_a_negative_packed_quantity_is_found_wherever_it_is() -> None:
    """The sign check reads each value's top byte; the refusal names the first negative value."""
    for column in range(len(PACKED_POSITION_QUANTITIES)):
        for line, value in ((0, -1), (2, -(2**31)), (1, -256)):
            values = np.full((len(PACKED_POSITION_QUANTITIES), 3), 2**31 - 1, dtype=np.int64)
            values[column, line] = value
            record = _Columns(
                {
                    name: values[at].astype("<i4").tobytes()
                    for at, name in enumerate(PACKED_POSITION_QUANTITIES)
                }
            )
            with pytest.raises(_PackedColumnError) as refused:
                _int_columns(record, PACKED_POSITION_QUANTITIES, 3)
            assert (refused.value.field, refused.value.value) == (
                f"{PACKED_POSITION_QUANTITIES[column]}[{line}]",
                value,
            )
    record = _Columns(
        {name: np.array([0, 128, 2**31 - 1], "<i4").tobytes() for name in PACKED_POSITION_QUANTITIES}
    )
    assert _int_columns(record, PACKED_POSITION_QUANTITIES, 3).tolist() == [[0, 128, 2**31 - 1]] * 5


def test_check_digits_by_translation_as_by_character() -> None:
    """The translated path gives the check digit of every VIN, either case; anything else takes the path
    that names the bad character, with the same message."""
    generator = random.Random(9)
    for _ in range(5_000):
        alphabet = generator.choice(
            [VIN_ALPHABET, VIN_ALPHABET + VIN_ALPHABET.lower(), VIN_ALPHABET + "IOQé -"]
        )
        vin = "".join(generator.choices(alphabet, k=17))
        slow = _outcome(_check_digit_by_character, vin)
        assert _outcome(check_digit, vin) == slow, vin


def test_the_feed_file_is_cut_into_the_same_lines_and_positions(tmp_path: Path) -> None:
    """Lines cut in C loops: blank lines skipped but counted, whitespace stripped, a line without its newline
    kept back, whatever the chunk size; each position is the byte offset after its line."""
    text = b'{"a":1}\n\n  {"b":2} \r\n\t\n{"c":3}\n{"d":'
    path = tmp_path / "feed.jsonl"
    path.write_bytes(text)
    expected = [(8, b'{"a":1}'), (21, b'{"b":2}'), (31, b'{"c":3}')]
    for chunk_bytes in (1, 3, 1 << 22):
        reader = JsonlReader(path, chunk_bytes=chunk_bytes)
        read = [pair for _ in range(6) for pair in reader.read(1)]
        assert read == expected and reader.offset == 31
        reader.close()
