"""Benchmark FHIR Bundle JSON text -> ``PatientState`` over the example Bundles.

A script, not a timed test: ``python bench/fhir_bench.py [--rounds N] [--json]``. A hospital
service parses one Bundle per decision, so this is the per-request cost in front of
``route()``. Reads every ``examples/fhir/*.json`` (and ``tests/interop/ehr_bundles/*.json``
when present, the EHR-style corpus) as bytes, warms up once, then times
``read_fhir_patient`` (R4B validation included) per Bundle; prints p50/p99 in milliseconds
(``--cpu``: process CPU time instead of wall time, for a machine shared with other work).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from pedonc_routing.interop.fhir import read_fhir_patient

ROOT = Path(__file__).resolve().parent.parent


def load_bundles(include_corpus: bool) -> list[bytes]:
    folders = [ROOT / "examples" / "fhir"]
    if include_corpus:
        folders.append(ROOT / "tests" / "interop" / "ehr_bundles")
    files = sorted(path for folder in folders if folder.is_dir() for path in folder.glob("*.json"))
    return [path.read_bytes() for path in files]


def measure(bundles: list[bytes], rounds: int, cpu: bool = False) -> dict[str, Any]:
    usable = []
    for source in bundles:  # warm up; corpus bundles that are refused on purpose are skipped
        try:
            read_fhir_patient(source, as_of="2026-11-22T09:00:00+05:00")
        except Exception:
            continue
        usable.append(source)
    timings: list[int] = []
    # CPU time of this process: steadier than wall time on a machine shared with other work
    clock = time.process_time_ns if cpu else time.perf_counter_ns
    for _ in range(rounds):
        for source in usable:
            start = clock()
            read_fhir_patient(source, as_of="2026-11-22T09:00:00+05:00")
            timings.append(clock() - start)
    timings.sort()
    return {
        "clock": "cpu" if cpu else "wall",
        "bundles": len(usable),
        "reads": len(timings),
        "p50_ms": round(statistics.median(timings) / 1e6, 3),
        "p99_ms": round(timings[max(int(len(timings) * 0.99) - 1, 0)] / 1e6, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--corpus", action="store_true", help="also the EHR-style test corpus")
    parser.add_argument("--cpu", action="store_true", help="process CPU time, not wall time")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    result = measure(load_bundles(args.corpus), args.rounds, args.cpu)
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{result['bundles']} bundles x {args.rounds} rounds ({result['clock']}): "
            f"p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
        )


if __name__ == "__main__":
    main()
