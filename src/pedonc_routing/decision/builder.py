"""The decision from a walk's outcome: references, texts in the caller's language, JSON shape.

The walker (:mod:`pedonc_routing.engine.walker`) decides; this module only presents: titles
come from the protocols' and care catalogue's localized texts, the attached polyclinic's
name from :data:`~pedonc_routing.routing.network.ATTACHED_PRIMARY_CARE_NAME`.
"""

from __future__ import annotations

from functools import lru_cache

from pedonc_routing.classification import classify
from pedonc_routing.compiler.compiled import CompiledBundle
from pedonc_routing.decision.model import (
    Decision,
    Explanation,
    FacilityRef,
    FollowUpItem,
    Iccc3Ref,
    ProtocolRef,
    ReturnRef,
    SpecialistRef,
    StepRef,
    UndecidedFollowUp,
)
from pedonc_routing.engine.evaluator import GuardEvaluator
from pedonc_routing.engine.outcome import Outcome, Reason, Resume
from pedonc_routing.engine.walker import walk
from pedonc_routing.intake.patient import PatientFacts
from pedonc_routing.model.documents import FollowUp, Language
from pedonc_routing.routing.network import (
    ATTACHED_PRIMARY_CARE,
    ATTACHED_PRIMARY_CARE_NAME,
    FacilityChoice,
)


def decide(
    bundle: CompiledBundle,
    evaluator: GuardEvaluator,
    patient: PatientFacts,
    language: Language = "en",
) -> Decision:
    """Route one checked patient: walk its pathway, then build the decision."""
    morphology = patient.facts.get("icdo3_morphology")
    topography = patient.facts.get("icdo3_topography")
    iccc3 = (
        _iccc3(morphology, topography if isinstance(topography, str) else None)
        if isinstance(morphology, str)
        else None
    )
    outcome = walk(bundle, evaluator, patient)
    return build_decision(outcome, bundle, evaluator.name, language, iccc3=iccc3)


def build_decision(
    outcome: Outcome,
    bundle: CompiledBundle,
    engine: str,
    language: Language = "en",
    *,
    iccc3: Iccc3Ref | None = None,
) -> Decision:
    """The decision for ``outcome``, its texts in ``language`` (English where one lacks it)."""
    routed = outcome.status == "routed"
    # A step with a facility (routed, or needs_data with only follow-ups undecided) names
    # its specialist and urgency too.
    served = outcome.facility is not None
    step_ref = None
    specialist = None
    step = outcome.step
    if step is not None:
        model = step.model
        step_ref = _step_ref(
            step.id,
            model.kind,
            model.title.get(language),
            model.timing.due_within_hours if routed else None,
            outcome.due_at.isoformat() if outcome.due_at is not None else None,
            model.care.setting,
        )
        if served:
            specialist_title = model.care.specialist
            care = bundle.care
            if care is not None and model.care.specialist in care.specialists:
                specialist_title = care.specialists[model.care.specialist].get(language)
            specialist = _specialist_ref(model.care.specialist, specialist_title)
    protocol = outcome.protocol
    return Decision.model_construct(
        status=outcome.status,
        protocol=(
            _protocol_ref(
                protocol.model.id,
                protocol.model.version,
                protocol.model.id in bundle.approved_protocols,
            )
            if protocol is not None
            else None
        ),
        bundle_hash=bundle.content_hash,
        engine=engine,
        as_of=outcome.as_of.isoformat(),
        from_step=outcome.from_step,
        step=step_ref,
        facility=_facility_of(outcome.facility, outcome.home_region, language),
        specialist=specialist,
        urgency=step.model.urgency if step is not None and served else None,
        follow_ups=[_follow_up_item(follow_up, language) for follow_up in outcome.follow_ups],
        missing=sorted(outcome.missing),
        explanation=[_explanation(reason) for reason in outcome.reasons],
        return_to=_return_ref(outcome.return_to),
        iccc3=iccc3,
        undecided_follow_ups=[
            UndecidedFollowUp.model_construct(
                id=follow_up.id,
                title=follow_up.title.get(language),
                interval_months=follow_up.interval_months,
                needs=sorted(needs),
            )
            for follow_up, needs in outcome.undecided_follow_ups
        ],
    )


def _facility_of(
    choice: FacilityChoice | None, home_region: str, language: Language
) -> FacilityRef | None:
    if choice is None:
        return None
    facility = choice.facility
    if facility is not None:
        return _facility_ref(
            facility.id,
            facility.name.get(language),
            facility.region,
            facility.level,
            choice.travel_hours,
        )
    return _facility_ref(
        ATTACHED_PRIMARY_CARE,
        ATTACHED_PRIMARY_CARE_NAME.get(language),
        home_region,
        "primary",
        None,
    )


def _explanation(reason: Reason) -> Explanation:
    return Explanation.model_construct(
        rule=reason.rule,
        source=reason.source,
        because=reason.because,
        facts=reason.facts,
        citation=reason.citation,
    )


def _follow_up_item(follow_up: FollowUp, language: Language) -> FollowUpItem:
    return FollowUpItem.model_construct(
        id=follow_up.id,
        title=follow_up.title.get(language),
        due_within_hours=follow_up.due_within_hours,
        interval_months=follow_up.interval_months,
        for_years=follow_up.for_years,
    )


@lru_cache(maxsize=4096)
def _iccc3(morphology: str, topography: str | None) -> Iccc3Ref | None:
    found = classify(morphology, topography)
    if found is None:
        return None
    return Iccc3Ref.model_construct(
        main_group=found.main_group,
        main_group_name=found.main_group_name,
        subgroup=found.subgroup,
        subgroup_name=found.subgroup_name,
        division=found.division,
        division_name=found.division_name,
    )


# The parts of a decision that repeat across calls are built once: they are frozen models,
# so sharing them between decisions (and threads) is safe, and it keeps route() lean.


def _return_ref(resume: Resume | None) -> ReturnRef | None:
    return None if resume is None else _cached_return_ref(resume.protocol, resume.step)


@lru_cache(maxsize=1024)
def _cached_return_ref(protocol_id: str, step_id: str) -> ReturnRef:
    return ReturnRef.model_construct(protocol=protocol_id, step=step_id)


@lru_cache(maxsize=256)
def _protocol_ref(protocol_id: str, version: str, approved: bool) -> ProtocolRef:
    return ProtocolRef.model_construct(
        id=protocol_id, version=version, approval="approved" if approved else "draft"
    )


@lru_cache(maxsize=1024)
def _specialist_ref(specialist_id: str, title: str) -> SpecialistRef:
    return SpecialistRef.model_construct(id=specialist_id, title=title)


@lru_cache(maxsize=4096)
def _facility_ref(
    facility_id: str, name: str, region: str, level: str, travel_hours: float | None
) -> FacilityRef:
    return FacilityRef.model_construct(
        id=facility_id, name=name, region=region, level=level, travel_hours=travel_hours
    )


@lru_cache(maxsize=4096)
def _step_ref(
    step_id: str,
    kind: str,
    title: str,
    due_within_hours: float | None,
    due_at: str | None,
    setting: str,
) -> StepRef:
    return StepRef.model_construct(
        id=step_id,
        kind=kind,
        title=title,
        due_within_hours=due_within_hours,
        due_at=due_at,
        setting=setting,
    )
