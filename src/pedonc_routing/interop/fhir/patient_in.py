"""FHIR R4 (R4B models) Bundle -> :class:`PatientState`, converting units.

The Bundle is first parsed with the ``fhir.resources`` R4B models, so anything that is not
valid FHIR is refused before any mapping. Then each resource kind fills its part of the
state (docs/fhir.md has the full table):

- Patient: the child (the one Patient, the one named by the caller, or the one search
  ``match`` among several); birth date, sex, home region (``address.state``), current
  facility (``managingOrganization.identifier``);
- every other resource counts only when its ``subject`` is that Patient: the mother's
  temperature in the same Bundle is listed as ignored, never read;
- Condition: the diagnosis (ICD-10 in ``code``, ICD-O-3 morphology in ``code`` or in the
  mCODE histology-morphology-behavior extension, ICD-O-3 topography in ``bodySite``);
  problem-list and encounter-diagnosis Conditions that agree are one diagnosis;
- Observation: inputs by LOINC (several codes per quantity) or by the project code system,
  in ``value[x]`` or in a ``component`` (vital-signs panels); a final result beats a
  preliminary one, then the latest at or before ``as_of`` wins;
- MedicationAdministration / Procedure: cumulative drug doses (mg/m2) and radiation doses
  (Gy), summed per drug or body site on top of the latest cumulative Observation;
- CarePlan with the pathway-position extension: where the child is on a pathway.

Codes that are not mapped are ignored (a hospital Bundle holds many unrelated resources),
except a temperature under a code we do not map, which is refused rather than lost; a
mapped code with a unit that is not UCUM or not convertible is an error. Every problem is
collected and raised at once as :class:`PatientDataError`, located by
``entry[N] Resource.element`` and never quoting a value.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from pedonc_routing.errors import PatientDataError, PedoncRoutingError
from pedonc_routing.intake.patient import shape_problems
from pedonc_routing.interop.fhir import codes
from pedonc_routing.interop.fhir._json import (
    Entry,
    as_list,
    as_map,
    codings,
    effective_time,
    entries,
    parse_instant,
    text,
)
from pedonc_routing.interop.fhir.units import UnitError, convert, same_kind
from pedonc_routing.model.patient import PatientState
from pedonc_routing.vocabulary.codes import CodeFormatError, icd10_key, icd10_pattern

logger = logging.getLogger(__name__)

_LOINC = codes.by_code(codes.LOINC_OBSERVATIONS)
_DRUGS = codes.by_code(codes.DRUGS)
_SITES = codes.by_code(codes.RADIATION_SITES)
_FINAL_STATUSES = frozenset({"final", "amended", "corrected"})
_OBSERVATION_STATUSES = _FINAL_STATUSES | {"preliminary"}
_EXCLUDED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
_POSITION_STATUSES = frozenset({"active", "on-hold", "completed"})
_ICD10_SYSTEMS = frozenset({codes.ICD10, "http://hl7.org/fhir/sid/icd-10-cm"})
_AGE_UNITS = {"a": "age_years", "mo": "age_months"}
#: The resource kinds read for the child; each must have the child as its subject.
_CLINICAL_KINDS = frozenset(
    {"Observation", "Condition", "MedicationAdministration", "Procedure", "CarePlan"}
)
#: ISO 3166-2:KZ code form; whether it is a real subdivision is checked with the state.
_REGION_CODE = re.compile(r"^KZ-[0-9A-Z]{2,3}$")


@dataclass(frozen=True)
class FhirPatient:
    """The patient read from a Bundle, and what was left out.

    Attributes:
        patient: the state to route.
        ignored: one line per resource that was not used (another subject, unmapped code,
            status, entered in error, after ``as_of``), located by its Bundle position;
            never a value.
        reference: how to refer to the input Patient (``Patient/ID`` when it has a resource
            id, else its ``fullUrl``; None when it has neither): the subject of the decision
            resources written for it.
    """

    patient: PatientState
    ignored: tuple[str, ...] = ()
    reference: str | None = None


@dataclass
class _Timed:
    """A value with the time it was recorded, where it came from and whether it is final."""

    when: datetime
    value: Any
    where: str
    final: bool = True


@dataclass(frozen=True)
class _Child:
    """The child's Patient entry and every way a resource may refer to it."""

    entry: Entry
    references: frozenset[str]  # its fullUrl and Patient/ID
    identifiers: frozenset[tuple[str, str]]  # (system, value) of its identifiers

    @property
    def reference(self) -> str | None:
        resource_id = text(self.entry.resource.get("id"))
        if resource_id is not None:
            return f"Patient/{resource_id}"
        return next(iter(sorted(self.references)), None)

    def is_subject_of(self, resource: Mapping[str, Any]) -> bool:
        """True when the resource's ``subject`` is this Patient (by reference or identifier).

        An absolute reference counts only when it is this Patient's ``fullUrl``: the same id
        on another server is another person.
        """
        subject = as_map(resource.get("subject"))
        reference = text(subject.get("reference"))
        if reference is not None:
            return _without_history(reference) in self.references
        identifier = as_map(subject.get("identifier"))
        pair = (text(identifier.get("system")), text(identifier.get("value")))
        return pair in self.identifiers


