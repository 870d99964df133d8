"""Nationell reservidentitet (NRID): Inera's national reserve identity ``XXYYMMDDNNGC``.

Source: docs/domain.md §2.2 (Inera PU "Nationellt Reservidformat", quoted in seed 001). Stored
and exchanged as 12 characters without hyphen (display ``XXYYMMDD-NNGC``):

* ``XX`` — known birth date: birth century + 3 × series (series 1–26, so ``22``–``99``;
  the century is the one of 19/20/21 congruent to ``XX`` mod 3). ``00`` = unknown birth
  date. ``01``–``17`` are reserved and ``18``–``21`` never used (they would look like a
  PNR/SNR): both refused.
* ``YYMMDD`` — known date: the birth date, a real calendar date, not after ``today``
  when ``today`` is given. Unknown date: a running number with ``MM`` 20–99 and ``DD``
  40–59 (never a date).
* ``NN`` — two letters from the 21 letters A–Z except I, O, Q, V, W.
* ``G`` — known sex: a digit, even for women, odd for men; unknown sex: one of the 21
  letters.
* ``C`` — Luhn (:mod:`app.identity.luhn`) over ``XXYYMMDDNNG`` with each letter valued
  by its ASCII code; every value counts with the sum of its decimal digits, doubled or
  not (``H`` = 72 counts 9, ``F`` = 70 doubled = 140 counts 5), doubling from the
  rightmost body character. Checked against all five examples of §2.2.

:func:`generate` and :func:`capacity` issue new numbers; see :func:`generate` for the
order in which ``running`` enumerates them.

>>> validate('22950606-fh20')
'22950606FH20'
>>> validate('22950606FH2')
Traceback (most recent call last):
...
app.identity.errors.InvalidLength: NRID: the value must have 12 characters
>>> validate('22950606FH2X')
Traceback (most recent call last):
...
app.identity.errors.InvalidFormat: NRID: the last character must be a check digit
>>> validate('22950606FI20')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: NRID: NN must be two letters A-Z except I, O, Q, V, W
>>> validate('22950606FHV0')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: NRID: G must be a digit or a letter A-Z except I, O, Q, V, W
>>> validate('05950606FH20')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: NRID: series code XX 01-17 is reserved
>>> validate('19950606FH20')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: NRID: series code XX 18-21 is never used
>>> validate('22950230FH20')
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: NRID: the date part is not a real calendar date
>>> validate('00341945BZ31')  # doctest: +NORMALIZE_WHITESPACE
Traceback (most recent call last):
...
app.identity.errors.InvalidComponent: NRID: an unknown-date running number needs MM 20-99 and DD
    40-59
>>> validate('22950606FH21')
Traceback (most recent call last):
...
app.identity.errors.InvalidChecksum: NRID: the check digit does not match
>>> describe('25780404KHD5')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='nrid', birth_date=datetime.date(1978, 4, 4), sex=None, date_unknown=False,
    sex_unknown=True, century=19, series=2)
>>> describe('00342145BZ31')  # doctest: +NORMALIZE_WHITESPACE
Description(kind='nrid', birth_date=None, sex='male', date_unknown=True, sex_unknown=False,
    century=None, series=None)
>>> format('22950606FH20')
'22950606-FH20'
>>> generate(date(1995, 6, 6), 'female', 0)
'22950606AA03'
>>> capacity(True, True), capacity(False, False)
(2205, 1481760000)
"""

from __future__ import annotations

from datetime import date

from app.identity import luhn
from app.identity._common import (
    clean,
    is_digits,
    is_upper_alnum,
    real_date,
    refuse_future,
    require_length,
)
from app.identity._common import passes as _passes
from app.identity.base import Description, Sex
from app.identity.errors import InvalidChecksum, InvalidComponent, InvalidFormat

CODE = "nrid"
NAME = "Nationell reservidentitet (NRID)"
OID: str | None = "1.2.752.74.9.1"
SYSTEM = "urn:oid:1.2.752.74.9.1"
ALIASES: tuple[str, ...] = ("http://electronichealth.se/identifier/nationelltReservnummer",)
PRIORITY = 30
GENERATABLE = True

#: The 21 letters of NN and of an unknown-sex G, in generation order.
LETTERS = "ABCDEFGHJKLMNPRSTUXYZ"
#: How many series a known (date, sex) has: XX = century + 3 × series.
SERIES = 26
_CENTURIES = (19, 20, 21)
_SEX_DIGITS: dict[Sex, str] = {"female": "02468", "male": "13579"}
# Unknown date: YY 00-99, MM 20-99, DD 40-59 (docs/domain.md §2.2).
_DATE_SLOTS = 100 * 80 * 20
_PAIRS = len(LETTERS) ** 2
_LABEL = "NRID"


def normalise(value: str, *, today: date | None = None) -> str:
    """Strip, upper-case and drop the display hyphen (no rule is checked)."""
    return clean(value, _LABEL)


def _values(body: str) -> list[int]:
    # Letters count with their whole ASCII value (docs/domain.md §2.2).
    return [int(char) if char.isdigit() else ord(char) for char in body]


def _century(series_code: int) -> int:
    return next(c for c in _CENTURIES if c % 3 == series_code % 3)


def _known_date(text: str) -> date:
    return real_date(
        _century(int(text[:2])) * 100 + int(text[2:4]), int(text[4:6]), int(text[6:8]), _LABEL
    )


