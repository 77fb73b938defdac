"""NPI: check digit (Luhn over 80840 + the first nine digits), validation, typed errors."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given
from hypothesis import strategies as st

from revcycle.codesets import errors, npi

VALID = "1234567893"


def _luhn_valid(number: str) -> bool:
    """The textbook Luhn check, written independently of the module under test."""
    total = 0
    for position, char in enumerate(reversed(number)):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def test_doctests_run_and_pass() -> None:
    result = doctest.testmod(npi)
    assert result.attempted >= 8
    assert result.failed == 0


def test_known_valid_number_in_typed_forms() -> None:
    assert npi.validate(VALID) == VALID
    assert npi.validate(" 1234-567 893 ") == VALID
    assert npi.compact("1234 567-893") == VALID
    assert npi.calc_check_digit(VALID[:9]) == "3"
    assert npi.is_valid(VALID)


@pytest.mark.parametrize("position", range(10))
def test_changing_any_single_digit_makes_it_invalid(position: int) -> None:
    for digit in "0123456789":
        if digit == VALID[position]:
            continue
        changed = VALID[:position] + digit + VALID[position + 1:]
        assert not npi.is_valid(changed), changed
        with pytest.raises(errors.InvalidCode):
            npi.validate(changed)


@pytest.mark.parametrize(
    ("number", "error"),
    [
        ("1234567894", errors.InvalidChecksum),
        ("2234567893", errors.InvalidChecksum),
        ("123456789", errors.InvalidLength),
        ("12345678931", errors.InvalidLength),
        ("", errors.InvalidFormat),
        ("12345A7893", errors.InvalidFormat),
        ("1234567893.", errors.InvalidFormat),
        ("１２３４５６７８９３", errors.InvalidFormat),  # full-width digits are not ASCII
        ("3234567899", errors.InvalidComponent),
        ("0234567895", errors.InvalidComponent),
    ],
)
def test_invalid_numbers_raise_the_typed_error_without_echoing_the_number(
    number: str, error: type[errors.InvalidCode]
) -> None:
    with pytest.raises(error) as caught:
        npi.validate(number)
    assert isinstance(caught.value, ValueError)
    message = str(caught.value)
    assert message
    if number:
        assert npi.compact(number) not in message
        assert number[:6] not in message
    assert not npi.is_valid(number)


def test_component_cases_have_a_correct_luhn_digit() -> None:
    # so the test above proves the first-digit rule, not the checksum, rejected them
    for number in ("3234567899", "0234567895"):
        assert _luhn_valid("80840" + number)


def test_error_hierarchy() -> None:
    for cls in (errors.InvalidFormat, errors.InvalidChecksum, errors.InvalidLength,
                errors.InvalidComponent):
        assert issubclass(cls, errors.InvalidCode)
        assert issubclass(cls, ValueError)
        assert str(cls()) == cls.message
    assert str(errors.InvalidLength("custom")) == "custom"


@pytest.mark.parametrize(("first9", "error"), [
    ("12345678", errors.InvalidLength),
    ("1234567890", errors.InvalidLength),
    ("12345678X", errors.InvalidFormat),
])
def test_calc_check_digit_rejects_bad_input(first9: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        npi.calc_check_digit(first9)


@given(st.sampled_from("12"), st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_check_digit_agrees_with_textbook_luhn(first: str, rest: str) -> None:
    body = first + rest
    digit = npi.calc_check_digit(body)
    assert _luhn_valid("80840" + body + digit)
    assert npi.is_valid(body + digit)
    for other in "0123456789":
        if other != digit:
            assert not _luhn_valid("80840" + body + other)
            assert not npi.is_valid(body + other)
