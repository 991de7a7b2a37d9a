"""UCUM unit conversion by parsing, exact (Decimal), never a guess.

A Quantity's unit code is parsed with the full UCUM grammar (``ucumvert``, generated from the
official ucum-essence.xml) and converted with ``pint`` in decimal arithmetic. So every valid
UCUM spelling of a unit is accepted (``10*9/L``, ``10^9/L``, ``10*3/uL``, ``/nL``,
``{cells}/uL`` — annotations are unity), and a value in another kind of quantity (a count in
``mmol/L``) or text that is not UCUM (``cells/uL``, ``x10^9/L``) is refused by the caller
with the element's position, never reinterpreted.

Parsing a unit costs far more than converting, so parsed units are cached; the registry
(about a second to build) is built once per process, on the first unit that is not already
the canonical one.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from functools import lru_cache
from typing import Any

# Dimensionless units that pint would convert into each other but that are not the same
# quantity for a guard: a ratio "x ULN" is not a percentage.
_DIMENSIONLESS = frozenset({"1", "%"})


class UnitError(ValueError):
    """A unit that is not valid UCUM, or not convertible to the canonical unit."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_lock = threading.RLock()  # one registry build; parses serialised (lark state is shared)
_state: dict[str, Any] = {}


def _registry() -> Any:
    """The pint registry with the UCUM definitions (built once, thread-safe)."""
    registry = _state.get("registry")
    if registry is not None:
        return registry
    with _lock:
        if "registry" not in _state:
            from ucumvert import PintUcumRegistry  # ~1 s: only when a unit must be converted

            _state["registry"] = PintUcumRegistry(non_int_type=Decimal)
        return _state["registry"]


def _parsed(code: str) -> Any:
    """The pint unit of a UCUM code; raises UnitError when the code is not UCUM."""
    unit = _parse_once(code)
    if unit is None:
        raise UnitError("not a UCUM unit code")
    return unit


@lru_cache(maxsize=512)
def _parse_once(code: str) -> Any:
    """The pint unit of a UCUM code, or None; cached both ways (an EHR repeats its units,
    valid or not)."""
    from lark.exceptions import LarkError

    registry = _registry()
    with _lock:
        try:
            return registry.from_ucum(code)
        except (LarkError, ValueError, KeyError, AttributeError, TypeError):
            return None


def is_ucum(code: str) -> bool:
    """True when ``code`` parses as a UCUM unit."""
    try:
        _parsed(code)
    except UnitError:
        return False
    return True


def convert(value: Decimal, unit: str, canonical: str) -> Decimal:
    """``value`` in the UCUM ``unit`` expressed in the ``canonical`` UCUM unit.

    Raises UnitError when ``unit`` is not UCUM or measures another kind of quantity.
    """
    if unit == canonical:
        return value
    if canonical in _DIMENSIONLESS or unit in _DIMENSIONLESS:
        raise UnitError(f"not convertible to {canonical}")
    source, target = _parsed(unit), _parsed(canonical)
    import pint

    registry = _registry()
    try:
        converted = registry.Quantity(value, source).to(target).magnitude
    except pint.errors.DimensionalityError:
        raise UnitError(f"another kind of quantity than {canonical}") from None
    return Decimal(converted)


def same_kind(unit: str, canonical: str) -> bool:
    """True when ``unit`` is UCUM and converts to ``canonical`` (e.g. a temperature)."""
    try:
        convert(Decimal(1), unit, canonical)
    except UnitError:
        return False
    return True
