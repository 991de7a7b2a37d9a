"""Planted faults: hypothesis builds random *valid* small protocols, checks that they validate
with no issue at all, then plants exactly one fault and checks that the validator reports
exactly that one issue (code, severity) at the line and column of the planted node.

The generated protocols are chains of 2-6 steps (``s0`` ... ``sN``, the last one terminal).
Every other step has 1-4 guarded transitions over the vocabulary inputs ``wbc_10e9_l``
(number 0-2000, precision 2), ``immunophenotype`` (enum B, T) and ``on_chemotherapy``
(boolean), plus an ``otherwise``. The guards of a step are pairwise disjoint, each satisfiable,
and together they leave part of the input space to the ``otherwise``: so the base protocol
has no overlap (G004), never-true (G005) or never-chosen (G009) warning, and removing the
``otherwise`` always opens a gap (G006). The first transition of step ``sI`` goes to
``sI+1``, so every step stays reachable whatever the other targets are.

Each protocol is written with ``yaml.safe_dump`` (block style); the planted node carries a
unique marker, and its expected position is found by searching the dumped text for it.

To keep the file fast, the bundle uses the shipped vocabulary and care catalogue but a
one-facility registry, a matching 20-region catchments document and no referral links
(``write_bundle(extra=...)`` replaces the shipped facilities, whose YAML dominates the
parse time).
"""

from __future__ import annotations

import copy
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

import pedonc_routing as pr
from conftest import write_bundle
from pedonc_routing.engine.reference import evaluate
from pedonc_routing.model.conditions import Condition
from pedonc_routing.validation import checks_doc
from pedonc_routing.vocabulary.inputs import kz_region_codes

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)

WBC, LINEAGE, CHEMO = "wbc_10e9_l", "immunophenotype", "on_chemotherapy"
WBC_HUNDREDTHS = 200_000  # the range [0, 2000] at precision 2
NON_ENDING_KINDS = ["diagnostic", "staging", "treatment_phase", "procedure", "follow_up"]
CARE = {"specialist": "pediatric_oncohematologist", "min_level": "regional"}
CAPABILITIES = ["flow_cytometry", "bone_marrow_aspiration", "cbc_smear"]

Json = dict[str, Any]
Draw = Callable[[st.SearchStrategy[Any]], Any]

# -- a small, fast facilities part ------------------------------------------------------------

REGISTRY = """\
kind: facility_registry
version: "1"
facilities:
  - id: kz75_centre
    name: {en: "Centre", ru: "Центр", kk: "Орталық"}
    region: KZ-75
    level: republican
    type: republican_centre
    capabilities: [flow_cytometry, bone_marrow_aspiration, cbc_smear]
    specialists: [pediatric_oncohematologist]
    location: {lat: 43.238, lon: 76.946}
    cover_24h: true
    sources: ["illustrative"]
"""
CATCHMENTS = 'kind: catchments\nversion: "1"\ncatchments:\n' + "".join(
    f"  - {{region: {region}, regional: kz75_centre, republican: kz75_centre}}\n"
    for region in sorted(kz_region_codes())
)
LINKS = 'kind: referral_links\nversion: "1"\nlinks: []\n'
FACILITIES = {
    "facilities/registry.yaml": REGISTRY,
    "facilities/catchments.yaml": CATCHMENTS,
    "facilities/links.yaml": LINKS,
}


def text(word: str) -> Json:
    return {"en": word, "ru": f"{word} (ru) Текст", "kk": f"{word} (kk) Мәтін"}


# -- random valid protocols -------------------------------------------------------------------


def wbc_value(hundredths: int) -> float | int:
    """A wbc constant with at most 2 decimals (an int when whole)."""
    return hundredths // 100 if hundredths % 100 == 0 else hundredths / 100


def wbc_piece(low: int, high: int | None) -> Json:
    """wbc in [low, high) hundredths (high None: up to the end of the range)."""
    tests = []
    if low > 0:
        tests.append({"input": WBC, "gte": wbc_value(low)})
    if high is not None:
        tests.append({"input": WBC, "lt": wbc_value(high)})
    return tests[0] if len(tests) == 1 else {"all": tests}