def _without_history(reference: str) -> str:
    """``Patient/1/_history/2`` -> ``Patient/1``: a version of the same resource."""
    return reference.split("/_history/", 1)[0]


@dataclass
class _Reading:
    """State being collected from one Bundle."""

    as_of: datetime
    zone: tzinfo  # of as_of: partial dates are read in it
    problems: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    latest: dict[str, list[_Timed]] = field(default_factory=dict)  # input -> observations
    doses: dict[str, list[_Timed]] = field(default_factory=dict)  # input -> administrations


def patient_from_fhir(
    source: str | bytes | Mapping[str, Any],
    *,
    as_of: datetime | str | None = None,
    patient: str | None = None,
) -> PatientState:
    """A FHIR Bundle (JSON text or parsed) as a patient state.

    ``as_of`` defaults to ``Bundle.timestamp``. ``patient`` names the child's Patient (its
    resource id, ``Patient/ID`` or ``fullUrl``) when the Bundle holds several. Raises
    :class:`PatientDataError` listing every problem.
    """
    return read_fhir_patient(source, as_of=as_of, patient=patient).patient


def read_fhir_patient(
    source: str | bytes | Mapping[str, Any],
    *,
    as_of: datetime | str | None = None,
    patient: str | None = None,
) -> FhirPatient:
    """Like :func:`patient_from_fhir`, also listing the resources that were not used."""
    bundle = _parse(source)
    moment = _as_of(bundle, as_of)
    reading = _Reading(moment, _zone(moment))
    state: dict[str, Any] = {"as_of": moment.isoformat()}
    items = list(entries(bundle))
    child = _choose_child(bundle, items, patient, reading.problems)
    if child is None:
        raise PatientDataError(reading.problems)
    _read_patient(child.entry, state, reading.problems)
    conditions, care_plans = [], []
    for entry in items:
        if entry.kind not in _CLINICAL_KINDS:
            continue
        if not child.is_subject_of(entry.resource):
            reading.ignored.append(
                f"entry[{entry.index}] {entry.kind}: subject is not the child's Patient"
            )
        elif entry.kind == "Condition":
            conditions.append(entry)
        elif entry.kind == "CarePlan":
            care_plans.append(entry)
        elif entry.kind == "Observation":
            _read_observation(entry, reading)
        elif entry.kind == "MedicationAdministration":
            _read_administration(entry, reading)
        elif entry.kind == "Procedure":
            _read_procedure(entry, reading)
    _read_diagnosis(conditions, state, reading)
    _read_position(care_plans, state, reading)
    _collect_inputs(reading, state)
    if reading.problems:
        raise PatientDataError(reading.problems)
    try:
        state_read = PatientState.model_validate(state)
    except ValidationError as error:
        raise PatientDataError(shape_problems(error)) from None
    logger.debug("read FHIR bundle: %d resource(s) ignored", len(reading.ignored))
    return FhirPatient(state_read, tuple(reading.ignored), child.reference)


# -- the Bundle -----------------------------------------------------------------------------

#: One child's Bundle is kilobytes; a bound keeps a hostile or runaway export from costing
#: memory and time before it is refused.
MAX_BUNDLE_CHARS = 32 * 1024 * 1024


