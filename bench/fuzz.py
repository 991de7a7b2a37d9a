"""Fuzz the loader and the validator: mutated shipped protocols and generated YAML.

``python bench/fuzz.py --count 100000 --workers 2 [--seed 1] [--timeout 2.0]``

Each case is one YAML file's bytes, fed through the same steps as ``pr.validate`` (bounded
read, safe YAML, the document models, every cross-file check) together with the unchanged
shipped vocabulary, care catalogue, facilities and routing rules, read once per worker (no
disk I/O per case). Half the cases mutate a shipped file (byte flips, deleted, duplicated or
swapped lines, indentation, renamed keys, swapped value types, unknown ids, huge, negative or
NaN numbers); half are generated YAML (random nested data dumped with ``yaml.safe_dump``,
then sprinkled with YAML tokens and garbage). A case passes when it gives only
:class:`~pedonc_routing.Issue` records with a known code and a position inside its file, no
exception, within the time bound. Prints one JSON object: counts, failures, max time.

The generators take a :class:`random.Random`, so the pytest suite drives the same code with
hypothesis (``st.randoms()``), and this script with seeded generators in worker processes.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pedonc_routing.interop.sarif import RULE_TITLES
from pedonc_routing.issues import Issue
from pedonc_routing.loader.documents import DocumentSet, model_document, read_documents
from pedonc_routing.loader.yaml_reader import read_yaml_bytes
from pedonc_routing.validation.checks import validate_documents

ROOT = Path(__file__).resolve().parent.parent
PROTOCOLS = ROOT / "protocols"

#: The protocol kept in every case's bundle when the case itself is not a protocol, so the
#: cross-file checks (references, coverage, routing) run on every case.
ANCHOR_PROTOCOL = "protocols/febrile_neutropenia.yaml"

# ---------------------------------------------------------------------------------------
# The bundle every case is validated in


@dataclass
class Corpus:
    """The shipped files (bytes) and their modelled documents, read once."""

    files: dict[str, bytes]
    documents: DocumentSet
    by_file: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def shipped(cls) -> Corpus:
        documents = read_documents([PROTOCOLS])
        assert not documents.issues, documents.issues
        files = {
            f"protocols/{path.relative_to(PROTOCOLS).as_posix()}": path.read_bytes()
            for path in sorted(PROTOCOLS.rglob("*.yaml"))
        }
        corpus = cls(files, documents)
        for name in DOCUMENT_LISTS:
            for sourced in getattr(documents, name):
                corpus.by_file[sourced.file] = (name, sourced)
        return corpus

    def context_for(self, file: str) -> DocumentSet:
        """Every shipped document except protocols (but the anchor) and ``file`` itself."""
        documents = DocumentSet()
        for other, (name, sourced) in self.by_file.items():
            if other == file or (name == "protocols" and other != ANCHOR_PROTOCOL):
                continue
            getattr(documents, name).append(sourced)
        return documents


DOCUMENT_LISTS = (
    "vocabularies",
    "care_catalogues",
    "protocols",
    "registries",
    "catchments",
    "links",
    "routing_rules",
)


def validate_case(corpus: Corpus, file: str, raw: bytes) -> list[Issue]:
    """The issues ``pr.validate`` reports for the bundle with ``file`` holding ``raw``."""
    documents = corpus.context_for(file)
    loaded, issues = read_yaml_bytes(raw, file)
    documents.issues.extend(issues)
    if loaded is not None:
        model, model_issues = model_document(loaded)
        documents.issues.extend(model_issues)
        if model is not None:
            documents.add(model, loaded.source_map)
    return [*documents.issues, *validate_documents(documents)]


def line_count(raw: bytes) -> int:
    """Lines as YAML counts them: U+2028, U+2029, NEL and CR break lines too (a generated
    case with U+2028 once looked like an issue past the last line)."""
    return len(raw.decode("utf-8", errors="replace").splitlines()) + 1


def bad_issues(corpus: Corpus, file: str, raw: bytes, issues: list[Issue]) -> list[str]:
    """Why these issues break the contract (empty when they keep it)."""
    problems = []
    for issue in issues:
        if not isinstance(issue, Issue):
            problems.append(f"not an Issue: {issue!r}")
            continue
        if issue.code not in RULE_TITLES:
            problems.append(f"unknown code: {issue}")
        if issue.severity not in ("error", "warning"):
            problems.append(f"unknown severity: {issue}")
        if issue.line < 1 or issue.column < 1:
            problems.append(f"position below 1: {issue}")
        if issue.file == file:
            limit = line_count(raw) + 1  # the end-of-stream mark may sit past the last line
        elif issue.file in corpus.files:
            limit = line_count(corpus.files[issue.file]) + 1
        elif issue.file == "bundle":  # S003: the bundle as a whole
            limit = 1
        else:
            problems.append(f"unknown file: {issue}")
            continue
        if issue.line > limit:
            problems.append(f"line past the end of the file ({limit}): {issue}")
    return problems


# ---------------------------------------------------------------------------------------
# Mutations of the shipped files

UNKNOWN_IDS = ["nonexistent_step", "KZ-99", "no_such_protocol", "ghost_facility", "x", ""]
STRANGE_NUMBERS = [
    "1e309",
    "-1e309",
    ".nan",
    ".NaN",
    ".inf",
    "-.inf",
    "-1",
    "-0",
    "0",
    "99999999999999999999999",
    "1e-320",
    "0x7fffffffffffffff",
    "-2147483649",
    "1_000",
    "0o777",
    "1.5e+16",
    "12345678.123456",
]
SCALAR_SWAPS = [
    "[]",
    "{}",
    "[1, 2]",
    "{a: 1}",
    "null",
    "~",
    "true",
    "no",
    "1",
    "-3.5",
    '""',
    "''",
    "'x'",
    "2026-02-30",
    "2026-11-22T09:00:00+05:00",
    "9999-12-31",
    "|\n  text",
    ">-\n  folded",
]
NUMBER = re.compile(rb"(?<![\w.])-?\d+(\.\d+)?(?![\w.])")
KEY = re.compile(rb"^(\s*-?\s*)([A-Za-z_][A-Za-z0-9_]*)(:)", re.MULTILINE)
VALUE = re.compile(rb"^(\s*-?\s*[A-Za-z_][A-Za-z0-9_]*: )(\S[^\n]*)$", re.MULTILINE)
IDENTIFIER_VALUE = re.compile(rb"((?:to|entry|id|input|protocol|step|region|facility): )(\w+)")


def _lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\n")


def flip_bytes(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        if data:
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def delete_line(rng: random.Random, raw: bytes) -> bytes:
    lines = _lines(raw)
    del lines[rng.randrange(len(lines))]
    return b"\n".join(lines)


def duplicate_line(rng: random.Random, raw: bytes) -> bytes:
    lines = _lines(raw)
    index = rng.randrange(len(lines))
    lines.insert(index, lines[index])
    return b"\n".join(lines)


def swap_lines(rng: random.Random, raw: bytes) -> bytes:
    lines = _lines(raw)
    first, second = rng.randrange(len(lines)), rng.randrange(len(lines))
    lines[first], lines[second] = lines[second], lines[first]
    return b"\n".join(lines)


def change_indent(rng: random.Random, raw: bytes) -> bytes:
    lines = _lines(raw)
    index = rng.randrange(len(lines))
    line = lines[index]
    if rng.random() < 0.5:
        lines[index] = b" " * rng.choice([1, 2, 3, 4, 8]) + line
    else:
        lines[index] = line[rng.randint(1, 4) :] if line.startswith(b" ") else b"\t" + line
    return b"\n".join(lines)


def _replace_match(
    rng: random.Random,
    raw: bytes,
    pattern: re.Pattern[bytes],
    group: int,
    make: Callable[[bytes], bytes],
) -> bytes:
    matches = list(pattern.finditer(raw))
    if not matches:
        return raw
    match = rng.choice(matches)
    return raw[: match.start(group)] + make(match.group(group)) + raw[match.end(group) :]


def rename_key(rng: random.Random, raw: bytes) -> bytes:
    def renamed(key: bytes) -> bytes:
        choice = rng.randrange(4)
        if choice == 0 and len(key) > 1:  # a typo
            cut = rng.randrange(len(key))
            return key[:cut] + key[cut + 1 :]
        if choice == 1:
            return key.upper()
        if choice == 2:
            return key + b"_x"
        return rng.choice([b"kind", b"id", b"steps", b"next", b"when", b"to", b"all", b"any"])

    return _replace_match(rng, raw, KEY, 2, renamed)


def swap_value_type(rng: random.Random, raw: bytes) -> bytes:
    return _replace_match(rng, raw, VALUE, 2, lambda _: rng.choice(SCALAR_SWAPS).encode())


def unknown_id(rng: random.Random, raw: bytes) -> bytes:
    return _replace_match(rng, raw, IDENTIFIER_VALUE, 2, lambda _: rng.choice(UNKNOWN_IDS).encode())


def strange_number(rng: random.Random, raw: bytes) -> bytes:
    return _replace_match(rng, raw, NUMBER, 0, lambda _: rng.choice(STRANGE_NUMBERS).encode())


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "flip_bytes": flip_bytes,
    "delete_line": delete_line,
    "duplicate_line": duplicate_line,
    "swap_lines": swap_lines,
    "change_indent": change_indent,
    "rename_key": rename_key,
    "swap_value_type": swap_value_type,
    "unknown_id": unknown_id,
    "strange_number": strange_number,
}


def mutated_case(rng: random.Random, corpus: Corpus) -> tuple[str, bytes, list[str]]:
    """A shipped file with 1-3 mutations: (file name, bytes, the mutations applied)."""
    file = rng.choice(sorted(corpus.files))
    raw = corpus.files[file]
    applied = []
    for _ in range(rng.randint(1, 3)):
        name = rng.choice(sorted(MUTATIONS))
        raw = MUTATIONS[name](rng, raw)
        applied.append(name)
    return file, raw, applied


# ---------------------------------------------------------------------------------------
# Generated YAML documents

KINDS = [
    "protocol",
    "vocabulary",
    "care_catalogue",
    "facility_registry",
    "catchments",
    "referral_links",
    "routing_rules",
]
KEYS = [
    "kind",
    "id",
    "version",
    "title",
    "status",
    "entry",
    "steps",
    "next",
    "to",
    "when",
    "otherwise",
    "because",
    "all",
    "any",
    "not",
    "input",
    "eq",
    "lt",
    "gte",
    "between",
    "in",
    "inputs",
    "applies_to",
    "care",
    "specialist",
    "timing",
    "sources",
    "en",
    "ru",
    "kk",
    "facilities",
    "region",
    "level",
    "capabilities",
    "type",
    "range",
    "unit",
    "overrides",
]
#: YAML indicators, anchors, tags, directives, BOM, separators, odd whitespace, emoji.
TOKENS = [
    *"[]{}:,|>\"'#\t\\@`%",
    ": ",
    "- ",
    "&a ",
    "*a",
    "!tag ",
    "!!python/name:os.system ",
    "? ",
]
TOKENS += ["%YAML 1.1\n", "---\n", "...\n", "<<: ", "\u00e9", "\u2028", "\ufeff", "\U0001f600"]
TOKENS += ["\n", "  "]


def random_scalar(rng: random.Random) -> Any:
    choice = rng.randrange(9)
    if choice == 0:
        return rng.randint(-(10**20), 10**20)
    if choice == 1:
        return rng.choice([0.0, -1.5, 1e300, float("nan"), float("inf"), 3.25])
    if choice == 2:
        return rng.choice([True, False, None])
    if choice == 3:
        return rng.choice(KINDS + UNKNOWN_IDS)
    if choice == 4:
        return "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randrange(12)))
    return rng.choice(KEYS)


def random_data(rng: random.Random, depth: int = 0) -> Any:
    if depth > 6 or rng.random() < 0.3:
        return random_scalar(rng)
    if rng.random() < 0.5:
        return [random_data(rng, depth + 1) for _ in range(rng.randrange(5))]
    keys = [
        rng.choice(KEYS) if rng.random() < 0.8 else random_scalar(rng)
        for _ in range(rng.randrange(6))
    ]
    return {key: random_data(rng, depth + 1) for key in keys if not isinstance(key, float)}


def sprinkle(rng: random.Random, text: str) -> str:
    for _ in range(rng.randrange(4)):
        where = rng.randrange(len(text) + 1)
        text = text[:where] + rng.choice(TOKENS) + text[where:]
    return text


def generated_case(rng: random.Random, corpus: Corpus) -> tuple[str, bytes, list[str]]:
    """A generated YAML file, sometimes a document of a real kind, sometimes garbled."""
    data = random_data(rng)
    if rng.random() < 0.6:
        data = {"kind": rng.choice(KINDS), **(data if isinstance(data, dict) else {"x": data})}
    text = yaml.safe_dump(
        data, allow_unicode=rng.random() < 0.5, default_flow_style=rng.choice([None, True, False])
    )
    applied = ["generated"]
    if rng.random() < 0.5:
        text = sprinkle(rng, text)
        applied.append("sprinkled")
    file = rng.choice(["protocols/generated.yaml", *sorted(corpus.files)])
    return file, text.encode("utf-8", errors="surrogatepass"), applied


# ---------------------------------------------------------------------------------------
# Running cases


@dataclass(frozen=True)
class Outcome:
    """One case's result: the failure text (None when the contract held) and the time."""

    kind: str
    seconds: float
    codes: tuple[str, ...]
    failure: str | None


