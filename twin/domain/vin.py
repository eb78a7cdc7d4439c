"""Vehicle identification numbers (ISO 3779) with the North American check digit.

Positions: 1-3 manufacturer id (WMI), 4-8 vehicle attributes, 9 check digit, 10 model year, 11 plant,
12-17 serial. Letters I, O and Q are illegal. The check digit is mandatory only in North America, so
``validate_vin(..., check_digit_required=False)`` accepts Indian VINs whose position 9 is a plain attribute.
"""

from __future__ import annotations

import operator

from twin.errors import VinError

VIN_LENGTH = 17
VIN_ALPHABET = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
_TRANSLITERATION = {
    **{str(digit): digit for digit in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
#: model-year codes cycle every 30 years (no I, O, Q, U, Z, 0); 2010 = "A"
_MODEL_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


#: byte -> its ISO 3779 value (either case), 255 for a byte outside the alphabet: ``bytes.translate`` turns a
#: VIN into its 17 values in one C call (a shadow replay checks every new VIN it is sent)
_VALUE_OF_BYTE = bytes(
    _TRANSLITERATION.get(chr(byte).upper(), 255) if byte < 128 else 255 for byte in range(256)
)
_OUTSIDE_ALPHABET = 255


def check_digit(vin: str) -> str:
    """The check digit (position 9) of a 17-character VIN; position 9 itself is ignored."""
    if len(vin) != VIN_LENGTH:
        raise VinError(f"VIN {vin!r} has {len(vin)} characters, needs {VIN_LENGTH}")
    if vin.isascii():
        values = vin.encode("ascii").translate(_VALUE_OF_BYTE)
        if _OUTSIDE_ALPHABET not in values:
            remainder = sum(map(operator.mul, values, _WEIGHTS)) % 11
            return "X" if remainder == 10 else str(remainder)
    return _check_digit_by_character(vin)


def _check_digit_by_character(vin: str) -> str:
    """``check_digit`` one character at a time: the path that names the character outside the alphabet."""
    total = 0
    for position, (character, weight) in enumerate(zip(vin.upper(), _WEIGHTS, strict=True), start=1):
        value = _TRANSLITERATION.get(character)
        if value is None:
            raise VinError(f"VIN {vin!r} position {position} has {character!r}, not in the ISO 3779 alphabet")
        total += value * weight
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(vin: str, check_digit_required: bool = True) -> str:
    """Return the upper-cased VIN or raise ``VinError`` saying what is wrong."""
    normalised = vin.strip().upper()
    expected = check_digit(normalised)  # also checks length and alphabet
    if check_digit_required and normalised[8] != expected:
        raise VinError(f"VIN {vin!r} check digit is {normalised[8]!r}, expected {expected!r}")
    return normalised


def model_year_code(year: int) -> str:
    return _MODEL_YEAR_CODES[(year - 2010) % len(_MODEL_YEAR_CODES)]


class VinFactory:
    """Makes valid VINs fast: the weighted sum of everything but the serial is cached per prefix."""

    def __init__(self) -> None:
        self._prefix_sums: dict[str, int] = {}
        # serial = high * 1000 + low; positions 12-14 weigh 7 6 5, positions 15-17 weigh 4 3 2
        self._high = [
            sum(int(d) * w for d, w in zip(f"{n:03d}", (7, 6, 5), strict=True)) for n in range(1000)
        ]
        self._low = [sum(int(d) * w for d, w in zip(f"{n:03d}", (4, 3, 2), strict=True)) for n in range(1000)]

    def make(self, wmi: str, attributes: str, model_year: int, plant_code: str, serial: int) -> str:
        prefix = f"{wmi}{attributes}0{model_year_code(model_year)}{plant_code}".upper()
        prefix_sum = self._prefix_sums.get(prefix)
        if prefix_sum is None:
            make_vin(wmi, attributes, model_year, plant_code, 0)  # validates the parts once
            prefix_sum = sum(
                _TRANSLITERATION[character] * weight
                for character, weight in zip(prefix, _WEIGHTS, strict=False)
            )
            self._prefix_sums[prefix] = prefix_sum
        if not 0 <= serial < 1_000_000:
            raise VinError(f"VIN serial {serial} does not fit 6 digits")
        high, low = divmod(serial, 1000)
        remainder = (prefix_sum + self._high[high] + self._low[low]) % 11
        return f"{prefix[:8]}{'X' if remainder == 10 else remainder}{prefix[9:]}{serial:06d}"


def make_vin(wmi: str, attributes: str, model_year: int, plant_code: str, serial: int) -> str:
    """Compose a valid VIN: 3-char WMI, 5-char attribute section, year, 1-char plant, 6-digit serial."""
    if len(wmi) != 3 or len(attributes) != 5 or len(plant_code) != 1:
        raise VinError(
            f"VIN parts have wrong lengths: wmi={wmi!r} attributes={attributes!r} plant={plant_code!r}"
        )
    if not 0 <= serial < 1_000_000:
        raise VinError(f"VIN serial {serial} does not fit 6 digits")
    body = f"{wmi}{attributes}0{model_year_code(model_year)}{plant_code}{serial:06d}".upper()
    return body[:8] + check_digit(body) + body[9:]
