"""Diagnosis code matching (compiler/codes.py): ICD-10 prefixes and ranges as key intervals,
ICD-O-3 morphology ranges with and without behaviour, and refusal of malformed codes and
patterns with CodeFormatError. A hypothesis property checks the integer keys against a
plain string/tuple oracle.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pedonc_routing.vocabulary.codes import (
    CodeFormatError,
    icd10_key,
    icd10_pattern,
    morphology_parts,
    morphology_pattern,
)


def covers(pattern: str, code: str) -> bool:
    low, high = icd10_pattern(pattern)
    return low <= icd10_key(code) <= high


@pytest.mark.parametrize(
    ("pattern", "code", "expected"),
    [
        ("C91", "C91", True),
        ("C91", "C91.0", True),
        ("C91", "C91.00", True),
        ("C91", "C91.9", True),
        ("C91", "C91.99", True),
        ("C91", "C90.9", False),
        ("C91", "C92", False),
        ("C91", "C92.0", False),
        ("C91.0", "C91.0", True),
        ("C91.0", "C91.00", True),
        ("C91.0", "C91.09", True),
        ("C91.0", "C91", False),  # a bare category is not the subcategory
        ("C91.0", "C91.1", False),
        ("C91.0", "C91.10", False),
        ("C91.00", "C91.00", True),
        ("C91.00", "C91.0", False),
        ("C91.00", "C91.01", False),
        ("C81-C85", "C81", True),
        ("C81-C85", "C83.7", True),
        ("C81-C85", "C85.99", True),
        ("C81-C85", "C80.9", False),
        ("C86", "C86.0", True),
        ("C81-C85", "C86.0", False),
        ("C81-C85", "C86", False),
        ("C91.0-C91.2", "C91.29", True),
        ("C91.0-C91.2", "C91", False),
        ("C91.0-C91.2", "C91.3", False),
        ("C81 - C85", "C83", True),  # spaces around the dash are allowed
        ("D00-D09", "C99.9", False),
        ("C00-D09", "D05.1", True),  # a range across letters
    ],
)
def test_icd10_prefix_and_range(pattern: str, code: str, expected: bool) -> None:
    assert covers(pattern, code) is expected


@pytest.mark.parametrize(
    "pattern", ["", "C9", "c91", "C91.", "C91.123", "91.0", "C91.0a", "CC91", "C85-C81", "C91-"]
)
def test_bad_icd10_pattern_raises(pattern: str) -> None:
    with pytest.raises(CodeFormatError):
        icd10_pattern(pattern)


@pytest.mark.parametrize("code", ["", "C9", "C91.", "C91.123", "C91-C92", "c91.0", " C91"])
def test_bad_icd10_code_raises(code: str) -> None:
    with pytest.raises(CodeFormatError):
        icd10_key(code)


def test_code_format_error_is_a_value_error() -> None:
    assert issubclass(CodeFormatError, ValueError)


@pytest.mark.parametrize(
    ("pattern", "code", "expected"),
    [
        ("9837/3", "9837/3", True),
        ("9837/3", "9837/1", False),  # the behaviour is part of the code
        ("9837/3", "9836/3", False),
        ("9811/3-9818/3", "9811/3", True),
        ("9811/3-9818/3", "9815/3", True),
        ("9811/3-9818/3", "9818/3", True),
        ("9811/3-9818/3", "9819/3", False),
        ("9811/3-9818/3", "9810/3", False),
        ("9811/3-9818/3", "9815/1", False),
        ("9811-9818/3", "9815/3", True),  # behaviour written once
        ("9811-9818/3", "9815/0", False),
        ("9590-9597", "9590/3", True),  # no behaviour: any behaviour
        ("9590-9597", "9597/1", True),
        ("9590-9597", "9598/3", False),
        ("9837", "9837/6", True),
    ],
)
def test_morphology_ranges(pattern: str, code: str, expected: bool) -> None:
    value, behaviour = morphology_parts(code)
    assert morphology_pattern(pattern).contains(value, behaviour) is expected


def test_morphology_pattern_fields() -> None:
    item = morphology_pattern("9811/3-9818/3")
    assert (item.low, item.high, item.behaviour) == (9811, 9818, 3)
    assert morphology_pattern("9590-9597").behaviour is None


@pytest.mark.parametrize(
    "pattern", ["", "abc", "981/3", "9811/33", "9811/3-9818/1", "9818-9811", "9811/3-", "98111"]
)
def test_bad_morphology_pattern_raises(pattern: str) -> None:
    with pytest.raises(CodeFormatError):
        morphology_pattern(pattern)


@pytest.mark.parametrize("code", ["9836", "9836/", "9836/33", "983/3", "C42.1"])
def test_patient_morphology_needs_behaviour(code: str) -> None:
    with pytest.raises(CodeFormatError):
        morphology_parts(code)


# -- property: the integer keys agree with a plain tuple oracle ------------------------------

letters = st.sampled_from("ABCDZ")
categories = st.integers(0, 99)
decimals = st.one_of(
    st.just(""), st.integers(0, 9).map(str), st.integers(0, 99).map("{:02d}".format)
)


@st.composite
def icd10_codes(draw: st.DrawFn) -> str:
    code = f"{draw(letters)}{draw(categories):02d}"
    tail = draw(decimals)
    return f"{code}.{tail}" if tail else code


def as_tuple(code: str, fill: int) -> tuple[str, int, int, int]:
    """(letter, category, d1, d2) with missing decimals replaced by ``fill``."""
    head, _, tail = code.partition(".")
    d1 = int(tail[0]) if len(tail) >= 1 else fill
    d2 = int(tail[1]) if len(tail) == 2 else fill
    return head[0], int(head[1:]), d1, d2


@given(pattern=icd10_codes(), code=icd10_codes())
def test_prefix_matches_string_prefix(pattern: str, code: str) -> None:
    # For well-formed codes, "covers" is exactly "starts with the prefix".
    assert covers(pattern, code) is code.startswith(pattern)


@given(first=icd10_codes(), last=icd10_codes(), code=icd10_codes())
def test_range_matches_tuple_order(first: str, last: str, code: str) -> None:
    low, high = as_tuple(first, -1), as_tuple(last, 10)
    if low > high:
        with pytest.raises(CodeFormatError):
            icd10_pattern(f"{first}-{last}")
        return
    assert covers(f"{first}-{last}", code) is (low <= as_tuple(code, -1) <= high)
