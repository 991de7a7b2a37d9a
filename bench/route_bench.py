"""Benchmark ``Bundle.route()`` on the example patients: durable-rules vs reference evaluator.

A script, not a timed test: ``python bench/route_bench.py [--rounds N] [--json]``. Prints the
median and 99th percentile latency per decision (microseconds) and decisions per second on
one core, for each engine, plus the time to validate + compile the shipped bundle.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import yaml

import pedonc_routing as pr

ROOT = Path(__file__).resolve().parent.parent


def load_patients() -> list[dict[str, Any]]:
    files = sorted((ROOT / "examples" / "patients").glob("[0-9]*.yaml"))
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in files]


def measure(bundle: pr.Bundle, patients: list[dict[str, Any]], rounds: int) -> dict[str, float]:
    for patient in patients:  # warm caches (facility choices, rulesets, pydantic)
        bundle.route(patient)
    timings: list[int] = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for patient in patients:
            start = clock()
            bundle.route(patient)
            timings.append(clock() - start)
    timings.sort()
    total_s = sum(timings) / 1e9
    return {
        "decisions": len(timings),
        "p50_us": round(statistics.median(timings) / 1000, 1),
        "p99_us": round(timings[int(len(timings) * 0.99) - 1] / 1000, 1),
        "per_s_1core": round(len(timings) / total_s),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()

    start = time.perf_counter()
    pr.load_bundle(ROOT / "protocols", engine="reference")
    load_s = time.perf_counter() - start

    patients = load_patients()
    results: dict[str, Any] = {"patients": len(patients), "validate_compile_s": round(load_s, 3)}
    for engine in ("durable", "reference"):
        bundle = pr.load_bundle(ROOT / "protocols", engine=engine)  # type: ignore[arg-type]
        results[engine] = measure(bundle, patients, args.rounds)
    if args.json:
        print(json.dumps(results))
        return
    print(f"validate + compile shipped bundle: {results['validate_compile_s']} s")
    print(f"{'engine':<10} {'decisions':>9} {'p50 us':>8} {'p99 us':>8} {'per s':>8}")
    for engine in ("durable", "reference"):
        row = results[engine]
        print(
            f"{engine:<10} {row['decisions']:>9} {row['p50_us']:>8} {row['p99_us']:>8} "
            f"{row['per_s_1core']:>8}"
        )


if __name__ == "__main__":
    main()