@st.composite
def restriction(draw: Draw, other_than: str) -> Json | None:
    """A satisfiable condition on another input that also excludes some patients, or None."""
    choices = [name for name in (WBC, LINEAGE, CHEMO) if name != other_than]
    name = draw(st.sampled_from([None, *choices]))
    if name == WBC:
        operator = draw(st.sampled_from(["gte", "lt"]))
        return {"input": WBC, operator: wbc_value(draw(st.integers(1, WBC_HUNDREDTHS)))}
    if name == LINEAGE:
        value = draw(st.sampled_from(["B", "T"]))
        return draw(
            st.sampled_from([{"input": LINEAGE, "eq": value}, {"input": LINEAGE, "in": [value]}])
        )
    if name == CHEMO:
        return {"input": CHEMO, "eq": draw(st.booleans())}
    return None


def restricted(condition: Json, extra: Json | None) -> Json:
    return condition if extra is None else {"all": [condition, extra]}


@st.composite
def step_guards(draw: Draw) -> list[Json]:
    """1-4 pairwise disjoint, satisfiable guards that do not cover every patient."""
    split = draw(st.sampled_from([WBC, LINEAGE, CHEMO]))
    if split == WBC:
        cuts = sorted(draw(st.sets(st.integers(1, WBC_HUNDREDTHS - 1), min_size=1, max_size=4)))
        pieces = list(zip([0, *cuts], [*cuts, None], strict=True))
        # At least one piece is left to the `otherwise`.
        chosen = draw(
            st.lists(st.sampled_from(pieces), min_size=1, max_size=len(pieces) - 1, unique=True)
        )
        return [restricted(wbc_piece(*piece), draw(restriction(WBC))) for piece in chosen]
    values: list[Any] = ["B", "T"] if split == LINEAGE else [True, False]
    chosen_values = draw(st.lists(st.sampled_from(values), min_size=1, max_size=2, unique=True))
    guards = [
        restricted({"input": split, "eq": value}, draw(restriction(split)))
        for value in chosen_values
    ]
    if len(guards) == len(values) and all("all" not in guard for guard in guards):
        # Both values taken without a restriction would cover every patient: restrict one.
        guards[-1] = restricted(guards[-1], {"input": WBC, "gte": 1})
    return guards


@st.composite
def protocols(draw: Draw) -> Json:
    count = draw(st.integers(2, 6))
    names = [f"s{index}" for index in range(count)]
    steps: dict[str, Json] = {}
    for index, name in enumerate(names):
        care: Json = dict(CARE, setting=draw(st.sampled_from(["inpatient", "outpatient"])))
        capabilities = draw(st.lists(st.sampled_from(CAPABILITIES), max_size=2, unique=True))
        if capabilities:
            care["capabilities"] = capabilities
        step: Json = {
            "kind": "terminal" if index == count - 1 else draw(st.sampled_from(NON_ENDING_KINDS)),
            "title": text(f"Step {index}"),
            "family_info": text(f"Info {index}"),
            "care": care,
        }
        if index < count - 1:
            later = names[index + 1 :]
            guards = draw(step_guards())
            step["next"] = [
                {
                    "id": f"t{index}_{number}",
                    "to": later[0] if number == 0 else draw(st.sampled_from(later)),
                    "when": guard,
                    "because": f"Reason {number}",
                    "source": "src",
                }
                for number, guard in enumerate(guards)
            ]
            step["otherwise"] = {
                "to": draw(st.sampled_from(later)),
                "because": "Default",
                "source": "src",
            }
        steps[name] = step
    return {
        "kind": "protocol",
        "id": "generated",
        "version": "1",
        "status": "draft",
        "title": text("Generated"),
        "sources": [{"id": "src", "citation": "Author A. A generated test citation. 2026."}],
        "inputs": [WBC, LINEAGE, CHEMO],
        "applies_to": {"input": "icd10", "icd10_in": ["C91.0"]},
        "entry": names[0],
        "steps": steps,
    }


# -- writing, validating, locating ------------------------------------------------------------


def dump(protocol: Json) -> str:
    return yaml.safe_dump(protocol, sort_keys=False, allow_unicode=True)