def _parse(source: str | bytes | Mapping[str, Any]) -> Mapping[str, Any]:
    """The Bundle as a dict, after ``fhir.resources`` R4B accepted it."""
    try:
        from fhir.resources.R4B.bundle import Bundle  # ~0.2 s to import: only when used
    except ImportError:  # pragma: no cover - the extra is installed in development
        raise PedoncRoutingError(
            "FHIR input needs the fhir extra: pip install 'pedonc-routing[fhir]'"
        ) from None

    if isinstance(source, str | bytes):
        if len(source) > MAX_BUNDLE_CHARS:
            raise PatientDataError([f"bundle: larger than {MAX_BUNDLE_CHARS:,} characters"])
        try:
            source = json.loads(source, parse_constant=_refuse_constant)
        except ValueError as error:
            raise PatientDataError([f"bundle: not valid JSON ({_position_of(error)})"]) from None
        except RecursionError:  # the stdlib parser recurses per nesting level
            raise PatientDataError(["bundle: JSON nested too deeply"]) from None
    if not isinstance(source, Mapping):
        raise PatientDataError([f"bundle: expected a JSON object, got {type(source).__name__}"])
    if source.get("resourceType") != "Bundle":
        raise PatientDataError(["bundle: resourceType must be Bundle"])
    try:
        Bundle.model_validate(source)
    except ValidationError as error:
        raise PatientDataError(_fhir_problems(source, error)) from None
    except (KeyError, TypeError):
        # fhir.resources looks a resource's model up by its resourceType: an unknown or
        # non-text resourceType (in an entry, contained or nested) escapes as KeyError or
        # TypeError, whose text quotes the value.
        raise PatientDataError([_unknown_resource_type(source)]) from None
    return source


def _unknown_resource_type(bundle: Mapping[str, Any]) -> str:
    """Where the first resourceType that is not an R4B resource is, without quoting it."""
    from fhir.resources.R4B import get_fhir_model_class

    for index, item in enumerate(as_list(bundle.get("entry"))):
        resource = as_map(as_map(item).get("resource"))
        if "resourceType" not in resource:
            continue
        kind = resource["resourceType"]
        try:
            known = isinstance(kind, str) and get_fhir_model_class(kind) is not None
        except ValueError:
            known = False
        if not known:
            return f"entry[{index}] resource.resourceType: not a FHIR R4 resource type"
    return (
        "bundle: a contained or nested resource has an unknown resourceType, or a key is not text"
    )


def _refuse_constant(name: str) -> None:
    """JSON has no NaN or Infinity; Python's parser accepts them unless told not to."""
    raise ValueError(f"{name} is not a JSON number")


def _position_of(error: ValueError) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"line {error.lineno} column {error.colno}"
    if isinstance(error, UnicodeDecodeError):
        return "not UTF-8"
    return str(error)  # our own message: no input text in it


def _fhir_problems(bundle: Mapping[str, Any], error: ValidationError) -> list[str]:
    """pydantic errors as ``entry[3] Observation.valueQuantity.value: message``."""
    problems = []
    for detail in error.errors(include_url=False):
        loc = list(detail["loc"])
        where = ".".join(str(part) for part in loc) or "bundle"
        if len(loc) >= 3 and loc[0] == "entry" and isinstance(loc[1], int) and loc[2] == "resource":
            resource = as_map(as_map(as_list(bundle.get("entry"))[loc[1]]).get("resource"))
            kind = str(resource.get("resourceType", "Resource"))
            rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[3:])
            where = f"entry[{loc[1]}] {kind}{rest}"
        message = str(detail["msg"])
        rejected = detail.get("input")
        if isinstance(rejected, str) and rejected and rejected in message:
            message = message.replace(rejected, "<value>")  # never echo a value
        problems.append(f"{where}: {message}")
    return problems


def _as_of(bundle: Mapping[str, Any], as_of: datetime | str | None) -> datetime:
    if isinstance(as_of, datetime):
        moment = as_of
        where = "as_of"
    else:
        where = "as_of" if as_of is not None else "Bundle.timestamp"
        raw = as_of if as_of is not None else text(bundle.get("timestamp"))
        if raw is None:
            raise PatientDataError(["Bundle.timestamp: required when as_of is not given"])
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError:
            raise PatientDataError([f"{where}: not a date-time"]) from None
    if moment.tzinfo is None:
        raise PatientDataError([f"{where}: needs a time zone"])
    return moment


def _zone(moment: datetime) -> tzinfo:
    zone = moment.tzinfo
    assert zone is not None  # _as_of refuses naive date-times
    return zone


# -- Patient --------------------------------------------------------------------------------


