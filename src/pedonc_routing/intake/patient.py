"""Patient intake: a patient state -> facts, the typed, checked, normalised inputs guards read.

This happens at route time, once per decision. :func:`read_patient` checks a state against
the bundle's :class:`~pedonc_routing.vocabulary.inputs.FactSchema` and reports *every*
problem at once in one :class:`PatientDataError`, never echoing the patient identifier or
other values.

Numbers are rounded (half-even) to their input's declared ``precision`` before any guard sees
them, so the reference evaluator and the durable-rules engine (which compares fixed-point
integers) read the same value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from pedonc_routing.errors import PatientDataError
from pedonc_routing.model.patient import PatientState
from pedonc_routing.source import format_path
from pedonc_routing.suggestions import with_hint
from pedonc_routing.vocabulary.codes import CodeFormatError, icd10_key, morphology_parts
from pedonc_routing.vocabulary.inputs import (
    MAX_AGE_YEARS,
    FactSchema,
    FactValue,
    InputSpec,
    kz_region_codes,
    quantize,
)

EARLIEST_AS_OF = date(1990, 1, 1)
LATEST_AS_OF = date(2100, 1, 1)


def completed_years_and_months(born: date, on: date) -> tuple[int, int]:
    """Completed age in years and in months (a birthday counts on its day)."""
    months = (on.year - born.year) * 12 + (on.month - born.month)
    if on.day < born.day:
        months -= 1
    return months // 12, months


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """A checked patient state and the facts derived from it."""

    state: PatientState
    facts: Mapping[str, FactValue]


def read_patient(
    schema: FactSchema,
    raw: PatientState | Mapping[str, Any],
    steps_by_protocol: Mapping[str, frozenset[str]],
) -> PatientFacts:
    """Check a patient state against ``schema``; raise one :class:`PatientDataError` listing
    every problem. ``steps_by_protocol`` names the positions the bundle knows."""
    problems: list[str] = []
    unchecked: set[str] = set()  # fields replaced by placeholders: not checked further
    state: PatientState | None
    if isinstance(raw, PatientState):
        state = raw
    elif isinstance(raw, Mapping):
        try:
            state = PatientState.model_validate(raw)
        except ValidationError as error:
            problems.extend(shape_problems(error))
            state, unchecked = _salvage(raw, error)
    else:
        raise PatientDataError([f"patient: expected a mapping, got {type(raw).__name__}"])

    facts: dict[str, FactValue] = {}
    if state is not None:
        if "as_of" not in unchecked:
            _read_dates(state, facts, problems)
        _read_context(state, steps_by_protocol, facts, problems, unchecked)
        facts.update(_check_group(schema, "observations", state.observations, problems))
        facts.update(_check_group(schema, "exposures", state.exposures, problems))
        _derive(schema, facts)
    if problems or state is None:
        raise PatientDataError(problems)
    return PatientFacts(state, facts)


def _derive(schema: FactSchema, facts: dict[str, FactValue]) -> None:
    """Compute derived inputs whose every term is known (else they stay unknown)."""
    for spec in schema.derived:
        total = Decimal(0)
        for name, factor in spec.terms:
            value = facts.get(name)
            if not isinstance(value, int | float) or isinstance(value, bool):
                break
            total += Decimal(repr(float(value))) * Decimal(repr(factor))
        else:
            facts[spec.name] = quantize(float(total), spec.precision)


def _read_dates(state: PatientState, facts: dict[str, FactValue], problems: list[str]) -> None:
    today = state.as_of.date()
    if not EARLIEST_AS_OF <= today < LATEST_AS_OF:
        problems.append(f"as_of: {today.year} is outside {EARLIEST_AS_OF.year}-2099")
        return
    years: int | None = None
    months: int | None = None
    if state.birth_date is not None:
        if state.birth_date > today:
            problems.append("birth_date: is after as_of")
            return
        years, months = completed_years_and_months(state.birth_date, today)
    if state.age_months is not None:
        if months is not None and months != state.age_months:
            problems.append("age_months: disagrees with birth_date")
        months = state.age_months
    if state.age_years is not None:
        derived = months // 12 if months is not None else None
        if derived is not None and derived != state.age_years:
            problems.append("age_years: disagrees with birth_date/age_months")
        years = state.age_years
    if years is None and months is not None:
        years = months // 12
    if years is None:
        return  # age is simply missing; a guard that needs it answers needs_data
    if years < 0 or (months is not None and months < 0):
        problems.append("age: must not be negative")
    elif years > MAX_AGE_YEARS:
        problems.append(f"age: over {MAX_AGE_YEARS} years is not plausible")
    else:
        facts["age_years"] = years
        if months is not None:
            facts["age_months"] = months


def _read_context(
    state: PatientState,
    steps_by_protocol: Mapping[str, frozenset[str]],
    facts: dict[str, FactValue],
    problems: list[str],
    unchecked: set[str],
) -> None:
    if state.sex is not None:
        if state.sex in ("F", "M"):
            facts["sex"] = state.sex
        else:
            problems.append("sex: must be F or M")
    if "home_region" in unchecked:
        pass
    elif state.home_region in kz_region_codes():
        facts["home_region"] = state.home_region
    else:
        problems.append(
            with_hint(
                "home_region: not an ISO 3166-2:KZ subdivision code",
                state.home_region if len(state.home_region) < 16 else "",
                kz_region_codes(),
            )
        )
    diagnosis = state.diagnosis
    if diagnosis.icd10 is not None:
        try:
            icd10_key(diagnosis.icd10)
            facts["icd10"] = diagnosis.icd10
        except CodeFormatError:
            problems.append("diagnosis.icd10: not an ICD-10 code of the form C91 or C91.0")
    if diagnosis.icdo3_morphology is not None:
        try:
            morphology_parts(diagnosis.icdo3_morphology)
            facts["icdo3_morphology"] = diagnosis.icdo3_morphology
        except CodeFormatError:
            problems.append("diagnosis.icdo3_morphology: not of the form 9836/3")
    if diagnosis.icdo3_topography is not None:
        facts["icdo3_topography"] = diagnosis.icdo3_topography
    position = state.position
    if position is not None:
        steps = steps_by_protocol.get(position.protocol)
        if steps is None:
            problems.append(
                with_hint(
                    "position.protocol: unknown protocol", position.protocol, steps_by_protocol
                )
            )
        elif position.step not in steps:
            problems.append(
                with_hint(
                    f"position.step: not a step of protocol {position.protocol!r}",
                    position.step,
                    steps,
                )
            )
        back = position.return_to
        if back is not None and back.step not in steps_by_protocol.get(back.protocol, ()):
            problems.append("position.return_to: not a step of a protocol in the bundle")
        if position.entered_at is not None and position.entered_at > state.as_of:
            problems.append("position.entered_at: is after as_of")


def _check_group(
    schema: FactSchema, group: str, values: Mapping[Any, Any], problems: list[str]
) -> dict[str, FactValue]:
    checked: dict[str, FactValue] = {}
    for name, value in values.items():
        where = f"{group}.{name}"
        spec = schema.inputs.get(name) if isinstance(name, str) else None
        if spec is None or spec.group != group:
            known = schema.names_in(group)
            problems.append(with_hint(f"{where}: not in the vocabulary", str(name), known))
            continue
        if value is None:
            continue  # an explicit null means "not known": same as absent
        result, problem = _check_value(spec, value)
        if problem is not None:
            problems.append(f"{where}: {problem}")
        elif result is not None:
            checked[name] = result
    return checked


def _check_value(spec: InputSpec, value: Any) -> tuple[FactValue | None, str | None]:
    """(normalised value, None), or (None, what is wrong): never echoes the value."""
    if spec.type in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, f"expected a {spec.type}"
        if isinstance(value, float) and not math.isfinite(value):
            return None, "must be a finite number"
        if spec.type == "integer" and isinstance(value, float) and not value.is_integer():
            return None, "expected an integer"
        number: float | int = int(value) if spec.type == "integer" else value
        if abs(number) > 1e12:
            return None, "out of range"
        if spec.type == "number":
            try:
                number = quantize(float(number), spec.precision)
            except (InvalidOperation, ValueError):
                return None, "not a usable number"
        plausible = f"the plausible range [{spec.low:g}, {spec.high:g}] {spec.unit or ''}"
        if spec.low is not None and number < spec.low:
            return None, f"below {plausible}".rstrip()
        if spec.high is not None and number > spec.high:
            return None, f"above {plausible}".rstrip()
        return number, None
    if spec.type == "boolean":
        if not isinstance(value, bool):
            return None, "expected true or false"
        return value, None
    if spec.type == "enum":
        if not isinstance(value, str) or value not in spec.values:
            return None, f"expected one of {', '.join(spec.values)}"
        return value, None
    if not isinstance(value, str):
        return None, "expected text"
    return value, None


_PLACEHOLDERS = {"as_of": "2000-01-01T00:00:00+00:00", "home_region": "KZ-75"}


def _salvage(
    raw: Mapping[str, Any], error: ValidationError
) -> tuple[PatientState | None, set[str]]:
    """The state without its malformed top-level fields, so the remaining checks still run
    and every problem is reported at once. Required fields that had to be dropped get a
    placeholder and are returned as unchecked."""
    broken = {detail["loc"][0] for detail in error.errors() if detail["loc"]}
    kept = {
        key: value
        for key, value in raw.items()
        if key not in broken and key in PatientState.model_fields
    }
    unchecked = set()
    for key, placeholder in _PLACEHOLDERS.items():
        if key not in kept:
            kept[key] = placeholder
            unchecked.add(key)
    try:
        return PatientState.model_validate(kept), unchecked
    except ValidationError:
        return None, unchecked


def shape_problems(error: ValidationError) -> list[str]:
    """A patient-state validation error as ``field: message`` lines, input values left out."""
    problems: list[str] = []
    for detail in error.errors(include_url=False, include_input=False):
        where = format_path(tuple(detail["loc"])) or "patient"
        if detail["type"] == "extra_forbidden":
            problems.append(f"{where}: unknown key")
        elif detail["type"] == "missing":
            problems.append(f"{where}: required")
        else:
            problems.append(f"{where}: {detail['msg']}")
    return problems