def validate(protocol_text: str) -> list[pr.Issue]:
    """Every issue of a bundle made of the protocol text (as ``protocol.yaml``)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = write_bundle(Path(tmp) / "bundle", protocol_text, extra=FACILITIES)
        report = pr.validate(root)
    return list(report.issues)


def locate(protocol_text: str, pattern: str, occurrence: int = 0) -> tuple[int, int]:
    """1-based line and column of the group ``at`` of a pattern in the text."""
    matches = list(re.finditer(pattern, protocol_text, re.MULTILINE))
    assert matches, pattern
    offset = matches[occurrence].start("at")
    line = protocol_text.count("\n", 0, offset) + 1
    column = offset - (protocol_text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def non_terminal(protocol: Json) -> list[str]:
    return [name for name, step in protocol["steps"].items() if "next" in step]


def leaf_tests(condition: Json) -> list[Json]:
    """The leaf tests of a condition (as dicts, for editing in place)."""
    if "input" in condition:
        return [condition]
    parts = condition.get("all") or condition.get("any") or [condition.get("not", {})]
    return [test for part in parts for test in leaf_tests(part)]


@dataclass(frozen=True)
class Planted:
    code: str
    severity: str
    pattern: str  # a regex whose group `at` is the reported node
    occurrence: int = 0


def check_planted(base: Json, draw: Draw, plant: Callable[[Json, Draw], Planted]) -> pr.Issue:
    """The base protocol is clean; with the fault, exactly the planted issue is reported."""
    assert validate(dump(base)) == []
    faulty = copy.deepcopy(base)
    planted = plant(faulty, draw)
    faulty_text = dump(faulty)
    line, column = locate(faulty_text, planted.pattern, planted.occurrence)
    issues = validate(faulty_text)
    assert [(i.file.rsplit("/", 1)[-1], i.code, i.severity, i.line, i.column) for i in issues] == [
        ("protocol.yaml", planted.code, planted.severity, line, column)
    ], "\n".join(str(issue) for issue in issues)
    assert len(checks_doc.owners(planted.code)) == 1  # one module declares each code
    return issues[0]


def pick_transition(protocol: Json, draw: Draw) -> tuple[str, Json]:
    name = draw(st.sampled_from(non_terminal(protocol)))
    return name, draw(st.sampled_from(protocol["steps"][name]["next"]))


def add_conjunct(transition: Json, test: Json) -> None:
    transition["when"] = {"all": [transition["when"], test]}


# -- the faults -------------------------------------------------------------------------------


def unknown_step(protocol: Json, draw: Draw) -> Planted:
    # An `otherwise` or a transition other than the first, which keeps the chain (and so
    # every step) reachable: redirecting the first one would add a G001.
    candidates = [
        node
        for name in non_terminal(protocol)
        for node in [protocol["steps"][name]["otherwise"], *protocol["steps"][name]["next"][1:]]
    ]
    draw(st.sampled_from(candidates))["to"] = "zz_missing_step"
    return Planted("R001", "error", r"to: (?P<at>zz_missing_step)$")


def unknown_input(protocol: Json, draw: Draw) -> Planted:
    _, transition = pick_transition(protocol, draw)
    test = draw(st.sampled_from(leaf_tests(transition["when"])))
    test["input"] = "zz_unknown_input"
    return Planted("R002", "error", r"input: (?P<at>zz_unknown_input)$")


def unknown_capability(protocol: Json, draw: Draw) -> Planted:
    care = protocol["steps"][draw(st.sampled_from(list(protocol["steps"])))]["care"]
    capabilities = care.setdefault("capabilities", [])
    capabilities.insert(draw(st.integers(0, len(capabilities))), "zz_unknown_capability")
    return Planted("R003", "error", r"- (?P<at>zz_unknown_capability)$")


def unknown_specialist(protocol: Json, draw: Draw) -> Planted:
    care = protocol["steps"][draw(st.sampled_from(list(protocol["steps"])))]["care"]
    care["specialist"] = "zz_unknown_specialist"
    return Planted("R004", "error", r"specialist: (?P<at>zz_unknown_specialist)$")


def undeclared_enum_value(protocol: Json, draw: Draw) -> Planted:
    _, transition = pick_transition(protocol, draw)
    add_conjunct(transition, {"input": LINEAGE, "eq": "zz_not_a_lineage"})
    return Planted("T003", "error", r"eq: (?P<at>zz_not_a_lineage)$")


def too_precise_constant(protocol: Json, draw: Draw) -> Planted:
    _, transition = pick_transition(protocol, draw)
    thousandths = draw(st.integers(1, 1_999_999).filter(lambda k: k % 10 != 0))
    value = thousandths / 1000  # exactly 3 decimals, inside the plausible range
    operator = draw(st.sampled_from(["gte", "lt", "lte", "gt"]))
    add_conjunct(transition, {"input": WBC, operator: value})
    return Planted("T005", "error", rf"{operator}: (?P<at>{re.escape(repr(value))})$")


def duplicate_transition_id(protocol: Json, draw: Draw) -> Planted:
    name, transition = pick_transition(protocol, draw)
    transitions = protocol["steps"][name]["next"]
    transition["id"] = "zz_twin"
    twin = copy.deepcopy(transition)
    position = transitions.index(transition)
    transitions.insert(draw(st.integers(position + 1, len(transitions))), twin)
    return Planted("R009", "error", r"- id: (?P<at>zz_twin)$", occurrence=1)


def removed_otherwise(protocol: Json, draw: Draw) -> Planted:
    name = draw(st.sampled_from(non_terminal(protocol)))
    del protocol["steps"][name]["otherwise"]
    return Planted("G006", "warning", rf"^  (?P<at>{name}):$")


def unreachable_step(protocol: Json, draw: Draw) -> Planted:
    steps = list(protocol["steps"].items())
    orphan = {
        "kind": draw(st.sampled_from(["terminal", "survivorship", "palliative"])),
        "title": text("Orphan"),
        "family_info": text("Orphan info"),
        "care": dict(CARE, setting="outpatient"),
    }
    steps.insert(draw(st.integers(1, len(steps))), ("zz_orphan", orphan))
    protocol["steps"] = dict(steps)
    return Planted("G001", "warning", r"^  (?P<at>zz_orphan):$")


def dead_end(protocol: Json, draw: Draw) -> Planted:
    last = list(protocol["steps"])[-1]
    protocol["steps"][last]["kind"] = draw(st.sampled_from(NON_ENDING_KINDS))
    # Reported at the step's mapping: its first key, on the line after the step's key.
    return Planted("G002", "error", rf"^  {last}:\n    (?P<at>kind): ")


# -- the tests --------------------------------------------------------------------------------


@settings(max_examples=25)
@given(protocols(), st.data())
def test_unknown_step_is_r001(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, unknown_step)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_unknown_input_is_r002(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, unknown_input)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_unknown_capability_is_r003(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, unknown_capability)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_unknown_specialist_is_r004(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, unknown_specialist)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_undeclared_enum_value_is_t003(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, undeclared_enum_value)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_too_precise_constant_is_t005(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, too_precise_constant)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_duplicate_transition_id_is_r009(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, duplicate_transition_id)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_removed_otherwise_is_a_g006_gap(protocol: Json, data: st.DataObject) -> None:
    issue = check_planted(protocol, data.draw, removed_otherwise)
    # The counterexample really falls through: no guard of that step holds for it.
    assert issue.example is not None
    facts: Json = {}
    for key, value in issue.example.items():  # {group: {input: value}} or {builtin: value}
        facts.update(value if isinstance(value, dict) else {key: value})
    step = re.search(r"step '(\w+)'", issue.message)
    assert step is not None
    guards = [
        CONDITION.validate_python(transition["when"])
        for transition in protocol["steps"][step.group(1)]["next"]
    ]
    assert guards
    assert all(evaluate(guard, facts) is False for guard in guards), (facts, guards)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_unreachable_step_is_g001(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, unreachable_step)


@settings(max_examples=25)
@given(protocols(), st.data())
def test_dead_end_is_g002(protocol: Json, data: st.DataObject) -> None:
    check_planted(protocol, data.draw, dead_end)