def _choose_child(
    bundle: Mapping[str, Any], items: list[Entry], named: str | None, problems: list[str]
) -> _Child | None:
    """The child's Patient: the only one, the one ``named``, or the only search match."""
    full_urls = {
        index: text(as_map(item).get("fullUrl"))
        for index, item in enumerate(as_list(bundle.get("entry")))
    }
    children = []
    for entry in items:
        if entry.kind != "Patient":
            continue
        references = {full_urls.get(entry.index)}
        resource_id = text(entry.resource.get("id"))
        if resource_id is not None:
            references.add(f"Patient/{resource_id}")
        identifiers = {
            (text(as_map(i).get("system")), text(as_map(i).get("value")))
            for i in as_list(entry.resource.get("identifier"))
        }
        children.append(
            _Child(
                entry,
                frozenset(r for r in references if r is not None),
                frozenset((s, v) for s, v in identifiers if s is not None and v is not None),
            )
        )
    if not children:
        problems.append("bundle: no Patient resource")
        return None
    if named is not None:
        wanted = {named, f"Patient/{named}"}
        chosen = [child for child in children if wanted & child.references]
        if len(chosen) != 1:
            problems.append("bundle: no single Patient has the id or fullUrl given as patient")
            return None
        return chosen[0]
    if len(children) > 1:
        matches = [
            child
            for child in children
            if as_map(as_map(as_list(bundle.get("entry"))[child.entry.index]).get("search")).get(
                "mode"
            )
            == "match"
        ]
        if len(matches) == 1:
            return matches[0]
        listed = ", ".join(f"entry[{child.entry.index}]" for child in children)
        problems.append(
            f"bundle: more than one Patient resource ({listed}); name the child's (patient=)"
        )
        return None
    return children[0]


def _read_patient(entry: Entry, state: dict[str, Any], problems: list[str]) -> None:
    patient = entry.resource
    state["patient_id"] = _patient_id(patient)
    birth = text(patient.get("birthDate"))
    if birth is not None:
        try:
            state["birth_date"] = date.fromisoformat(birth).isoformat()
        except ValueError:
            problems.append(
                f"{entry.at('birthDate')}: a full date (YYYY-MM-DD) is needed for an exact age"
            )
    gender = text(patient.get("gender"))
    if gender not in (None, "female", "male", "other", "unknown"):
        problems.append(f"{entry.at('gender')}: must be female, male, other or unknown")
    state["sex"] = codes.GENDER_TO_SEX.get(gender) if gender else None
    regions = {
        text(as_map(address).get("state"))
        for address in as_list(patient.get("address"))
        if as_map(address).get("use") in (None, "home")
    } - {None}
    if len(regions) == 1:
        region = regions.pop()
        if region is not None and not _REGION_CODE.match(region):
            # a name ("Almaty") would only fail later, without its place in the Bundle
            problems.append(
                f"{entry.at('address.state')}: must be the ISO 3166-2:KZ code of the home"
                " region (e.g. KZ-75), not its name"
            )
        state["home_region"] = region
    else:
        problems.append(
            f"{entry.at('address.state')}: "
            + (
                "required: the ISO 3166-2:KZ code of the home region (e.g. KZ-75)"
                if not regions
                else "several home addresses with different regions"
            )
        )
    organization = as_map(as_map(patient.get("managingOrganization")).get("identifier"))
    if organization.get("system") == codes.FACILITY_ID_SYSTEM:
        state["current_facility"] = text(organization.get("value"))


def _patient_id(patient: Mapping[str, Any]) -> str | None:
    for identifier in as_list(patient.get("identifier")):
        if as_map(identifier).get("system") == codes.PATIENT_ID_SYSTEM:
            return text(as_map(identifier).get("value"))
    return text(patient.get("id"))


# -- Condition ------------------------------------------------------------------------------


def _read_diagnosis(conditions: list[Entry], state: dict[str, Any], reading: _Reading) -> None:
    """The one diagnosis: among Conditions with ICD-10 or ICD-O-3 codes, the neoplasm.

    EHRs record the same diagnosis more than once (a problem-list item, an encounter
    diagnosis, an mCODE primary cancer condition), often with different parts coded: the
    parts are merged, and only parts that disagree are a conflict.
    """
    found: list[tuple[Entry, dict[str, str | None]]] = []
    for entry in conditions:
        verification = codings(entry.resource.get("verificationStatus"))
        if any(code == "entered-in-error" for _, code in verification):
            reading.ignored.append(f"entry[{entry.index}] Condition: entered in error")
            continue
        if any(code in _EXCLUDED_VERIFICATION for _, code in verification):
            reading.ignored.append(f"entry[{entry.index}] Condition: refuted")
            continue
        diagnosis = _diagnosis_of(entry, reading.problems)
        if any(diagnosis.values()):
            found.append((entry, diagnosis))
        else:
            reading.ignored.append(f"entry[{entry.index}] Condition: no ICD-10 or ICD-O-3 code")
    if len(found) > 1:
        found = [item for item in found if _is_neoplasm(item[1])] or found
    if not found:
        return
    merged: dict[str, str | None] = {}
    for key in found[0][1]:
        values = {diagnosis[key] for _, diagnosis in found if diagnosis[key]}
        if len(values) > 1:
            listed = ", ".join(f"entry[{entry.index}]" for entry, _ in found)
            reading.problems.append(
                f"Condition: several different diagnoses ({listed}); send the one to route"
            )
            return
        merged[key] = values.pop() if values else None
    state["diagnosis"] = merged


