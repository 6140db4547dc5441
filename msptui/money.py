"""Money as typed: the one parser behind every amount option (CLI and TUI forms alike).

``1234.50``, ``1,234.50``, ``1_000_000``, ``250k``, ``1.5M``: exact
``Decimal`` arithmetic all the way (never a float, so ``1.15M`` is exactly
1,150,000), non-negative, at most 15 digits before the point. An amount in a
currency may carry no more decimal places than the currency has minor units
(ISO 4217: JPY none, USD two, KWD three); amounts in whole units (policy
limits, retentions, clause amounts) take none.

Errors are one line, ``"<name>: <what is wrong>"``, with the option or field
name the caller gives (``--amount``, ``--cap``, ``limit``).
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .errors import FieldError

__all__ = ["MAX_DIGITS", "MAX_PLACES", "minor_units", "parse_amount"]

#: digits before the decimal point an amount may have (below a quadrillion)
MAX_DIGITS = 15
#: decimal places any stored amount may have (models.Amount)
MAX_PLACES = 3
#: ISO 4217 minor units (the "exponent") of the currencies whose exponent is not 2 (ISO 4217 list one,
#: amendment 179, 2025); every other active code has 2. Codes ISO lists with no minor unit ("N.A.":
#: precious metals, SDR, bond-market and testing units) are in ``_NOT_APPLICABLE``.
_EXPONENTS: dict[str, int] = {
    # none
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
    "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    # three
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
    # four
    "CLF": 4, "UYW": 4,
}
_NOT_APPLICABLE = frozenset({"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"})
#: ASCII digits only (re.ASCII): \d would also take Arabic-Indic, full-width and other digits, recording an amount
#: the person reading the command line did not see
_AMOUNT = re.compile(r"^(?P<number>(?:\d[\d,_]*)?(?:\.\d+)?)\s*(?P<unit>[kKmM]?)$", re.ASCII)
_SCALE = {"": 1, "k": 1_000, "m": 1_000_000}
_EXAMPLES = "e.g. 1234.50, 1,000,000, 250k or 1.5M"
_WHOLE_EXAMPLES = "whole units, e.g. 1000000, 1,000,000, 250k or 1.5M"


def minor_units(currency: str) -> int | None:
    """ISO 4217 minor units of ``currency`` (JPY 0, USD 2, KWD 3); None where ISO gives none (XAU, XDR ...)."""
    code = currency.upper()
    if code in _NOT_APPLICABLE:
        return None
    return _EXPONENTS.get(code, 2)


def _places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def parse_amount(value: str | int | Decimal | None, name: str, *, currency: str | None = None, whole: bool = False,
                 required: bool = True) -> Decimal | None:
    """The amount typed in ``value`` as an exact Decimal, or a one-line UserError naming ``name``.

    ``currency``: refuse more decimal places than its ISO 4217 minor units;
    ``whole``: whole units only (the result is still a Decimal; ``int()`` it);
    ``required``: a blank or missing value is an error (else None).
    """
    examples = _WHOLE_EXAMPLES if whole else _EXAMPLES
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(name, f"give an amount ({examples})")
        return None
    if isinstance(value, bool):
        raise FieldError(name, f"not an amount: {value!r} ({examples})")
    scaled = False
    if isinstance(value, (int, Decimal)):
        number = Decimal(value)
        shown = str(value)
    else:
        shown = value.strip()[:40]
        text = value.strip()
        negative = text.startswith("-")
        match = _AMOUNT.match(text[1:].strip() if negative else text)
        digits = match.group("number").replace(",", "").replace("_", "") if match else ""
        if not match or not digits.strip(".") or len(text) > 40:
            raise FieldError(name, f"not an amount: {shown!r} ({examples})")
        try:
            number = Decimal(digits) * _SCALE[match.group("unit").lower()]
            scaled = bool(match.group("unit"))
        except InvalidOperation:
            raise FieldError(name, f"not an amount: {shown!r} ({examples})") from None
        if negative:  # '-0' too: it is not an amount anyone paid (it was recorded and listed as 'USD -0')
            raise FieldError(name, f"an amount cannot be negative ({shown})")
    if not number.is_finite():
        raise FieldError(name, f"not an amount: {shown!r} ({examples})")
    if number < 0:
        raise FieldError(name, f"an amount cannot be negative ({shown})")
    if number != 0 and number.adjusted() >= MAX_DIGITS:
        raise FieldError(name, f"{shown} is too large (at most {MAX_DIGITS} digits before the decimal point)")
    # the amount's own precision: "5.00" JPY is five yen, "1.5M" has no decimals
    exact = _places(number.normalize()) if number != 0 else 0
    if scaled:  # "1.5M" is 1500000, not 1500000.0
        number = number.quantize(Decimal(1).scaleb(-exact))
    if whole:
        if exact:
            raise FieldError(name, f"{shown!r} is not a whole amount ({_WHOLE_EXAMPLES})")
        return number.quantize(Decimal(1))
    allowed = MAX_PLACES if currency is None else minor_units(currency)
    if allowed is None:
        allowed = MAX_PLACES
    allowed = min(allowed, MAX_PLACES)
    if exact > allowed:
        if currency is None or minor_units(currency) is None:
            raise FieldError(name, f"{shown} has more than {MAX_PLACES} decimal places")
        has = "no minor unit: whole amounts only" if allowed == 0 else f"{allowed} decimal places"
        raise FieldError(name, f"{shown} has {exact} decimal places, but {currency.upper()} has {has} (ISO 4217)")
    if _places(number) > allowed:
        number = number.quantize(Decimal(1).scaleb(-allowed))
    return number
