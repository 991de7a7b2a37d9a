"""The patient state (DESIGN.md section 4): the shape only.

Values are checked against the bundle's vocabulary by
:func:`pedonc_routing.intake.patient.read_patient`, which turns the state into the
facts the guards read.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
)


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Diagnosis(_Frozen):
    icd10: StrictStr | None = None
    icdo3_morphology: StrictStr | None = None
    icdo3_topography: StrictStr | None = None


class ReturnPoint(_Frozen):
    """The step an override interrupted, to resume afterwards."""

    protocol: StrictStr
    step: StrictStr


class Position(_Frozen):
    """Where the child is on a pathway: absent means not yet on one.

    ``return_to`` is set while an override (e.g. febrile neutropenia) has interrupted
    another pathway: a transition ``to: return`` resumes it. Decisions that fire an
    override carry it in ``return_to``.
    """

    protocol: StrictStr
    step: StrictStr
    entered_at: AwareDatetime | None = None
    return_to: ReturnPoint | None = None


class PatientState(_Frozen):
    """A child's state at ``as_of``. ``patient_id`` is opaque and never logged."""

    patient_id: StrictStr | None = Field(default=None, max_length=128)
    as_of: AwareDatetime
    birth_date: date | None = None
    age_years: StrictInt | None = None
    age_months: StrictInt | None = None
    sex: StrictStr | None = None
    home_region: StrictStr
    current_facility: StrictStr | None = None
    diagnosis: Diagnosis = Field(default_factory=Diagnosis)
    position: Position | None = None
    # Values are typed by the vocabulary, not here: FactSchema checks each against its input
    # (so one problem is one message, and null means "not known").
    observations: dict[StrictStr, Any] = Field(default_factory=dict)
    exposures: dict[StrictStr, Any] = Field(default_factory=dict)
