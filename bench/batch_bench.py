"""Throughput of ``Bundle.route_many`` (decision objects) and ``route_many_json`` (JSON
lines) with 1 process vs N worker processes.

``python bench/batch_bench.py [--patients N] [--workers W]``: the example patients repeated
to N, routed sequentially and with W workers; prints decisions per second for each.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import yaml

import pedonc_routing as pr

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    examples = [
        yaml.safe_load(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "examples" / "patients").rglob("*.yaml"))
        if path.name != "expected.yaml"
    ]
    patients = list(itertools.islice(itertools.cycle(examples), args.patients))
    bundle = pr.load_bundle(ROOT / "protocols")
    results = {}
    for workers in (1, args.workers):
        for kind, method in (("decisions", bundle.route_many), ("json", bundle.route_many_json)):
            start = time.perf_counter()
            count = sum(1 for _ in method(patients, workers=workers, chunksize=500))
            elapsed = time.perf_counter() - start
            results[f"{kind}_workers_{workers}_per_s"] = round(count / elapsed)
    print(json.dumps({"patients": args.patients, **results}))


if __name__ == "__main__":
    main()
