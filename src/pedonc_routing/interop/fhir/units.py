"""UCUM unit conversion for the units our inputs use: exact (Decimal), never a guess.

Each canonical unit (the vocabulary's, as UCUM) lists the UCUM codes accepted for it and how
to convert. A code that is not listed is refused by the caller with the element's position:
a count in ``mmol/L`` is a mapping error, not something to reinterpret.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

Converter = Callable[[Decimal], Decimal]


def _times(factor: str) -> Converter:
    scale = Decimal(factor)
    return lambda value: value * scale


_SAME: Converter = _times("1")

#: canonical UCUM unit -> {accepted UCUM code: conversion to the canonical unit}
CONVERSIONS: dict[str, dict[str, Converter]] = {
    # number concentration of cells: 10^9/L == 10^3/uL == /nL; /uL and /mm3 are 10^-3 of it
    "10*9/L": {
        "10*9/L": _SAME,
        "10*3/uL": _SAME,
        "10*3/mm3": _SAME,
        "/nL": _SAME,
        "10*6/mL": _SAME,
        "/uL": _times("0.001"),
        "{cells}/uL": _times("0.001"),
        "/mm3": _times("0.001"),
        "10*6/L": _times("0.001"),
    },
    "Cel": {
        "Cel": _SAME,
        "[degF]": lambda f: (f - Decimal(32)) * Decimal(5) / Decimal(9),
        "K": lambda k: k - Decimal("273.15"),
    },
    "%": {"%": _SAME},
    "1": {"1": _SAME},
    "mg/m2": {"mg/m2": _SAME, "g/m2": _times("1000"), "ug/m2": _times("0.001")},
    "Gy": {"Gy": _SAME, "cGy": _times("0.01"), "mGy": _times("0.001")},
    "a": {"a": _SAME},
    # mass concentration, e.g. haemoglobin: g/dL is 10 g/L (no shipped input uses it yet)
    "g/L": {"g/L": _SAME, "g/dL": _times("10"), "mg/dL": _times("0.01")},
}


def accepted_units(canonical: str) -> tuple[str, ...]:
    """The UCUM codes accepted for values of a canonical unit, canonical first."""
    return tuple(CONVERSIONS.get(canonical, {canonical: _SAME}))


def convert(value: Decimal, unit: str, canonical: str) -> Decimal | None:
    """``value`` in ``unit`` expressed in ``canonical``; None when ``unit`` is not accepted."""
    converter = CONVERSIONS.get(canonical, {canonical: _SAME}).get(unit)
    if converter is None:
        return None
    return converter(value)
