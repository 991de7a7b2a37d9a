"""The review pack of the largest shipped protocol: build time, PDF time and page count.

``python bench/review_bench.py [--lang ru] [--rounds 3]`` picks the protocol with the most
steps and transitions, builds its HTML pack with the shipped test cases (the median of
``--rounds`` builds), prints it to PDF once through headless Chromium, and prints one JSON
object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import pypdf

import pedonc_routing as pr
from pedonc_routing.analysis.samples import read_cases
from pedonc_routing.render.pdf import print_to_pdf
from pedonc_routing.render.review import ReviewInputs, review_html

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lang", default="ru", choices=["en", "ru", "kk"])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    bundle = pr.load_bundle(engine="reference")

    def size(protocol_id: str) -> int:
        steps = bundle.protocol(protocol_id).steps.values()
        return len(steps) + sum(len(step.next) for step in steps)

    largest = max(bundle.protocol_ids, key=size)
    cases = read_cases([ROOT / "tests" / "cases"])
    timings = []
    html = ""
    for _ in range(args.rounds):
        start = time.perf_counter()
        html = review_html(bundle, largest, args.lang, ReviewInputs(cases=cases))
        timings.append(time.perf_counter() - start)
    with tempfile.TemporaryDirectory() as scratch:
        pdf = Path(scratch) / "pack.pdf"
        start = time.perf_counter()
        print_to_pdf(html, pdf)
        pdf_seconds = time.perf_counter() - start
        pages = len(pypdf.PdfReader(pdf).pages)
    print(json.dumps({
        "protocol": largest,
        "steps_plus_transitions": size(largest),
        "lang": args.lang,
        "html_build_s": round(statistics.median(timings), 3),
        "pdf_print_s": round(pdf_seconds, 2),
        "pages": pages,
        "html_kib": round(len(html.encode()) / 1024),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
