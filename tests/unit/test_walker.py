"""The walker (engine/walker.py) on tiny purpose-built protocols, with both engines:
priority then file order among true transitions, needs_data when an outranking transition is
unknown, passthrough walking, ``otherwise``, no_route, cross-protocol targets, overrides
(true only, never inside their own protocol, ``during``, priority), completed, not
applicable, and the facility choice rules on a small custom facility network; the walk's
typed outcome and the decision built from it (decision/builder.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

import pedonc_routing as pr
from conftest import TEXT, write_bundle
from pedonc_routing.decision.builder import build_decision
from pedonc_routing.engine.outcome import Outcome, Resume
from pedonc_routing.engine.walker import walk
from pedonc_routing.intake.patient import read_patient
from pedonc_routing.model.documents import Language
from pedonc_routing.routing.network import ATTACHED_PRIMARY_CARE_NAME, FacilityChoice

REGIONAL_INPATIENT = (
    "{specialist: pediatric_oncohematologist, min_level: regional, setting: inpatient}"
)
ENGINES = ["durable", "reference"]


def transition(
    tid: str, to: str, when: str, *, priority: int | None = None, because: str | None = None
) -> str:
    prio = f", priority: {priority}" if priority is not None else ""
    return f'{{id: {tid}, to: "{to}"{prio}, when: {when}, because: "{because or tid}"}}'


def step(
    name: str,
    *,
    kind: str = "treatment_phase",
    urgency: str = "routine",
    care: str = REGIONAL_INPATIENT,
    passthrough: bool = False,
    next_: Sequence[str] = (),
    otherwise: str | None = None,
    due_hours: int | None = None,
) -> str:
    lines = [
        f"{name}:",
        f"  kind: {kind}",
        f"  title: {TEXT}",
        f"  family_info: {TEXT}",
        f"  care: {care}",
        f"  urgency: {urgency}",
    ]
    if passthrough:
        lines.append("  passthrough: true")
    if due_hours is not None:
        lines.append(f"  timing: {{due_within_hours: {due_hours}}}")
    if next_:
        lines.append("  next:")
        lines.extend(f"    - {item}" for item in next_)
    if otherwise is not None:
        lines.append(f'  otherwise: {{to: "{otherwise}", because: "otherwise to {otherwise}"}}')
    return "\n".join(lines)


def protocol(
    pid: str,
    steps: Sequence[str],
    *,
    entry: str,
    inputs: Sequence[str] = (),
    applies_to: str | None = None,
    overrides: Sequence[str] = (),
) -> str:
    lines = [
        "kind: protocol",
        f"id: {pid}",
        'version: "0.1"',
        "status: draft",
        f"title: {TEXT}",
        "sources:",
        '  - {id: src, citation: "Test citation for a tiny protocol, 2026."}',
        f"inputs: [{', '.join(inputs)}]",
        f"entry: {entry}",
    ]
    if applies_to is not None:
        lines.append(f"applies_to: {applies_to}")
    lines.append("steps:")
    for block in steps:
        lines.extend("  " + line for line in block.splitlines())
    if overrides:
        lines.append("overrides:")
        lines.extend(f"  - {item}" for item in overrides)
    return "\n".join(lines) + "\n"


ALWAYS = "{input: wbc_10e9_l, gte: 0}"  # true whenever the WBC is known
NEVER = "{input: wbc_10e9_l, gte: 1000}"  # false whenever the WBC is known (range 0-2000)
FEVER = "{input: fever_sustained_1h, eq: true}"
FEVER_NEUTROPENIA = "{all: [{input: fever_sustained_1h, eq: true}, {input: anc_10e9_l, lt: 0.5}]}"

TINY = protocol(
    "tiny",
    [
        step("entry_point", kind="referral", passthrough=True, otherwise="start"),
        step("start", kind="diagnostic", urgency="urgent", otherwise="a_step"),
        step(
            "by_priority",
            next_=[
                transition("low_first", "a_step", ALWAYS),
                transition("high_second", "b_step", ALWAYS, priority=5),
            ],
        ),
        step(
            "by_order",
            next_=[
                transition("first", "a_step", ALWAYS),
                transition("second", "b_step", ALWAYS),
            ],
        ),
        step(
            "unknown_first",
            next_=[
                transition("lineage_t", "a_step", "{input: immunophenotype, eq: T}", priority=5),
                transition("count_known", "b_step", ALWAYS),
            ],
            otherwise="c_step",
        ),
        step(
            "unknown_later",
            next_=[
                transition("count_first", "a_step", ALWAYS, priority=5),
                transition("lineage_later", "b_step", "{input: immunophenotype, eq: T}"),
            ],
        ),
        step("walk", otherwise="hop_one"),
        step("hop_one", kind="staging", passthrough=True, otherwise="hop_two"),
        step(
            "hop_two",
            kind="staging",
            passthrough=True,
            next_=[transition("hop_to_a", "a_step", ALWAYS)],
        ),
        step(
            "with_otherwise",
            next_=[transition("never_taken", "a_step", NEVER)],
            otherwise="c_step",
        ),
        step("dead_end", next_=[transition("only_way", "a_step", NEVER)]),
        step("cross", next_=[transition("to_other", "other:landing", ALWAYS)]),
        step("a_step", urgency="urgent", otherwise="a_step", due_hours=72),
        step("b_step", otherwise="b_step"),
        step("c_step", otherwise="end"),
        step("end", kind="terminal"),
    ],
    entry="entry_point",
    inputs=["wbc_10e9_l", "immunophenotype"],
    # deliberately not the shipped ALL applies_to (C91.0 and age < 18): see
    # test_engine_reload.py for what an identical guard table does to the durable engine
    applies_to='{all: [{input: icd10, icd10_in: ["C91.0-C91.1"]}, {input: age_years, lt: 18}]}',
)

OTHER = protocol(
    "other",
    [step("landing", kind="terminal")],
    entry="landing",
)

FEBRILE = protocol(
    "febrile",
    [
        step("assess", kind="emergency", urgency="emergency", otherwise="monitor"),
        step("monitor", kind="follow_up", otherwise="monitor"),
        step("recovered", kind="terminal"),
    ],
    entry="assess",
    inputs=["fever_sustained_1h", "anc_10e9_l"],
    overrides=[
        "{id: fever_neutropenia, to: assess, priority: 100, when: "
        + FEVER_NEUTROPENIA
        + ', because: "fever with neutropenia"}',
        "{id: fever_only, to: recovered, priority: 1, when: " + FEVER + ', because: "fever alone"}',
        "{id: only_on_other, to: monitor, priority: 500, during: [other], when: "
        + FEVER
        + ', because: "fever on the other pathway"}',
    ],
)


@pytest.fixture(scope="module", params=ENGINES)
def walker_bundle(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> pr.Bundle:
    root = write_bundle(
        tmp_path_factory.mktemp("walker") / "bundle",
        {"tiny.yaml": TINY, "other.yaml": OTHER, "febrile.yaml": FEBRILE},
    )
    bundle = pr.load_bundle(root, engine=request.param)
    assert bundle.engine == request.param
    return bundle


def child(
    step_id: str | None,
    protocol_id: str = "tiny",
    *,
    icd10: str = "C91.0",
    birth_date: str | None = "2016-05-02",
    home_region: str = "KZ-11",
    current_facility: str | None = None,
    **observations: Any,
) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "patient_id": "anon-walker",
        "as_of": "2026-11-22T09:00:00+05:00",
        "home_region": home_region,
        "current_facility": current_facility,
        "diagnosis": {"icd10": icd10},
        "observations": observations,
    }
    if birth_date is not None:
        patient["birth_date"] = birth_date
    if step_id is not None:
        patient["position"] = {"protocol": protocol_id, "step": step_id}
    return patient


def rules(decision: pr.Decision) -> list[str]:
    return [item.rule for item in decision.explanation]


def is_otherwise(rule: str, protocol_id: str, step_id: str) -> bool:
    """An explanation rule for the ``otherwise`` of a step."""
    return rule.startswith(f"{protocol_id}.{step_id}.") and rule.endswith("otherwise")


def assert_routed(decision: pr.Decision, protocol_id: str, step_id: str) -> None:
    assert decision.status == "routed", decision.summary()
    assert decision.protocol is not None
    assert decision.protocol.id == protocol_id
    assert decision.step is not None
    assert decision.step.id == step_id
    assert decision.facility is not None
    assert decision.missing == []


def test_bundle_has_only_warnings(walker_bundle: pr.Bundle) -> None:
    # scenario steps are entered by position, so some are unreachable from the entry (G001);
    # 'by_order' overlaps on purpose (G004) and 'dead_end' has a gap on purpose (G006)
    assert walker_bundle.report.ok
    # and the scenarios of priority and file order shadow their later transitions on purpose
    # for complete patients (G009)
    codes = {issue.code for issue in walker_bundle.report.issues}
    # ... and its scenario steps loop on themselves with no way out (G010)
    assert codes == {"G001", "G004", "G006", "G009", "G010"}
    guard_issues = {
        (issue.code, issue.message.split("step ")[1].split()[0])
        for issue in walker_bundle.report.issues
        if issue.code in ("G004", "G006")
    }
    assert guard_issues == {("G004", "'by_order'"), ("G006", "'dead_end'")}
    never_chosen = {
        issue.message.split("'")[1] for issue in walker_bundle.report.issues if issue.code == "G009"
    }
    assert never_chosen == {"low_first", "second", "lineage_later"}


def test_priority_beats_file_order(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("by_priority", wbc_10e9_l=10.0))
    assert_routed(decision, "tiny", "b_step")
    assert rules(decision)[0] == "tiny.by_priority.high_second"


def test_file_order_decides_at_equal_priority(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("by_order", wbc_10e9_l=10.0))
    assert_routed(decision, "tiny", "a_step")
    assert rules(decision)[0] == "tiny.by_order.first"


def test_unknown_outranking_transition_needs_data(walker_bundle: pr.Bundle) -> None:
    # the lower transition is true and there is an otherwise, but the outranking one is
    # unknown: the walker must not guess
    decision = walker_bundle.route(child("unknown_first", wbc_10e9_l=10.0))
    assert decision.status == "needs_data"
    assert decision.missing == ["immunophenotype"]
    assert decision.step is not None
    assert decision.step.id == "unknown_first"
    assert decision.facility is None
    assert decision.urgency is None


@pytest.mark.parametrize(("lineage", "target"), [("T", "a_step"), ("B", "b_step")])
def test_known_outranking_transition_decides(
    walker_bundle: pr.Bundle, lineage: str, target: str
) -> None:
    decision = walker_bundle.route(child("unknown_first", wbc_10e9_l=10.0, immunophenotype=lineage))
    assert_routed(decision, "tiny", target)


def test_all_unknown_needs_every_missing_input(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("unknown_first"))
    assert decision.status == "needs_data"
    assert decision.missing == ["immunophenotype", "wbc_10e9_l"]


def test_unknown_lower_transition_does_not_matter(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("unknown_later", wbc_10e9_l=10.0))
    assert_routed(decision, "tiny", "a_step")


def test_passthrough_steps_are_walked_through(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("walk", wbc_10e9_l=10.0))
    assert_routed(decision, "tiny", "a_step")
    assert decision.from_step == "walk"
    walked = rules(decision)
    assert len(walked) == 4  # one entry per hop, then the facility
    assert is_otherwise(walked[0], "tiny", "walk")
    assert is_otherwise(walked[1], "tiny", "hop_one")
    assert walked[2] == "tiny.hop_two.hop_to_a"
    assert walked[3].startswith("facility.")


def test_passthrough_waits_where_data_is_missing(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("walk"))
    assert decision.status == "needs_data"
    assert decision.step is not None
    assert decision.step.id == "hop_two"
    assert decision.missing == ["wbc_10e9_l"]


def test_new_child_starts_at_entry_and_walks_through(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child(None))
    assert_routed(decision, "tiny", "start")
    assert decision.from_step is None
    assert rules(decision)[0] == "tiny.applies_to"
    assert is_otherwise(rules(decision)[1], "tiny", "entry_point")
    assert decision.urgency == "urgent"


def test_otherwise_when_nothing_holds(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("with_otherwise", wbc_10e9_l=10.0))
    assert_routed(decision, "tiny", "c_step")
    assert is_otherwise(rules(decision)[0], "tiny", "with_otherwise")


def test_otherwise_is_not_taken_when_guard_unknown(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("with_otherwise"))
    assert decision.status == "needs_data"
    assert decision.missing == ["wbc_10e9_l"]


def test_no_route_without_otherwise(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("dead_end", wbc_10e9_l=10.0))
    assert decision.status == "no_route"
    assert decision.step is not None
    assert decision.step.id == "dead_end"
    assert decision.facility is None
    assert decision.urgency is None


def test_cross_protocol_target(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("cross", wbc_10e9_l=10.0))
    assert_routed(decision, "other", "landing")
    assert decision.from_step == "cross"
    assert rules(decision)[0] == "tiny.cross.to_other"


def test_override_fires_when_true(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(
        child("a_step", fever_sustained_1h=True, anc_10e9_l=0.3, wbc_10e9_l=1.0)
    )
    assert_routed(decision, "febrile", "assess")
    assert decision.urgency == "emergency"
    assert decision.from_step == "a_step"
    assert rules(decision)[0] == "febrile.overrides.fever_neutropenia"
    assert decision.explanation[0].facts == {"anc_10e9_l": 0.3, "fever_sustained_1h": True}


def test_higher_priority_override_wins(walker_bundle: pr.Bundle) -> None:
    # both fever overrides hold; the priority-100 one beats the priority-1 one
    decision = walker_bundle.route(child("a_step", fever_sustained_1h=True, anc_10e9_l=0.3))
    assert rules(decision)[0] == "febrile.overrides.fever_neutropenia"
    # with a normal count only the low-priority override holds
    decision = walker_bundle.route(child("a_step", fever_sustained_1h=True, anc_10e9_l=2.0))
    assert decision.status == "routed"
    assert rules(decision)[0] == "febrile.overrides.fever_only"


def test_unknown_override_never_fires(walker_bundle: pr.Bundle) -> None:
    # fever unknown: both overrides are unknown, so the child's own pathway decides
    decision = walker_bundle.route(child("a_step", anc_10e9_l=0.1))
    assert_routed(decision, "tiny", "a_step")
    assert not any("overrides" in rule for rule in rules(decision))


def test_false_override_never_fires(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("a_step", fever_sustained_1h=False, anc_10e9_l=0.1))
    assert_routed(decision, "tiny", "a_step")
    assert is_otherwise(rules(decision)[0], "tiny", "a_step")


def test_override_never_fires_inside_its_own_protocol(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(
        child("monitor", "febrile", fever_sustained_1h=True, anc_10e9_l=0.1)
    )
    assert_routed(decision, "febrile", "monitor")
    assert not any("overrides" in rule for rule in rules(decision))


def test_override_limited_by_during(walker_bundle: pr.Bundle) -> None:
    # only_on_other (priority 500) applies only to children on protocol 'other'
    on_tiny = walker_bundle.route(child("a_step", fever_sustained_1h=True, anc_10e9_l=2.0))
    assert rules(on_tiny)[0] == "febrile.overrides.fever_only"
    on_other = walker_bundle.route(child("landing", "other", fever_sustained_1h=True))
    assert_routed(on_other, "febrile", "monitor")
    assert rules(on_other)[0] == "febrile.overrides.only_on_other"


def test_completed_at_terminal_step(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("end", wbc_10e9_l=1.0))
    assert decision.status == "completed"
    assert decision.step is not None
    assert decision.step.id == "end"
    assert decision.urgency is None
    assert decision.facility is None
    assert decision.follow_ups == []


def test_arriving_at_terminal_step_is_routed(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("c_step"))
    assert_routed(decision, "tiny", "end")


def test_not_applicable(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child(None, icd10="C22.0"))
    assert decision.status == "not_applicable"
    assert decision.protocol is None
    assert decision.step is None
    assert decision.missing == []


def test_selection_needs_data_when_applies_to_unknown(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child(None, birth_date=None))
    assert decision.status == "needs_data"
    assert decision.missing == ["age_years"]
    assert decision.protocol is None


def test_adult_is_not_applicable(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child(None, birth_date="2000-01-01"))
    assert decision.status == "not_applicable"


def test_due_time_from_timing(walker_bundle: pr.Bundle) -> None:
    decision = walker_bundle.route(child("a_step"))
    assert decision.step is not None
    assert decision.step.due_within_hours == 72
    assert decision.step.due_at == "2026-11-25T09:00:00+05:00"


def test_deterministic(walker_bundle: pr.Bundle) -> None:
    patient = child("unknown_first", wbc_10e9_l=10.0, immunophenotype="B")
    first = walker_bundle.route(patient).to_dict()
    for _ in range(20):
        assert walker_bundle.route(patient).to_dict() == first


# -- facility choice on a small custom network -----------------------------------------------

FACILITY = (
    "  - id: {id}\n"
    "    name: {{en: {id}, ru: {id}, kk: {id}}}\n"
    "    region: {region}\n"
    "    level: {level}\n"
    "    type: test\n"
    "    capabilities: [{caps}]\n"
    "    specialists: [pediatric_oncohematologist]\n"
    "    age_range_years: [0, {max_age}]\n"
    "    location: {{lat: {lat}, lon: {lon}}}\n"
    "    cover_24h: {cover}\n"
    "    sources: [test]\n"
)


def facility(
    fid: str,
    region: str,
    level: str,
    caps: str,
    cover: bool,
    lat: float,
    lon: float,
    max_age: int = 18,
) -> str:
    return FACILITY.format(
        id=fid,
        region=region,
        level=level,
        caps=caps,
        cover=str(cover).lower(),
        lat=lat,
        lon=lon,
        max_age=max_age,
    )


ONC = "pediatric_oncohematology_inpatient"
REGISTRY = (
    'kind: facility_registry\nversion: "t"\nfacilities:\n'
    + facility("f_home", "KZ-11", "regional", ONC, False, 53.28, 69.39)
    + facility("f_near", "KZ-11", "regional", ONC, True, 53.0, 70.3)
    + facility("f_far", "KZ-71", "republican", ONC, True, 51.17, 71.45)
    + facility("f_tx", "KZ-71", "republican", f"{ONC}, hsct", False, 51.2, 71.4, max_age=5)
)
CATCHMENTS = (
    'kind: catchments\nversion: "t"\ncatchments:\n'
    "  - {region: KZ-11, regional: f_home, republican: f_far}\n"
)
LINKS = (
    'kind: referral_links\nversion: "t"\nlinks:\n'
    "  - {from: f_home, to: f_near, travel_hours: 1.0}\n"
    "  - {from: f_home, to: f_far, travel_hours: 4.0}\n"
    "  - {from: f_home, to: f_tx, travel_hours: 4.5}\n"
)


def care(level: str, caps: str = ONC, specialist: str = "pediatric_oncohematologist") -> str:
    setting = "outpatient" if level == "primary" else "inpatient"
    return (
        f"{{specialist: {specialist}, capabilities: [{caps}], min_level: {level}, "
        f"setting: {setting}}}"
    )


NET = protocol(
    "net",
    [
        step("planned", care=care("regional"), otherwise="planned"),
        step("planned_republican", care=care("republican"), otherwise="planned_republican"),
        step(
            "emergency",
            kind="emergency",
            urgency="emergency",
            care=care("regional"),
            otherwise="emergency",
        ),
        step(
            "transplant",
            kind="procedure",
            care=care("regional", f"{ONC}, hsct"),
            otherwise="transplant",
        ),
        step(
            "polyclinic",
            kind="follow_up",
            care=care("primary", "primary_care", "pediatrician"),
            otherwise="polyclinic",
        ),
    ],
    entry="planned",
)


@pytest.fixture(scope="module", params=ENGINES)
def net_bundle(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[pr.Bundle]:
    root: Path = tmp_path_factory.mktemp("net") / "bundle"
    write_bundle(
        root,
        {"net.yaml": NET},
        extra={
            "facilities/registry.yaml": REGISTRY,
            "facilities/catchments.yaml": CATCHMENTS,
            "facilities/links.yaml": LINKS,
        },
    )
    bundle = pr.load_bundle(root, engine=request.param)
    # the other 19 regions have no catchment here, and the scenario steps loop on
    # themselves: warnings only
    assert {issue.code for issue in bundle.report.issues} <= {"F002", "G001", "G010"}
    return bundle


def where(bundle: pr.Bundle, step_id: str, **kwargs: Any) -> tuple[str, str | None, str]:
    """(status, facility id, facility rule) for a child held at ``step_id`` of net."""
    decision = bundle.route(child(step_id, "net", **kwargs))
    facility_rules = [r for r in rules(decision) if r.startswith("facility.")]
    rule = facility_rules[-1].removeprefix("facility.") if facility_rules else ""
    return decision.status, decision.facility.id if decision.facility else None, rule


def test_planned_care_goes_to_the_regional_catchment_centre(net_bundle: pr.Bundle) -> None:
    assert where(net_bundle, "planned") == ("routed", "f_home", "catchment_regional")


def test_planned_care_above_regional_level_goes_to_the_republican_centre(
    net_bundle: pr.Bundle,
) -> None:
    decision = net_bundle.route(child("planned_republican", "net"))
    assert decision.facility is not None
    assert decision.facility.id == "f_far"
    assert decision.facility.travel_hours == 4.0  # the referral link from f_home
    assert rules(decision)[-1] == "facility.catchment_republican"


def test_continuity_when_the_current_facility_is_capable(net_bundle: pr.Bundle) -> None:
    assert where(net_bundle, "planned", current_facility="f_near") == (
        "routed",
        "f_near",
        "continuity",
    )
    assert where(net_bundle, "emergency", current_facility="f_far") == (
        "routed",
        "f_far",
        "continuity",
    )


def test_no_continuity_when_the_current_facility_is_not_capable(net_bundle: pr.Bundle) -> None:
    # f_near is regional: a republican-level step goes to the catchment's republican centre
    assert where(net_bundle, "planned_republican", current_facility="f_near") == (
        "routed",
        "f_far",
        "catchment_republican",
    )


def test_emergency_goes_to_the_nearest_capable_with_24h_cover(net_bundle: pr.Bundle) -> None:
    # f_home (the catchment's regional centre) has no 24 h cover; f_near is 1 h away
    decision = net_bundle.route(child("emergency", "net"))
    assert decision.status == "routed"
    assert decision.facility is not None
    assert decision.facility.id == "f_near"
    assert decision.facility.travel_hours == 1.0
    assert rules(decision)[-1] == "facility.nearest_capable"
    assert decision.urgency == "emergency"


def test_age_range_limits_capable_facilities(net_bundle: pr.Bundle) -> None:
    # only f_tx offers hsct, and only up to 5 years: a 3-year-old goes there...
    assert where(net_bundle, "transplant", birth_date="2023-06-01") == (
        "routed",
        "f_tx",
        "nearest_capable",
    )
    # ...a 10-year-old has no capable facility: no_route
    status, facility_id, rule = where(net_bundle, "transplant", birth_date="2016-05-02")
    assert (status, facility_id, rule) == ("no_route", None, "no_capable_facility")


def test_attached_primary_care(net_bundle: pr.Bundle) -> None:
    status, facility_id, rule = where(net_bundle, "polyclinic")
    assert (status, facility_id, rule) == (
        "routed",
        "attached_primary_care",
        "attached_primary_care",
    )


# -- the walk's typed outcome and the decision built from it -----------------------------


def outcome_of(bundle: pr.Bundle, patient: dict[str, Any]) -> Outcome:
    compiled = bundle.compiled
    facts = read_patient(compiled.schema, patient, compiled.steps_by_protocol)
    return walk(compiled, bundle._evaluator, facts)


def test_the_outcome_names_the_transition_and_the_facility_choice(
    walker_bundle: pr.Bundle,
) -> None:
    outcome = outcome_of(walker_bundle, child("by_priority", wbc_10e9_l=10.0))
    assert outcome.status == "routed"
    assert outcome.transition is not None
    assert outcome.transition.id == "high_second"
    assert outcome.override is None
    assert outcome.step is not None
    assert outcome.step.id == "b_step"
    assert isinstance(outcome.facility, FacilityChoice)
    assert outcome.facility.facility is not None
    assert outcome.missing == frozenset()
    assert outcome.reasons[0].rule == "tiny.by_priority.high_second"
    assert outcome.reasons[0].facts == {"wbc_10e9_l": 10.0}


def test_the_outcome_names_the_override_that_fired(walker_bundle: pr.Bundle) -> None:
    outcome = outcome_of(
        walker_bundle, child("a_step", fever_sustained_1h=True, anc_10e9_l=0.3, wbc_10e9_l=1.0)
    )
    assert outcome.override is not None
    assert outcome.override.id == "fever_neutropenia"
    assert outcome.return_to == Resume("tiny", "a_step")


def test_needs_data_outcome_has_no_facility(walker_bundle: pr.Bundle) -> None:
    outcome = outcome_of(walker_bundle, child("unknown_first"))
    assert outcome.status == "needs_data"
    assert outcome.facility is None
    assert outcome.missing == {"immunophenotype", "wbc_10e9_l"}


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_the_decision_is_built_from_the_outcome_in_the_language_asked(
    walker_bundle: pr.Bundle, lang: Language
) -> None:
    patient = child("a_step", fever_sustained_1h=True, anc_10e9_l=0.3, wbc_10e9_l=1.0)
    built = build_decision(
        outcome_of(walker_bundle, patient),
        walker_bundle.compiled,
        walker_bundle.engine,
        lang,
    )
    assert built == walker_bundle.route(patient, lang=lang)


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_the_attached_polyclinic_is_named_from_its_localized_title(
    net_bundle: pr.Bundle, lang: Language
) -> None:
    decision = net_bundle.route(child("polyclinic", "net"), lang=lang)
    assert decision.facility is not None
    assert decision.facility.name == ATTACHED_PRIMARY_CARE_NAME.get(lang)
    assert decision.facility.region == "KZ-11"  # the child's home region
