"""Thread safety: one shared bundle, 8 threads routing the example patients and generated
patients concurrently (2,000+ decisions per engine); every decision must equal the one the
same bundle gives single-threaded.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

import pedonc_routing as pr
from conftest import load_example_patients
from pedonc_routing.intake.patient import read_patient

THREADS = 8
ROUNDS = 2  # passes over the patient list per thread: 8 x 2 x 250 = 4,000 decisions


def generated_patients(bundle: pr.Bundle, count: int) -> list[dict[str, Any]]:
    """``count`` deterministic valid patients (hypothesis, derandomized)."""
    from test_differential import patients

    found: list[dict[str, Any]] = []

    @given(patients(bundle))
    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def collect(patient: dict[str, Any]) -> None:
        found.append(patient)

    collect()
    return found[:count]


def canonical(decision: pr.Decision) -> str:
    return json.dumps(decision.to_dict(), sort_keys=True)


@pytest.fixture(params=["durable", "reference"])
def bundle(
    request: pytest.FixtureRequest, shipped_bundle: pr.Bundle, reference_bundle: pr.Bundle
) -> pr.Bundle:
    return shipped_bundle if request.param == "durable" else reference_bundle


def test_concurrent_routing_matches_single_threaded(bundle: pr.Bundle) -> None:
    examples = [patient for _, patient, _ in load_example_patients()]
    patients = examples + generated_patients(bundle, 250 - len(examples))
    expected = [canonical(bundle.route(patient)) for patient in patients]
    statuses = {json.loads(text)["status"] for text in expected}
    assert {"routed", "needs_data"} <= statuses

    start = threading.Barrier(THREADS)

    def work(offset: int) -> list[tuple[int, str]]:
        start.wait()  # all threads begin together
        results = []
        for round_ in range(ROUNDS):
            # each thread walks the list from a different place, in a different direction
            order = (
                range(len(patients)) if (offset + round_) % 2 else reversed(range(len(patients)))
            )
            for index in order:
                shifted = (index + offset * 31) % len(patients)
                results.append((shifted, canonical(bundle.route(patients[shifted]))))
        return results

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(work, range(THREADS)))

    total = sum(len(results) for results in outcomes)
    assert total >= 2000
    wrong = [index for results in outcomes for index, text in results if text != expected[index]]
    assert wrong == [], f"{len(wrong)} of {total} decisions differ"


def test_shared_evaluator_under_threads(shipped_bundle: pr.Bundle) -> None:
    """The durable evaluator alone (no caches above it): concurrent truth values match."""
    compiled = shipped_bundle.compiled
    table = compiled.protocols["all"].table
    examples = [patient for _, patient, _ in load_example_patients()]
    facts = [
        read_patient(compiled.schema, patient, compiled.steps_by_protocol).facts
        for patient in examples
    ]
    evaluator = shipped_bundle._evaluator  # the bundle's own, shared evaluator

    def truths(index: int) -> dict[str, bool | None]:
        truth = evaluator.evaluate(table, facts[index])
        return {guard.key: truth(guard.key) for guard in table.guards}

    expected = [truths(index) for index in range(len(facts))]
    jobs = [index % len(facts) for index in range(THREADS * 300)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(truths, jobs))
    assert all(result == expected[index] for index, result in zip(jobs, results, strict=True))
