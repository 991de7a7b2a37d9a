"""The benchmark suite: one JSON object with every figure the project tracks.

``python bench/run.py --json [--routes N] [--scaling 10,100,1000]``

- ``route_p50_us`` / ``route_p99_us`` / ``route_per_s_1core``: ``Bundle.route()`` with the
  durable-rules engine on the full shipped bundle, over every example patient (216 children
  across all protocols, valid ones only); ``reference_p50_us``: the same with the reference
  evaluator.
- ``validate_bundle_s``, ``compile_bundle_s``: reading + validating, then compiling + creating
  the engine's rulesets, of the shipped bundle.
- ``overlap_1000_transitions_s``: the guard analysis of one step with 1,000 transitions.
- ``rss_mb_bundle``: resident memory the loaded bundle adds; ``rss_growth_mb_1m_routes``:
  growth over ``--routes`` decisions (default 1,000,000) after a warm-up.
- ``engine_step_p50_us``: the engine choosing the next step at ALL ``risk_stratification``
  alone (one guard-table evaluation and the choice); ``zen_p50_us``: the same decision table
  in zen-engine (GoRules JDM, Python binding; ``pip install '.[bench]'``), or null if absent.
- ``scaling``: compile time and route p50 for bundles of N synthetic protocols.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

import pedonc_routing as pr
from pedonc_routing.compiler.compiled import compile_documents
from pedonc_routing.engine import make_evaluator
from pedonc_routing.intake.patient import read_patient
from pedonc_routing.loader.documents import Sourced, read_documents
from pedonc_routing.source import SourceMap
from pedonc_routing.validation.guards import step_guard_issues
from pedonc_routing.vocabulary.inputs import FactSchema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from guard_analysis_bench import generated_protocol  # noqa: E402


def rss_mb() -> float:
    with Path("/proc/self/status").open() as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def valid_patients(bundle: pr.Bundle, folder: Path | None = None) -> list[dict[str, Any]]:
    """Every example patient (``folder``, default examples/patients) the bundle accepts."""
    patients = []
    for path in sorted((folder or ROOT / "examples" / "patients").rglob("*.yaml")):
        if path.name == "expected.yaml":
            continue
        patient = yaml.safe_load(path.read_text(encoding="utf-8"))
        try:
            bundle.route(patient)
        except pr.PatientDataError:
            continue
        patients.append(patient)
    return patients


def latencies(bundle: pr.Bundle, patients: list[dict[str, Any]], rounds: int) -> list[int]:
    for patient in patients:
        bundle.route(patient)
    clock = time.perf_counter_ns
    timings = []
    for _ in range(rounds):
        for patient in patients:
            start = clock()
            bundle.route(patient)
            timings.append(clock() - start)
    timings.sort()
    return timings


def p(timings: list[int], quantile: float) -> float:
    return round(timings[min(len(timings) - 1, int(len(timings) * quantile))] / 1000, 1)


def engine_step(bundle: pr.Bundle) -> float:
    compiled = bundle.compiled
    protocol = compiled.protocols["all"]
    step = protocol.graph.steps["risk_stratification"]
    patient = yaml.safe_load((ROOT / "examples/patients/01_b_all_standard_risk.yaml").read_text())
    facts = read_patient(compiled.schema, patient, compiled.steps_by_protocol).facts
    evaluator = bundle._evaluator

    def choose() -> str:
        truth = evaluator.evaluate(protocol.table, facts)
        for transition in step.transitions:
            if transition.guard_key is not None and truth(transition.guard_key):
                return transition.to_step
        return step.otherwise.to_step if step.otherwise else ""

    assert choose() == "induction_standard_risk"
    timings = []
    for _ in range(5000):
        start = time.perf_counter_ns()
        choose()
        timings.append(time.perf_counter_ns() - start)
    return round(statistics.median(timings) / 1000, 1)


ZEN_TABLE = {
    "nodes": [
        {"id": "in", "type": "inputNode", "name": "Request", "position": {"x": 0, "y": 0}},
        {
            "id": "dt",
            "type": "decisionTableNode",
            "name": "risk_stratification",
            "position": {"x": 200, "y": 0},
            "content": {
                "hitPolicy": "first",
                "inputs": [
                    {"id": "age", "name": "Age", "field": "age_years"},
                    {"id": "ph", "name": "Lineage", "field": "immunophenotype"},
                    {"id": "wbc", "name": "WBC", "field": "wbc_10e9_l"},
                ],
                "outputs": [{"id": "step", "name": "Step", "field": "step"}],
                "rules": [
                    {"_id": "r1", "age": "< 1", "ph": "", "wbc": "", "step": '"infant_induction"'},
                    {
                        "_id": "r2",
                        "age": "",
                        "ph": '"T"',
                        "wbc": "",
                        "step": '"induction_high_risk"',
                    },
                    {
                        "_id": "r3",
                        "age": "[1..10)",
                        "ph": '"B"',
                        "wbc": "< 50",
                        "step": '"induction_standard_risk"',
                    },
                    {"_id": "r4", "age": "", "ph": "", "wbc": "", "step": '"induction_high_risk"'},
                ],
            },
        },
        {"id": "out", "type": "outputNode", "name": "Response", "position": {"x": 400, "y": 0}},
    ],
    "edges": [
        {"id": "e1", "sourceId": "in", "targetId": "dt", "type": "edge"},
        {"id": "e2", "sourceId": "dt", "targetId": "out", "type": "edge"},
    ],
}


def zen_step() -> float | None:
    try:
        import zen
    except ImportError:
        return None
    decision = zen.ZenEngine().create_decision(json.dumps(ZEN_TABLE))
    facts = {"age_years": 4, "immunophenotype": "B", "wbc_10e9_l": 12.5}
    assert decision.evaluate(facts)["result"]["step"] == "induction_standard_risk"
    timings = []
    for _ in range(5000):
        start = time.perf_counter_ns()
        decision.evaluate(facts)
        timings.append(time.perf_counter_ns() - start)
    return round(statistics.median(timings) / 1000, 1)


def synthetic_bundle(root: Path, count: int) -> Path:
    """The shipped vocabulary, care catalogue, routing rules and facilities, plus ``count``
    small protocols (a two-way WBC split, one ICD-10 category each)."""
    for name in ("vocabulary.yaml", "care.yaml", "routing_rules.yaml"):
        shutil.copy(ROOT / "protocols" / name, root / name)
    shutil.copytree(ROOT / "protocols" / "facilities", root / "facilities")
    text = {"en": "x", "ru": "x", "kk": "x"}
    care = {"specialist": "pediatrician", "min_level": "primary", "setting": "outpatient"}
    for index in range(count):
        letter, number = "ABDEFGHJKL"[index // 100], index % 100
        protocol = {
            "kind": "protocol",
            "id": f"synthetic_{index:04d}",
            "version": "1",
            "status": "draft",
            "title": text,
            "sources": [{"id": "s", "citation": "Synthetic protocol for benchmarks"}],
            "inputs": ["wbc_10e9_l"],
            "applies_to": {"input": "icd10", "icd10_in": [f"{letter}{number:02d}"]},
            "entry": "start",
            "steps": {
                "start": {
                    "kind": "staging",
                    "passthrough": True,
                    "title": text,
                    "family_info": text,
                    "care": care,
                    "next": [
                        {
                            "id": "high",
                            "to": "high",
                            "because": "x",
                            "when": {"input": "wbc_10e9_l", "gte": 50},
                        }
                    ],
                    "otherwise": {"to": "low", "because": "x"},
                },
                "high": {"kind": "terminal", "title": text, "family_info": text, "care": care},
                "low": {"kind": "terminal", "title": text, "family_info": text, "care": care},
            },
        }
        (root / f"synthetic_{index:04d}.yaml").write_text(yaml.safe_dump(protocol))
    return root


def scaling(counts: list[int]) -> list[dict[str, Any]]:
    rows = []
    for count in counts:
        with tempfile.TemporaryDirectory() as folder:
            root = synthetic_bundle(Path(folder), count)
            start = time.perf_counter()
            bundle = pr.load_bundle(root)
            load_s = time.perf_counter() - start
            letter, number = "ABDEFGHJKL"[(count - 1) // 100], (count - 1) % 100
            patient = {
                "as_of": "2026-11-22T09:00:00+05:00",
                "age_years": 8,
                "home_region": "KZ-75",
                "diagnosis": {"icd10": f"{letter}{number:02d}.1"},
                "observations": {"wbc_10e9_l": 60.0},
            }
            assert bundle.route(patient).step is not None
            timings = latencies(bundle, [patient], 2000)
            rows.append(
                {
                    "protocols": count,
                    "load_validate_compile_s": round(load_s, 3),
                    "route_p50_us": p(timings, 0.5),
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--routes", type=int, default=1_000_000)
    parser.add_argument("--scaling", default="10,100,1000")
    args = parser.parse_args()

    start = time.perf_counter()
    report = pr.validate(ROOT / "protocols")
    validate_s = time.perf_counter() - start
    assert report.ok
    documents = read_documents([ROOT / "protocols"])
    before = rss_mb()
    start = time.perf_counter()
    compiled = compile_documents(documents)
    bundle = pr.Bundle(compiled, make_evaluator("durable", compiled.schema.inputs), report)
    compile_s = time.perf_counter() - start
    bundle_mb = rss_mb() - before

    patients = valid_patients(bundle)
    durable = latencies(bundle, patients, 50)
    reference_bundle = pr.load_bundle(ROOT / "protocols", engine="reference")
    reference = latencies(reference_bundle, patients, 50)

    schema = FactSchema([v.model for v in documents.vocabularies])
    generated = Sourced(generated_protocol(1000), SourceMap("generated.yaml"))
    start = time.perf_counter()
    list(step_guard_issues(generated, schema.inputs))
    overlap_s = time.perf_counter() - start

    for patient in patients * 20:
        bundle.route(patient)
    grown_from = rss_mb()
    for index in range(args.routes):
        bundle.route(patients[index % len(patients)])
    growth = rss_mb() - grown_from

    result = {
        "route_p50_us": p(durable, 0.5),
        "route_p99_us": p(durable, 0.99),
        "reference_p50_us": p(reference, 0.5),
        "route_per_s_1core": round(len(durable) / (sum(durable) / 1e9)),
        "validate_bundle_s": round(validate_s, 3),
        "compile_bundle_s": round(compile_s, 3),
        "overlap_1000_transitions_s": round(overlap_s, 4),
        "rss_mb_bundle": round(bundle_mb, 1),
        "rss_growth_mb_1m_routes": round(growth, 1),
        "routes_for_growth": args.routes,
        "engine_step_p50_us": engine_step(bundle),
        "zen_p50_us": zen_step(),
        "patients": len(patients),
        "scaling": scaling([int(n) for n in args.scaling.split(",") if n]),
    }
    print(json.dumps(result) if args.json else json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
