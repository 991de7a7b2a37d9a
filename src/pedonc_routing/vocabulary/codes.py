"""Diagnosis codes as ordered integer keys, so prefix and range matching are comparisons.

Both evaluators use these keys: the reference evaluator compares them in Python, the
durable-rules engine compares them as integer facts (it has no safe string ordering).

ICD-10 ``C91.0``: letter, two digits, optional one or two decimals. The key orders codes so
that a prefix is a closed interval: ``C91`` covers every ``C91.x`` and ``C91.xx``; ``C91.0``
covers ``C91.0`` and ``C91.00``-``C91.09`` but not a bare ``C91``.

ICD-O-3 morphology ``9836/3``: four digits and a behaviour digit, kept as two integers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ICD10 = re.compile(r"^([A-Z])(\d\d)(?:\.(\d{1,2}))?\Z", re.ASCII)
_MORPHOLOGY = re.compile(r"^(\d{4})(?:/(\d))?\Z", re.ASCII)
_SUB_WIDTH = 11  # one decimal digit -> (d1 + 1) * 11; a second adds d2 + 1; none -> 0
_CATEGORY_WIDTH = 200


class CodeFormatError(ValueError):
    """A code or code pattern that does not parse."""


def _category_base(letter: str, digits: str) -> int:
    return (ord(letter) - ord("A")) * 100 * _CATEGORY_WIDTH + int(digits) * _CATEGORY_WIDTH


def _sub_key(decimals: str) -> int:
    if not decimals:
        return 0
    key = (int(decimals[0]) + 1) * _SUB_WIDTH
    if len(decimals) == 2:
        key += int(decimals[1]) + 1
    return key


def icd10_key(code: str) -> int:
    """The ordered key of a patient's ICD-10 code (e.g. ``C91.0``)."""
    match = _ICD10.match(code)
    if match is None:
        raise CodeFormatError(f"not an ICD-10 code of the form A00 or A00.0: {code!r}")
    letter, digits, decimals = match.groups()
    return _category_base(letter, digits) + _sub_key(decimals or "")


def _icd10_interval(prefix: str) -> tuple[int, int]:
    match = _ICD10.match(prefix)
    if match is None:
        raise CodeFormatError(f"not an ICD-10 code or prefix: {prefix!r}")
    letter, digits, decimals = match.groups()
    base = _category_base(letter, digits)
    if not decimals:
        return base, base + _CATEGORY_WIDTH - 1
    low = base + _sub_key(decimals)
    if len(decimals) == 1:
        return low, low + 10
    return low, low


def icd10_pattern(pattern: str) -> tuple[int, int]:
    """A prefix (``C91.0``) or inclusive range (``C81-C85``) as a closed key interval."""
    if "-" in pattern:
        first, _, last = pattern.partition("-")
        low, _ = _icd10_interval(first.strip())
        _, high = _icd10_interval(last.strip())
        if low > high:
            raise CodeFormatError(f"ICD-10 range runs backwards: {pattern!r}")
        return low, high
    return _icd10_interval(pattern.strip())


@dataclass(frozen=True, slots=True)
class MorphologyRange:
    """ICD-O-3 morphology codes ``low``-``high``, with one behaviour or any."""

    low: int
    high: int
    behaviour: int | None

    def contains(self, code: int, behaviour: int) -> bool:
        return self.low <= code <= self.high and (
            self.behaviour is None or self.behaviour == behaviour
        )


def morphology_parts(code: str) -> tuple[int, int]:
    """A patient's ICD-O-3 morphology ``9836/3`` as (code, behaviour)."""
    match = _MORPHOLOGY.match(code)
    if match is None or match.group(2) is None:
        raise CodeFormatError(f"not an ICD-O-3 morphology code of the form 9836/3: {code!r}")
    return int(match.group(1)), int(match.group(2))


def morphology_pattern(pattern: str) -> MorphologyRange:
    """``9837/3``, ``9811-9818/3``, ``9811/3-9818/3`` or ``9590-9597`` (any behaviour)."""
    text = pattern.replace(" ", "")
    first, dash, last = text.partition("-")
    low_match = _MORPHOLOGY.match(first)
    high_match = _MORPHOLOGY.match(last) if dash else low_match
    if low_match is None or high_match is None:
        raise CodeFormatError(f"not an ICD-O-3 morphology code or range: {pattern!r}")
    behaviours = {b for b in (low_match.group(2), high_match.group(2)) if b is not None}
    if len(behaviours) > 1:
        raise CodeFormatError(f"a morphology range needs one behaviour: {pattern!r}")
    low, high = int(low_match.group(1)), int(high_match.group(1))
    if low > high:
        raise CodeFormatError(f"morphology range runs backwards: {pattern!r}")
    return MorphologyRange(low, high, int(behaviours.pop()) if behaviours else None)