def _diagnosis_of(entry: Entry, problems: list[str]) -> dict[str, str | None]:
    resource = entry.resource
    code = resource.get("code")
    icd10 = {c for s, c in codings(code) if s in _ICD10_SYSTEMS}
    icdo3 = [c for s, c in codings(code) if s == codes.ICDO3]
    morphology = {c for c in icdo3 if "/" in c}
    topography = {c for c in icdo3 if "/" not in c}  # mCODE allows a topography in code
    morphology_path = "code.coding"
    for index, extension in enumerate(as_list(resource.get("extension"))):
        if as_map(extension).get("url") != codes.MCODE_MORPHOLOGY_EXTENSION:
            continue
        path = f"extension[{index}].valueCodeableConcept"
        concept = as_map(extension).get("valueCodeableConcept")
        found = {c for s, c in codings(concept) if s == codes.ICDO3 and "/" in c}
        if not found:
            # a SNOMED CT morphology cannot be mapped to ICD-O-3 here; guards (e.g. the
            # glioma entry) need the ICD-O-3 code, so it is refused rather than dropped
            problems.append(
                f"{entry.at(path)}: histology-morphology-behavior needs an ICD-O-3"
                f" morphology coding ({codes.ICDO3})"
            )
        morphology |= found
        morphology_path = path
    topography |= {
        c
        for site in as_list(resource.get("bodySite"))
        for s, c in codings(site)
        if s == codes.ICDO3
    }
    chosen: dict[str, str | None] = {}
    for key, values, path in (
        ("icd10", icd10, "code.coding"),
        ("icdo3_morphology", morphology, morphology_path),
        ("icdo3_topography", topography, "bodySite.coding"),
    ):
        if len(values) > 1:
            problems.append(f"{entry.at(path)}: more than one {key} code")
        chosen[key] = next(iter(values)) if len(values) == 1 else None
    return chosen


#: ICD-10 chapter II, Neoplasms.
_NEOPLASMS = icd10_pattern("C00-D48")


def _is_neoplasm(diagnosis: dict[str, str | None]) -> bool:
    if diagnosis.get("icdo3_morphology"):
        return True
    try:
        key = icd10_key(diagnosis.get("icd10") or "")
    except CodeFormatError:
        return False  # a malformed code is reported when the state is checked
    return _NEOPLASMS[0] <= key <= _NEOPLASMS[1]


def _input_of(entry: Entry, concept: Any, path: str, reading: _Reading) -> str | None:
    """The input an Observation code stands for (None: not mapped, or a problem)."""
    names = set()
    for system, code in codings(concept):
        if (system, code) in _LOINC:
            names.add(_LOINC[(system, code)].input)
        elif system == codes.INPUT_SYSTEM:
            names.add(code)
        elif (system, code) == (codes.AGE_CODE.system, codes.AGE_CODE.code):
            names.add(codes.AGE_CODE.input)
    if len(names) > 1:
        reading.problems.append(f"{entry.at(path)}: codes for different inputs")
        return None
    return names.pop() if names else None


def _when(entry: Entry, prefix: str, reading: _Reading) -> datetime | None:
    """When the resource happened; None (and a note) when missing, unreadable or later."""
    raw, element = effective_time(entry.resource, prefix)
    if raw is None or element is None:
        reading.problems.append(f"{entry.at(prefix + '[x]')}: required for a mapped code")
        return None
    try:
        moment = parse_instant(raw, reading.zone)
    except ValueError:
        reading.problems.append(f"{entry.at(element)}: not a FHIR date-time")
        return None
    if moment > reading.as_of:
        reading.ignored.append(f"entry[{entry.index}] {entry.kind}: after as_of")
        return None
    return moment


