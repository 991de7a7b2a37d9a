"""The ICD-10 selection index (compiler.selection) never changes a decision.

1. ``icd10_requirement`` is sound: outside its intervals the condition is false for every
   completion of the other inputs (checked with the reference evaluator).
2. ``SelectionIndex.may_apply`` equals a brute-force scan of the intervals.
3. Whole decisions with the index equal decisions with the whole selector evaluated, for
   the shipped bundle on both engines (children on and not yet on a pathway).
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

import pedonc_routing as pr
from conftest import PROTOCOLS_DIR
from pedonc_routing.compiler.selection import SelectionIndex, icd10_requirement
from pedonc_routing.engine.reference import evaluate
from pedonc_routing.model.conditions import Condition, iter_tests
from pedonc_routing.testing.strategies import patients
from pedonc_routing.vocabulary.codes import icd10_key, icd10_pattern

CONDITION: TypeAdapter[Condition] = TypeAdapter(Condition)
ICD10_CODES = st.builds(
    lambda letter, number, decimal: f"{letter}{number:02d}" + (f".{decimal}" if decimal else ""),
    st.sampled_from("ACDZ"),
    st.integers(0, 99),
    st.sampled_from([None, 0, 1, 9]),
)


def without_index(bundle: pr.Bundle) -> pr.Bundle:
    compiled = dataclasses.replace(bundle.compiled, selection_index=None)
    return pr.Bundle(compiled, bundle._evaluator, bundle.report, bundle._source)


def test_requirements_of_condition_forms() -> None:
    c91 = icd10_pattern("C91")
    assert icd10_requirement(
        CONDITION.validate_python({"input": "icd10", "icd10_in": ["C91"]})
    ) == (c91,)
    both = {"all": [{"input": "age_years", "lt": 18}, {"input": "icd10", "icd10_in": ["C91"]}]}
    assert icd10_requirement(CONDITION.validate_python(both)) == (c91,)
    either = {
        "any": [{"input": "icd10", "icd10_in": ["C91"]}, {"input": "icd10", "icd10_in": ["C64"]}]
    }
    assert icd10_requirement(CONDITION.validate_python(either)) == (c91, icd10_pattern("C64"))
    open_ended = {
        "any": [{"input": "icd10", "icd10_in": ["C91"]}, {"input": "icd10", "absent": True}]
    }
    assert icd10_requirement(CONDITION.validate_python(open_ended)) is None
    negated = {"not": {"input": "icd10", "icd10_in": ["C91"]}}
    assert icd10_requirement(CONDITION.validate_python(negated)) is None


def shipped_codes() -> list[str]:
    """Every plain code the shipped ``applies_to`` name (the boundaries worth hitting)."""
    selector = pr.load_bundle(PROTOCOLS_DIR, engine="reference").compiled.selector
    return sorted(
        pattern
        for guard in selector.guards
        for test in iter_tests(guard.condition)
        for pattern in test.icd10_in or ()
        if "-" not in pattern
    )


@given(
    code=ICD10_CODES | st.sampled_from(shipped_codes()),
    age=st.one_of(st.none(), st.integers(0, 20)),
    data=st.data(),
)
def test_a_condition_is_false_outside_its_requirement(
    code: str, age: int | None, data: st.DataObject, shipped_bundle: pr.Bundle
) -> None:
    compiled = shipped_bundle.compiled
    protocol_id = data.draw(st.sampled_from(compiled.selection_order))
    condition = compiled.selector.by_key[f"a:{protocol_id}"].condition
    requirement = icd10_requirement(condition)
    key = icd10_key(code)
    facts: dict[str, Any] = {"icd10": code}
    if age is not None:
        facts["age_years"] = age
    if requirement is not None and not any(low <= key <= high for low, high in requirement):
        assert evaluate(condition, facts) is False


@given(
    intervals=st.dictionaries(
        st.sampled_from(["p1", "p2", "p3", "p4", "p5"]),
        st.one_of(
            st.none(),
            st.lists(st.tuples(st.integers(0, 60), st.integers(0, 20)), min_size=1, max_size=3),
        ),
        min_size=1,
    ),
    key=st.integers(-5, 90),
)
def test_may_apply_equals_a_brute_force_scan(
    intervals: dict[str, list[tuple[int, int]] | None], key: int
) -> None:
    bounds = {
        pid: None if spans is None else [(low, low + width) for low, width in spans]
        for pid, spans in intervals.items()
    }
    expected = {
        pid
        for pid, bound in bounds.items()
        if bound is None or any(low <= key <= high for low, high in bound)
    }
    assert SelectionIndex.of_bounds(bounds).may_apply(key) == expected


@pytest.mark.parametrize("engine", ["durable", "reference"])
def test_decisions_with_and_without_the_index_are_equal(engine: str) -> None:
    indexed = pr.load_bundle(PROTOCOLS_DIR, engine=engine)  # type: ignore[arg-type]
    assert indexed.compiled.selection_index is not None
    scanned = without_index(indexed)

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(patient=patients(indexed, allow_missing=True, position=st.none()) | patients(indexed))
    def check(patient: dict[str, Any]) -> None:
        assert indexed.route(patient).to_dict() == scanned.route(patient).to_dict()

    check()


def many_protocols(root: Path, count: int) -> Path:
    """The shipped reference files plus ``count`` small protocols: one ICD-10 category
    each, every fifth one a range overlapping its neighbours, and one with no code bound."""
    for name in ("vocabulary.yaml", "care.yaml", "routing_rules.yaml"):
        shutil.copy(PROTOCOLS_DIR / name, root / name)
    shutil.copytree(PROTOCOLS_DIR / "facilities", root / "facilities")
    text = {"en": "x", "ru": "x", "kk": "x"}
    care = {"specialist": "pediatrician", "min_level": "primary", "setting": "outpatient"}
    for index in range(count):
        if index == count - 1:  # no bound on the code: a candidate for every child
            applies = {
                "all": [{"input": "age_years", "gte": 17}, {"input": "wbc_10e9_l", "gte": 0}]
            }
        elif index % 5 == 0:
            applies = {"input": "icd10", "icd10_in": [f"A{index:02d}-A{index + 2:02d}"]}
        else:
            applies = {"input": "icd10", "icd10_in": [f"A{index:02d}"]}
        protocol = {
            "kind": "protocol", "id": f"p{index:02d}", "version": "1", "status": "draft",
            "title": text, "sources": [{"id": "s", "citation": "Synthetic protocol for tests"}],
            "inputs": ["wbc_10e9_l"], "applies_to": applies, "entry": "start",
            "steps": {"start": {"kind": "terminal", "title": text, "family_info": text,
                                "care": care}},
        }  # fmt: skip
        (root / f"p{index:02d}.yaml").write_text(yaml.safe_dump(protocol), encoding="utf-8")
    return root


@pytest.mark.parametrize("engine", ["durable", "reference"])
def test_many_protocols_split_into_parts_choose_as_the_whole_selector(
    engine: str, tmp_path: Path
) -> None:
    bundle = pr.load_bundle(many_protocols(tmp_path, 40), engine=engine)  # type: ignore[arg-type]
    compiled = bundle.compiled
    parts = {part.name for part in compiled.selector_part_of.values()}
    assert len(parts) == 3  # 40 protocols, 16 per part
    scanned = without_index(bundle)
    chosen = set()
    for number in range(45):
        for age in (5, 17):
            patient = {
                "as_of": "2026-11-22T09:00:00+05:00",
                "age_years": age,
                "home_region": "KZ-75",
                "diagnosis": {"icd10": f"A{number:02d}.1"},
                "observations": {"wbc_10e9_l": 3.0},
            }
            decision = bundle.route(patient)
            assert decision.to_dict() == scanned.route(patient).to_dict(), patient
            chosen.add(decision.protocol.id if decision.protocol else None)
    # Coded protocols (ranges shadow their neighbours), the unbounded one, and no protocol.
    assert len(chosen) > 20
    assert {None, "p39"} <= chosen


def test_a_coded_child_evaluates_only_the_parts_holding_its_candidates(tmp_path: Path) -> None:
    bundle = pr.load_bundle(many_protocols(tmp_path, 40), engine="reference")
    evaluated: list[str] = []
    evaluate_table = bundle._evaluator.evaluate

    def recording(table: Any, facts: Any) -> Any:
        evaluated.append(table.name)
        return evaluate_table(table, facts)

    bundle._evaluator.evaluate = recording  # type: ignore[method-assign]
    patient = {
        "as_of": "2026-11-22T09:00:00+05:00",
        "age_years": 5,
        "home_region": "KZ-75",
        "diagnosis": {"icd10": "A33.1"},
        "observations": {"wbc_10e9_l": 3.0},
    }
    assert bundle.route(patient).protocol.id == "p33"  # type: ignore[union-attr]
    parts = [name for name in evaluated if ":applies_to" in name]
    # p33's part, and the part of p39 (no code bound, a candidate for every child).
    assert len(parts) == len(set(parts)) <= 2
    del patient["diagnosis"]
    evaluated.clear()
    bundle.route(patient)
    assert len({name for name in evaluated if ":applies_to" in name}) == 3  # code unknown: all
