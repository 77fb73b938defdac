"""NPI (National Provider Identifier, United States).

The NPI identifies a health care provider, a person (entity type 1) or an organization
(entity type 2), on every HIPAA transaction. It has ten digits: nine assigned by CMS's
enumerator, which starts them with 1 or 2, and a Luhn check digit computed as if the
number were prefixed with 80840, the ISO/IEC 7812 issuer prefix of US health care.

More information:

* https://www.cms.gov/Regulations-and-Guidance/Administrative-Simplification/NationalProvIdentStand

>>> validate('1234567893')
'1234567893'
>>> validate('1234-567 893')
'1234567893'
>>> calc_check_digit('123456789')
'3'
>>> is_valid('1234567893')
True
>>> is_valid('1234567894')
False
>>> validate('1234567894')
Traceback (most recent call last):
    ...
revcycle.codesets.errors.InvalidChecksum: The NPI's check digit is wrong.
>>> validate('123456789')
Traceback (most recent call last):
    ...
revcycle.codesets.errors.InvalidLength: An NPI has 10 digits.
>>> validate('3234567891')
Traceback (most recent call last):
    ...
revcycle.codesets.errors.InvalidComponent: An NPI starts with 1 or 2.
"""

from __future__ import annotations

from revcycle.codesets.errors import (
    InvalidChecksum,
    InvalidCode,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
)

_PREFIX = "80840"
_LENGTH = 10
_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)  # digit * 2, digits summed (Luhn)


def _is_digits(value: str) -> bool:
    # str.isdigit() alone accepts non-ASCII digits such as '²' or '٣'.
    return value.isascii() and value.isdigit()


def compact(number: str) -> str:
    """The number without the spaces and dashes people type in it.

    >>> compact(' 1234-567-893 ')
    '1234567893'
    """
    return number.replace(" ", "").replace("-", "").strip()


def calc_check_digit(first9: str) -> str:
    """The check digit for the first nine digits of an NPI (Luhn over 80840 + them).

    >>> calc_check_digit('199999998')
    '4'
    """
    if not _is_digits(first9):
        raise InvalidFormat("An NPI has only digits.")
    if len(first9) != _LENGTH - 1:
        raise InvalidLength("The NPI check digit is computed over 9 digits.")
    total = 0
    # Walking right to left, the digit next to the (missing) check digit is doubled.
    for position, char in enumerate(reversed(_PREFIX + first9)):
        digit = ord(char) - 48
        total += _DOUBLED[digit] if position % 2 == 0 else digit
    return str(-total % 10)


def validate(number: str) -> str:
    """The compact NPI when it is valid; otherwise raise an ``InvalidCode`` subclass."""
    number = compact(number)
    if not _is_digits(number):
        raise InvalidFormat("An NPI has only digits.")
    if len(number) != _LENGTH:
        raise InvalidLength("An NPI has 10 digits.")
    if number[0] not in "12":
        raise InvalidComponent("An NPI starts with 1 or 2.")
    if calc_check_digit(number[:-1]) != number[-1]:
        raise InvalidChecksum("The NPI's check digit is wrong.")
    return number


def is_valid(number: str) -> bool:
    """Whether the number is a valid NPI (spaces and dashes allowed)."""
    try:
        return bool(validate(number))
    except InvalidCode:
        return False
