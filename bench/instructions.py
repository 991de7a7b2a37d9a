"""Instructions per route, counted by callgrind: a figure that machine load does not move.

``python bench/instructions.py [--engine durable|reference] [--protocols DIR] [--patients DIR]``
runs itself twice under
``valgrind --tool=callgrind``: once loading the shipped bundle and routing every valid example
patient once (the warm-up every run shares), once doing the same and then routing them
``--rounds`` more times. The difference divided by the extra routes is the cost of one
``Bundle.route()``, repeatable to a fraction of a percent for the same code and inputs, so two
versions of the library compare even when wall-clock timings swing by 50 %.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _route_rounds(
    rounds: int, engine: str, protocols: str | None, patients_dir: str | None
) -> None:
    """The measured program: load, warm up, then ``rounds`` passes over the examples."""
    sys.path.insert(0, str(ROOT / "bench"))
    from run import valid_patients

    import pedonc_routing as pr

    bundle = pr.load_bundle(protocols, engine=engine)  # type: ignore[arg-type]
    patients = valid_patients(bundle, Path(patients_dir) if patients_dir else None)
    for _ in range(rounds):
        for patient in patients:
            bundle.route(patient)
    print(len(patients))


def _instructions(rounds: int, engine: str, extra: list[str]) -> tuple[int, int]:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        run = subprocess.run(
            [
                "valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
                sys.executable, __file__, "--child", str(rounds), "--engine", engine, *extra,
            ],
            capture_output=True, text=True, check=True,
            # A fixed hash seed: set and dict orders (and so the work) repeat run to run.
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        totals = re.search(r"^summary: (\d+)", out.read_text(), re.M)
        assert totals is not None, run.stderr[-2000:]
        return int(totals.group(1)), int(run.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--engine", default="durable", choices=["durable", "reference"])
    parser.add_argument("--protocols", default=None, help="a bundle folder (default: shipped)")
    parser.add_argument(
        "--patients", default=None, help="a folder of patient files (default: examples/patients)"
    )
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        _route_rounds(args.child, args.engine, args.protocols, args.patients)
        return
    extra = [f"--{name}={value}" for name, value in
             (("protocols", args.protocols), ("patients", args.patients)) if value]  # fmt: skip
    base, patients = _instructions(0, args.engine, extra)
    total, _ = _instructions(args.rounds, args.engine, extra)
    per_route = (total - base) / (args.rounds * patients)
    print(json.dumps({"engine": args.engine, "patients": patients, "rounds": args.rounds,
                      "instructions_per_route": round(per_route)}))  # fmt: skip


if __name__ == "__main__":
    main()