def validate(value: str, *, today: date | None = None) -> str:
    """The stored 12-character form, or a ValidationError naming the broken rule."""
    text = normalise(value)
    require_length(text, 12, _LABEL)
    if not is_upper_alnum(text) or not is_digits(text[:8]):
        raise InvalidFormat(f"{_LABEL}: XXYYMMDD must be digits, NNG digits or letters A-Z")
    if not is_digits(text[11]):
        raise InvalidFormat(f"{_LABEL}: the last character must be a check digit")
    if text[8] not in LETTERS or text[9] not in LETTERS:
        raise InvalidComponent(f"{_LABEL}: NN must be two letters A-Z except I, O, Q, V, W")
    if not (is_digits(text[10]) or text[10] in LETTERS):
        raise InvalidComponent(f"{_LABEL}: G must be a digit or a letter A-Z except I, O, Q, V, W")
    series_code = int(text[:2])
    if series_code == 0:
        if not (20 <= int(text[4:6]) <= 99 and 40 <= int(text[6:8]) <= 59):
            raise InvalidComponent(
                f"{_LABEL}: an unknown-date running number needs MM 20-99 and DD 40-59"
            )
    elif series_code <= 17:
        raise InvalidComponent(f"{_LABEL}: series code XX 01-17 is reserved")
    elif series_code <= 21:
        raise InvalidComponent(f"{_LABEL}: series code XX 18-21 is never used")
    else:
        refuse_future(_known_date(text), today, _LABEL)
    if not luhn.is_valid(_values(text)):
        raise InvalidChecksum(f"{_LABEL}: the check digit does not match")
    return text


def is_valid(value: object, *, today: date | None = None) -> bool:
    """Whether :func:`validate` accepts ``value``; never raises."""
    return _passes(validate, value, today)


def describe(value: str, *, today: date | None = None) -> Description:
    """Birth date, century and series (known date); sex (digit G) or unknown (letter G)."""
    text = validate(value, today=today)
    sex: Sex | None = None
    if is_digits(text[10]):
        sex = "male" if int(text[10]) % 2 else "female"
    series_code = int(text[:2])
    if series_code == 0:
        return Description(kind=CODE, sex=sex, date_unknown=True, sex_unknown=sex is None)
    century = _century(series_code)
    return Description(
        kind=CODE,
        birth_date=_known_date(text),
        sex=sex,
        sex_unknown=sex is None,
        century=century,
        series=(series_code - century) // 3,
    )


def format(value: str) -> str:  # noqa: A001 - the stdnum name every kind shares
    """Display form ``XXYYMMDD-NNGC``."""
    text = validate(value)
    return f"{text[:8]}-{text[8:]}"


def _g_choices(sex: Sex | None) -> str:
    if sex is None:
        return LETTERS
    if sex not in _SEX_DIGITS:
        raise InvalidComponent(f"{_LABEL}: sex must be 'female', 'male' or unknown (None)")
    return _SEX_DIGITS[sex]


def capacity(date_known: bool, sex_known: bool) -> int:
    """How many distinct ``running`` values one (birth date or none, sex, series) has.

    NN pairs (21 × 21 = 441) × G choices (5 digits of the sex's parity, or 21 letters),
    and for an unknown date × 160 000 YYMMDD slots (YY 00–99, MM 20–99, DD 40–59).
    """
    per_date = _PAIRS * (5 if sex_known else len(LETTERS))
    return per_date if date_known else per_date * _DATE_SLOTS


def generate(birth_date: date | None, sex: Sex | None, running: int, series: int = 1) -> str:
    """The NRID number ``running`` of (birth date, sex, series); a bijection on its range.

    ``running`` in ``range(capacity(birth_date is not None, sex is not None))`` is read as
    a mixed-radix number, most significant first: (for an unknown date) the YYMMDD slot,
    then the NN pair, then G. So G varies fastest, then the second and first letter of
    NN (``LETTERS`` order), then DD (40–59), MM (20–99) and YY (00–99)::

        running = (slot × 441 + first × 21 + second) × len(G choices) + g
        slot    = YY × 1600 + (MM − 20) × 20 + (DD − 40)

    G choices: women ``0 2 4 6 8``, men ``1 3 5 7 9``, unknown sex ``LETTERS``. A known
    date takes series 1–26 (XX = century + 3 × series, birth years 1900–2199); an
    unknown date has no series and only ``series=1`` is accepted, so a number is never
    produced twice. Anything out of range raises InvalidComponent.

    >>> generate(None, None, 0)
    '00002040AAA9'
    >>> generate(date(1978, 4, 4), None, 1, series=27)
    Traceback (most recent call last):
    ...
    app.identity.errors.InvalidComponent: NRID: series must be 1-26
    """
    choices = _g_choices(sex)
    if isinstance(running, bool) or not isinstance(running, int):
        raise InvalidComponent(f"{_LABEL}: the running number must be an integer")
    if not 0 <= running < capacity(birth_date is not None, sex is not None):
        raise InvalidComponent(f"{_LABEL}: the running number is out of range")
    rest, g_index = divmod(running, len(choices))
    slot, pair = divmod(rest, _PAIRS)
    if birth_date is None:
        if series != 1:
            raise InvalidComponent(f"{_LABEL}: an unknown birth date has no series")
        year, day_slot = divmod(slot, 80 * 20)
        head = f"00{year:02d}{20 + day_slot // 20:02d}{40 + day_slot % 20:02d}"
    else:
        if isinstance(series, bool) or not isinstance(series, int) or not 1 <= series <= SERIES:
            raise InvalidComponent(f"{_LABEL}: series must be 1-{SERIES}")
        century = birth_date.year // 100
        if century not in _CENTURIES:
            raise InvalidComponent(f"{_LABEL}: only birth years 1900-2199 can be encoded")
        head = f"{century + 3 * series:02d}{birth_date:%y%m%d}"
    body = f"{head}{LETTERS[pair // len(LETTERS)]}{LETTERS[pair % len(LETTERS)]}{choices[g_index]}"
    return body + str(luhn.check_digit(_values(body)))