def _read_observation(entry: Entry, reading: _Reading) -> None:
    """The Observation's own value and each ``component`` (a vital-signs panel holds its
    values there, under a panel code we need not know)."""
    resource = entry.resource
    parts: list[tuple[str, str, Mapping[str, Any]]] = []  # (input, element prefix, holder)
    name = _input_of(entry, resource.get("code"), "code.coding", reading)
    if name is not None:
        parts.append((name, "", resource))
    for index, component in enumerate(as_list(resource.get("component"))):
        prefix = f"component[{index}]."
        part = _input_of(entry, as_map(component).get("code"), prefix + "code.coding", reading)
        if part is not None:
            parts.append((part, prefix, as_map(component)))
    if not parts:
        _refuse_unmapped_temperature(entry, reading)
        return
    status = resource.get("status")
    if status == "entered-in-error":
        reading.ignored.append(f"entry[{entry.index}] Observation: entered in error")
        return
    if status not in _OBSERVATION_STATUSES:
        reading.ignored.append(f"entry[{entry.index}] Observation: status not usable")
        return
    when = _when(entry, "effective", reading)
    if when is None:
        return
    where = f"entry[{entry.index}]"
    for name, prefix, holder in parts:
        if name == codes.AGE_CODE.input:
            _read_age(entry, when, reading)
            continue
        value = _observation_value(entry, prefix, holder, name, reading.problems)
        if value is None:
            reading.ignored.append(f"{where} Observation.{prefix}value[x]: no value")
            continue
        timed = _Timed(when, value, where, final=status in _FINAL_STATUSES)
        reading.latest.setdefault(name, []).append(timed)


def _refuse_unmapped_temperature(entry: Entry, reading: _Reading) -> None:
    """An unmapped code is ignored, unless its value is a temperature: a fever under a
    site-specific code we do not list (axillary, tympanic, ...) must not vanish."""
    holders = [("", entry.resource)] + [
        (f"component[{i}].", as_map(c))
        for i, c in enumerate(as_list(entry.resource.get("component")))
    ]
    for prefix, holder in holders:
        quantity = as_map(holder.get("valueQuantity"))
        unit = text(quantity.get("code"))
        if (
            unit is not None
            and quantity.get("system") in (None, codes.UCUM)
            and same_kind(unit, codes.INPUT_UNITS["temperature_c"])
        ):
            reading.problems.append(
                f"{entry.at(prefix + 'code.coding')}: a temperature under a code we do not"
                " map; add LOINC 8310-5 (Body temperature)"
            )
            return
    reading.ignored.append(f"entry[{entry.index}] Observation: code not mapped")


def _observation_value(
    entry: Entry, prefix: str, holder: Mapping[str, Any], name: str, problems: list[str]
) -> Any:
    """The value[x] of ``holder`` (the Observation or one component) for ``name``."""
    canonical = codes.INPUT_UNITS.get(name)
    if "valueQuantity" in holder:
        quantity = as_map(holder["valueQuantity"])
        return _quantity(quantity, entry.at(prefix + "valueQuantity"), name, canonical, problems)
    if canonical is not None and any(key.startswith("value") for key in holder):
        problems.append(
            f"{entry.at(prefix + 'value[x]')}: {name} needs a valueQuantity in {canonical}"
        )
        return None
    for key in ("valueBoolean", "valueInteger", "valueString"):
        if key in holder:
            return holder[key]
    if "valueCodeableConcept" in holder:
        concept = as_map(holder["valueCodeableConcept"])
        values = [c for s, c in codings(concept) if s == codes.INPUT_VALUE_SYSTEM]
        if len(values) == 1:
            return values[0]
        if not values and text(concept.get("text")):
            return concept["text"]
        problems.append(
            f"{entry.at(prefix + 'valueCodeableConcept')}: needs one coding of"
            f" {codes.INPUT_VALUE_SYSTEM}"
        )
    return None


def _quantity(
    quantity: Mapping[str, Any], where: str, name: str, canonical: str | None, problems: list[str]
) -> int | float | None:
    """A Quantity at ``where`` converted to ``canonical`` (the input's unit); None after a
    problem. Whole results of whole values stay integers."""
    raw = quantity.get("value")
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        problems.append(f"{where}.value: required")
        return None
    if quantity.get("comparator") is not None:
        # "< 0.5" is not 0.5: read as the value, it would make a guard like anc < 0.5 false
        problems.append(f"{where}.comparator: {name} needs an exact value, not a bound")
        return None
    system = quantity.get("system")
    unit = text(quantity.get("code")) or text(quantity.get("unit"))
    if canonical is None:
        if unit not in (None, "1") or system not in (None, codes.UCUM):
            problems.append(f"{where}: {name} takes no unit")
            return None
        return raw
    if system not in (None, codes.UCUM) or unit is None:
        problems.append(f"{where}.code: a UCUM unit code is needed for {name}")
        return None
    if unit == canonical:
        return raw
    try:
        converted = convert(Decimal(str(raw)), unit, canonical)
    except UnitError as error:
        problems.append(f"{where}.code: {error.reason} (for {name}, in {canonical})")
        return None
    whole = converted == converted.to_integral_value() and isinstance(raw, int)
    return int(converted) if whole else float(converted)


