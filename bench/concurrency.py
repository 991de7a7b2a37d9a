"""Concurrency soak: many threads sharing one bundle, and hot reload under load.

``python bench/concurrency.py [--threads 8] [--per-thread 100000] [--reloads 100]``

1. ``shared``: ``--threads`` threads each route ``--per-thread`` decisions over the valid
   example patients with one shared bundle (durable-rules engine); every decision must equal
   the one the same bundle gives single-threaded.
2. ``reload``: the same threads route through a :class:`pedonc_routing.Router` while the
   main thread swaps the bundle ``--reloads`` times between two versions (the shipped
   protocols and a copy with the NCI WBC threshold moved from 50 to 10, which changes
   decisions); every decision must equal the decision of the bundle whose hash it records.

Prints one JSON object; exits 1 on any mismatch or error.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from run import valid_patients  # bench/run.py: the same patients as the benchmark

import pedonc_routing as pr

ROOT = Path(__file__).resolve().parent.parent
PROTOCOLS = ROOT / "protocols"


def changed_threshold(root: Path) -> Path:
    """The shipped protocols with the NCI WBC threshold moved from 50 to 10."""
    shutil.copytree(PROTOCOLS, root)
    path = root / "all.yaml"
    text = path.read_text(encoding="utf-8")
    assert "{input: wbc_10e9_l, lt: 50}" in text
    path.write_text(text.replace("{input: wbc_10e9_l, lt: 50}", "{input: wbc_10e9_l, lt: 10}"))
    return root


@dataclass
class Tally:
    """What the routing threads saw."""

    decisions: int = 0
    mismatches: int = 0
    errors: list[str] = field(default_factory=list)
    hashes: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, decisions: int, mismatches: int, hashes: set[str]) -> None:
        with self.lock:
            self.decisions += decisions
            self.mismatches += mismatches
            self.hashes |= hashes


def run_threads(threads: int, work: Callable[[int], None]) -> float:
    """Start ``threads`` threads on ``work(offset)`` together; the wall seconds they took."""
    barrier = threading.Barrier(threads + 1)

    def body(offset: int) -> None:
        barrier.wait()
        work(offset)

    pool = [threading.Thread(target=body, args=(offset,)) for offset in range(threads)]
    for thread in pool:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in pool:
        thread.join()
    return time.perf_counter() - start


def shared_bundle(
    bundle: pr.Bundle, patients: list[dict[str, Any]], threads: int, per_thread: int
) -> dict[str, Any]:
    expected = [bundle.route(patient).to_dict() for patient in patients]
    tally = Tally()

    def work(offset: int) -> None:
        mismatches = 0
        try:
            for count in range(per_thread):
                index = (count * (offset + 1) + offset * 31) % len(patients)
                if bundle.route(patients[index]).to_dict() != expected[index]:
                    mismatches += 1
        except Exception as error:  # reported, and fails the run
            tally.errors.append(repr(error))
        tally.add(per_thread, mismatches, set())

    seconds = run_threads(threads, work)
    return {
        "threads": threads,
        "decisions": tally.decisions,
        "seconds": round(seconds, 1),
        "decisions_per_s": round(tally.decisions / seconds),
        "mismatches": tally.mismatches,
        "errors": tally.errors[:5],
    }


def reload_under_load(
    patients: list[dict[str, Any]], threads: int, reloads: int, folder: Path, pause: float = 0
) -> dict[str, Any]:
    """``pause``: seconds each routing thread sleeps between decisions (0: flat out, which
    leaves the reloading thread ~1/(threads+1) of the GIL, so each reload takes ~9x longer)."""
    roots = [PROTOCOLS, changed_threshold(folder / "changed")]
    expected: dict[str, list[dict[str, Any]]] = {}
    for root in roots:
        bundle = pr.load_bundle(root)
        expected[bundle.content_hash] = [bundle.route(patient).to_dict() for patient in patients]
    # (every decision differs in its hash and explanation sources: count changed steps)
    differing = sum(
        (first["status"], first["step"]) != (second["status"], second["step"])
        for first, second in zip(*expected.values(), strict=True)
    )
    router = pr.Router(pr.load_bundle(roots[0]))
    tally = Tally()
    stop = threading.Event()

    def work(offset: int) -> None:
        count = mismatches = 0
        hashes: set[str] = set()
        try:
            while not stop.is_set():
                index = (count * (offset + 1) + offset * 31) % len(patients)
                decision = router.route(patients[index]).to_dict()
                hashes.add(decision["bundle_hash"])
                if decision != expected[decision["bundle_hash"]][index]:
                    mismatches += 1
                count += 1
                if pause:
                    time.sleep(pause)
        except Exception as error:  # reported, and fails the run
            tally.errors.append(repr(error))
        tally.add(count, mismatches, hashes)

    pool = [threading.Thread(target=work, args=(offset,)) for offset in range(threads)]
    for thread in pool:
        thread.start()
    start = time.perf_counter()
    for number in range(reloads):
        router.reload(roots[(number + 1) % 2])
    stop.set()
    for thread in pool:
        thread.join()
    seconds = time.perf_counter() - start
    return {
        "threads": threads,
        "reloads": reloads,
        "decisions": tally.decisions,
        "seconds": round(seconds, 1),
        "patients_whose_decision_differs_between_versions": differing,
        "bundle_hashes_seen": len(tally.hashes),
        "mismatches": tally.mismatches,
        "errors": tally.errors[:5],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--per-thread", type=int, default=100_000)
    parser.add_argument("--reloads", type=int, default=100)
    args = parser.parse_args()
    bundle = pr.load_bundle(PROTOCOLS)
    patients = valid_patients(bundle)
    shared = shared_bundle(bundle, patients, args.threads, args.per_thread)
    with tempfile.TemporaryDirectory() as folder:
        reload = reload_under_load(patients, args.threads, args.reloads, Path(folder))
    result = {
        "engine": bundle.engine,
        "patients": len(patients),
        "shared": shared,
        "reload": reload,
    }
    print(json.dumps(result, indent=2))
    failed = any(part["mismatches"] or part["errors"] for part in (shared, reload))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
