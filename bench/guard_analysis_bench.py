"""Time the overlap/gap analysis of one step with 10, 100 and 1,000 transitions.

``python bench/guard_analysis_bench.py [--json]``. The generated step partitions
``wbc_10e9_l`` (0-2000, precision 2) into N bins, each also split by ``immunophenotype``
(so guards read two inputs), with no ``otherwise``: the analysis must prove there is no gap
and no overlap. Also times validating the whole shipped bundle.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import pedonc_routing as pr
from pedonc_routing.loader.documents import Sourced, read_documents
from pedonc_routing.model.documents import Protocol
from pedonc_routing.source import SourceMap
from pedonc_routing.validation.guards import step_guard_issues
from pedonc_routing.vocabulary.inputs import FactSchema

ROOT = Path(__file__).resolve().parent.parent


def generated_protocol(transitions: int) -> Protocol:
    width = 2000 / (transitions // 2)
    next_: list[dict[str, Any]] = []
    for index in range(transitions // 2):
        low, high = round(index * width, 2), round((index + 1) * width, 2)
        upper = {"lte": 2000} if index == transitions // 2 - 1 else {"lt": high}
        for lineage in ("B", "T"):
            next_.append(
                {
                    "id": f"bin_{index}_{lineage.lower()}",
                    "to": "done",
                    "because": "generated",
                    "when": {
                        "all": [
                            {"input": "wbc_10e9_l", "gte": low},
                            {"input": "wbc_10e9_l", **upper},
                            {"input": "immunophenotype", "eq": lineage},
                        ]
                    },
                }
            )
    text = {"en": "x", "ru": "x", "kk": "x"}
    care = {"specialist": "pediatrician"}
    return Protocol.model_validate(
        {
            "kind": "protocol",
            "id": "generated",
            "version": "1",
            "status": "draft",
            "title": text,
            "entry": "start",
            "steps": {
                "start": {
                    "kind": "staging",
                    "title": text,
                    "family_info": text,
                    "care": care,
                    "next": next_,
                },
                "done": {"kind": "terminal", "title": text, "family_info": text, "care": care},
            },
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    documents = read_documents([ROOT / "protocols"])
    schema = FactSchema([v.model for v in documents.vocabularies])
    results: dict[str, Any] = {}
    for count in (10, 100, 1000):
        protocol = generated_protocol(count)
        sourced = Sourced(protocol, SourceMap("generated.yaml"))
        start = time.perf_counter()
        issues = list(step_guard_issues(sourced, schema.inputs))
        elapsed = time.perf_counter() - start
        assert not issues, issues[:3]  # a clean partition: no gap, no overlap
        results[f"overlap_gap_{count}_transitions_s"] = round(elapsed, 4)
    start = time.perf_counter()
    report = pr.validate(ROOT / "protocols")
    results["validate_shipped_bundle_s"] = round(time.perf_counter() - start, 3)
    results["shipped_issues"] = len(report.issues)
    if args.json:
        print(json.dumps(results))
    else:
        for key, value in results.items():
            print(f"{key:<40} {value}")


if __name__ == "__main__":
    main()
