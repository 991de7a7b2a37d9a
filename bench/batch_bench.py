"""Throughput of ``Bundle.route_many`` (decision objects) and ``route_many_json`` (JSON
lines) with 1 process vs N worker processes.

``python bench/batch_bench.py [--patients N] [--workers W] [--generated K]``: N patients
routed sequentially and with W workers; prints decisions per second for each. The patients are
the example patients repeated to N, or with ``--generated K``, K distinct patients drawn from
:func:`pedonc_routing.testing.strategies.patients` (every protocol, step and override, about
one in five with missing data) repeated to N. Drawing costs a few ms each, so K is kept
smaller than N; the timing covers routing only.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, given, settings

import pedonc_routing as pr
from pedonc_routing.testing.strategies import patients

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--generated", type=int, default=0, metavar="K")
    args = parser.parse_args()
    bundle = pr.load_bundle(ROOT / "protocols")
    source = generated(bundle, args.generated) if args.generated else examples()
    patients = list(itertools.islice(itertools.cycle(source), args.patients))
    results = {}
    for workers in (1, args.workers):
        for kind, method in (("decisions", bundle.route_many), ("json", bundle.route_many_json)):
            start = time.perf_counter()
            count = sum(1 for _ in method(patients, workers=workers, chunksize=500))
            elapsed = time.perf_counter() - start
            results[f"{kind}_workers_{workers}_per_s"] = round(count / elapsed)
    print(json.dumps({"patients": args.patients, "distinct": len(source), **results}))


def examples() -> list[dict[str, Any]]:
    return [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "examples" / "patients").rglob("*.yaml"))
        if path.name != "expected.yaml"
    ]


def generated(bundle: pr.Bundle, count: int) -> list[dict[str, Any]]:
    """``count`` patients from the library's own strategy (valid for any protocol)."""
    drawn: list[dict[str, Any]] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(patients(bundle, allow_missing=True))
    def collect(patient: dict[str, Any]) -> None:
        drawn.append(patient)

    collect()
    return drawn


if __name__ == "__main__":
    main()