def _read_age(entry: Entry, when: datetime, reading: _Reading) -> None:
    quantity = as_map(entry.resource.get("valueQuantity"))
    unit = text(quantity.get("code")) or text(quantity.get("unit"))
    value = quantity.get("value")
    exact = quantity.get("comparator") is None
    if (
        not exact
        or unit not in _AGE_UNITS
        or not isinstance(value, int | float)
        or value != int(value)
    ):
        reading.problems.append(
            f"{entry.at('valueQuantity')}: age needs an exact whole number in a (years) or mo"
            " (months)"
        )
        return
    name = _AGE_UNITS[unit]
    reading.latest.setdefault(name, []).append(_Timed(when, int(value), f"entry[{entry.index}]"))


# -- exposures: MedicationAdministration, Procedure -----------------------------------------


def _read_administration(entry: Entry, reading: _Reading) -> None:
    resource = entry.resource
    concept = resource.get("medicationCodeableConcept")
    drugs = {_DRUGS[pair].input for pair in codings(concept) if pair in _DRUGS}
    if len(drugs) != 1:
        if drugs:
            reading.problems.append(
                f"{entry.at('medicationCodeableConcept.coding')}: codes for different drugs"
            )
        else:
            reading.ignored.append(f"entry[{entry.index}] MedicationAdministration: not mapped")
        return
    name = drugs.pop()
    if resource.get("status") != "completed":
        reading.ignored.append(
            f"entry[{entry.index}] MedicationAdministration: {_not_completed(resource)}"
        )
        return
    when = _when(entry, "effective", reading)
    if when is None:
        return
    quantity = as_map(as_map(resource.get("dosage")).get("dose"))
    if not quantity:
        reading.problems.append(f"{entry.at('dosage.dose')}: required for {name}")
        return
    where = entry.at("dosage.dose")
    dose = _quantity(quantity, where, name, codes.INPUT_UNITS[name], reading.problems)
    if dose is not None:
        reading.doses.setdefault(name, []).append(_Timed(when, dose, f"entry[{entry.index}]"))


def _read_procedure(entry: Entry, reading: _Reading) -> None:
    resource = entry.resource
    doses = [
        as_map(extension)
        for extension in as_list(resource.get("extension"))
        if as_map(extension).get("url") == codes.DOSE_EXTENSION
    ]
    sites = {
        _SITES[pair].input
        for site in as_list(resource.get("bodySite"))
        for pair in codings(site)
        if pair in _SITES
    }
    if not doses or not sites:
        reading.ignored.append(f"entry[{entry.index}] Procedure: no mapped radiation dose")
        return
    if resource.get("status") != "completed":
        reading.ignored.append(f"entry[{entry.index}] Procedure: {_not_completed(resource)}")
        return
    when = _when(entry, "performed", reading)
    if when is None:
        return
    if len(doses) > 1:
        reading.problems.append(f"{entry.at('extension')}: more than one dose extension")
        return
    if "valueQuantity" not in doses[0]:
        reading.problems.append(f"{entry.at('extension.valueQuantity')}: required")
        return
    quantity = as_map(doses[0]["valueQuantity"])
    where = entry.at("extension.valueQuantity")
    for name in sorted(sites):
        dose = _quantity(quantity, where, name, codes.INPUT_UNITS[name], reading.problems)
        if dose is not None:
            reading.doses.setdefault(name, []).append(_Timed(when, dose, f"entry[{entry.index}]"))


def _not_completed(resource: Mapping[str, Any]) -> str:
    if resource.get("status") == "entered-in-error":
        return "entered in error"
    return "not completed"


# -- CarePlan: position ---------------------------------------------------------------------