def run_case(corpus: Corpus, seed: int, timeout: float) -> Outcome:
    rng = random.Random(seed)
    make = mutated_case if seed % 2 == 0 else generated_case
    file, raw, applied = make(rng, corpus)
    start = time.perf_counter()
    try:
        issues = validate_case(corpus, file, raw)
    except Exception:
        return Outcome(
            make.__name__,
            time.perf_counter() - start,
            (),
            f"seed {seed} {applied} {file}: {traceback.format_exc(limit=6)}",
        )
    seconds = time.perf_counter() - start
    problems = bad_issues(corpus, file, raw, issues)
    if seconds > timeout:
        problems.append(f"took {seconds:.2f} s")
    failure = f"seed {seed} {applied} {file}: {problems[:3]}" if problems else None
    return Outcome(make.__name__, seconds, tuple(sorted({i.code for i in issues})), failure)


_corpus: Corpus | None = None


def _init() -> None:
    global _corpus
    _corpus = Corpus.shipped()


def _run_chunk(args: tuple[range, float]) -> list[Outcome]:
    seeds, timeout = args
    assert _corpus is not None
    return [run_case(_corpus, seed, timeout) for seed in seeds]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0, help="first case seed")
    parser.add_argument("--timeout", type=float, default=2.0, help="seconds per case")
    args = parser.parse_args()

    chunk = 500
    chunks = [
        (range(start, min(start + chunk, args.seed + args.count)), args.timeout)
        for start in range(args.seed, args.seed + args.count, chunk)
    ]
    started = time.perf_counter()
    kinds: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    failures: list[str] = []
    slowest = 0.0
    with ProcessPoolExecutor(max_workers=args.workers, initializer=_init) as pool:
        for outcomes in pool.map(_run_chunk, chunks):
            for outcome in outcomes:
                kinds[outcome.kind] += 1
                codes.update(outcome.codes)
                slowest = max(slowest, outcome.seconds)
                if outcome.failure is not None:
                    failures.append(outcome.failure)
    result = {
        "cases": sum(kinds.values()),
        "mutated": kinds["mutated_case"],
        "generated": kinds["generated_case"],
        "failures": len(failures),
        "max_case_s": round(slowest, 3),
        "elapsed_s": round(time.perf_counter() - started, 1),
        "workers": args.workers,
        "seeds": [args.seed, args.seed + args.count - 1],
        "codes": dict(sorted(codes.items())),
        "first_failures": failures[:10],
    }
    print(json.dumps(result, indent=2))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