def _read_position(care_plans: list[Entry], state: dict[str, Any], reading: _Reading) -> None:
    """The latest CarePlan (by ``created``) carrying the pathway-position extension."""
    candidates: list[tuple[datetime | None, Entry, dict[str, Any]]] = []
    for entry in care_plans:
        extension = next(
            (
                as_map(e)
                for e in as_list(entry.resource.get("extension"))
                if as_map(e).get("url") == codes.POSITION_EXTENSION
            ),
            None,
        )
        if extension is None or entry.resource.get("status") not in _POSITION_STATUSES:
            reading.ignored.append(f"entry[{entry.index}] CarePlan: no usable pathway position")
            continue
        created = text(entry.resource.get("created"))
        moment = None
        if created is not None:
            try:
                moment = parse_instant(created, reading.zone)
            except ValueError:
                reading.problems.append(f"{entry.at('created')}: not a FHIR date-time")
                continue
            if moment > reading.as_of:
                reading.ignored.append(f"entry[{entry.index}] CarePlan: after as_of")
                continue
        position = _position_of_extension(entry, extension, reading.problems)
        if position is not None:
            candidates.append((moment, entry, position))
    if not candidates:
        return
    oldest = datetime.min.replace(tzinfo=reading.zone)
    candidates.sort(key=lambda item: item[0] or oldest)
    latest = candidates[-1]
    ties = [c for c in candidates if c[0] == latest[0] and c[2] != latest[2]]
    if ties:
        listed = ", ".join(f"entry[{c[1].index}]" for c in [*ties, latest])
        reading.problems.append(
            f"CarePlan: different pathway positions at the same time ({listed})"
        )
        return
    state["position"] = latest[2]


def _position_of_extension(
    entry: Entry, extension: Mapping[str, Any], problems: list[str]
) -> dict[str, Any] | None:
    parts: dict[str, Any] = {}
    for item in as_list(extension.get("extension")):
        item = as_map(item)
        value = next((v for k, v in item.items() if k.startswith("value")), None)
        if isinstance(item.get("url"), str):
            parts[item["url"]] = value
    protocol, step = text(parts.get("protocol")), text(parts.get("step"))
    if protocol is None or step is None:
        problems.append(f"{entry.at('extension')}: pathway-position needs protocol and step")
        return None
    position: dict[str, Any] = {"protocol": protocol, "step": step}
    if text(parts.get("enteredAt")):
        position["entered_at"] = parts["enteredAt"]
    back_protocol, back_step = text(parts.get("returnToProtocol")), text(parts.get("returnToStep"))
    if back_protocol and back_step:
        position["return_to"] = {"protocol": back_protocol, "step": back_step}
    return position


# -- putting the inputs together ------------------------------------------------------------


def _collect_inputs(reading: _Reading, state: dict[str, Any]) -> None:
    """Latest observation per input; exposures = latest cumulative value + later doses."""
    observations: dict[str, Any] = {}
    exposures: dict[str, Any] = {}
    for name, timed in reading.latest.items():
        latest = _latest(name, timed, reading)
        if latest is None:
            continue
        if name in ("age_years", "age_months"):
            state[name] = latest.value
        elif name in codes.EXPOSURE_INPUTS:
            exposures[name] = latest
        else:
            observations[name] = latest.value
    totals: dict[str, Any] = {}
    for name in sorted(set(exposures) | set(reading.doses)):
        baseline: _Timed | None = exposures.get(name)
        later = [
            dose.value
            for dose in reading.doses.get(name, [])
            if baseline is None or dose.when > baseline.when
        ]
        values = ([baseline.value] if baseline else []) + later
        total = sum(Decimal(str(value)) for value in values)
        whole = all(isinstance(value, int) for value in values)
        totals[name] = int(total) if whole else float(total)
    if observations:
        state["observations"] = observations
    if totals:
        state["exposures"] = totals


def _latest(name: str, timed: list[_Timed], reading: _Reading) -> _Timed | None:
    """The value to use: the latest final result; a preliminary one only when there is no
    final result (a final result beats a later preliminary one: docs/fhir.md)."""
    finals = [item for item in timed if item.final]
    if finals:
        for item in timed:
            if not item.final:
                reading.ignored.append(
                    f"{item.where} Observation: preliminary {name}, a final result exists"
                )
        timed = finals
    newest = max(item.when for item in timed)
    at_newest = [item for item in timed if item.when == newest]
    if len({item.value for item in at_newest}) > 1:  # scalars; 37 == 37.0 is one value
        listed = ", ".join(item.where for item in at_newest)
        reading.problems.append(
            f"Observation: different values of {name} at the same time ({listed})"
        )
        return None
    return at_newest[0]
