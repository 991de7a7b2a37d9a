"""Hostile YAML through the public ``pr.validate(path)``: each file is refused with the right
code and a short, clear message, within a wall-time bound (2 s) and a peak-memory bound
(tracemalloc, 200 MB), and a huge file is refused without being read.

Bounds are generous for a noisy 2-core CI machine; docs/performance.md has measured figures.
"""

from __future__ import annotations

import os
import random
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

import pedonc_routing as pr
from pedonc_routing.loader.yaml_reader import MAX_FILE_BYTES, MAX_NODES

# A bound against hangs, not a benchmark: each input takes at most 0.35 s on an idle machine
# (docs/performance.md); 4.3 s was seen with both cores busy, so the bound leaves room.
SECONDS = 10.0
PEAK_MB = 200.0


def laughs() -> str:
    """The classic billion-laughs bomb: 9 levels of 10 aliases each."""
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, 10):
        refs = ", ".join(f"*lol{level - 1}" for _ in range(10))
        lines.append(f"lol{level}: &lol{level} [{refs}]")
    return "\n".join(lines) + "\n"


def quiet_expansion() -> str:
    """16 aliases (the allowed number) that would expand 1,000 items 256-fold."""
    lines = ["a0: &a0 [" + ", ".join("1" for _ in range(1000)) + "]"]
    lines += [f"a{level}: &a{level} [*a{level - 1}, *a{level - 1}]" for level in range(1, 9)]
    return "\n".join(lines) + "\n"


def block_nesting(depth: int) -> str:
    return "".join(" " * (2 * level) + "a:\n" for level in range(depth)) + " " * (2 * depth) + "1\n"


HOSTILE: dict[str, tuple[Callable[[], bytes], str, str]] = {
    # name: (file bytes, expected code, words the message must contain)
    "seq nesting 10^6 (flow)": (lambda: b"[" * 10**6, "Y005", "nesting deeper than 64"),
    "map nesting 10^6 (flow)": (lambda: b"{a: " * 10**6, "Y005", "nesting deeper than 64"),
    "seq nesting 10^6 (block)": (lambda: b"- " * 10**6 + b"x\n", "Y005", "nesting deeper"),
    "map nesting 2,000 (block)": (lambda: block_nesting(2000).encode(), "Y005", "nesting"),
    "billion laughs": (lambda: laughs().encode(), "Y004", "more than 16 aliases"),
    "256-fold alias expansion": (
        lambda: quiet_expansion().encode(),
        "Y006",
        f"more than {MAX_NODES} YAML nodes",
    ),
    "binary garbage": (lambda: random.Random(7).randbytes(1 << 16), "Y008", "not UTF-8"),
    "NUL bytes": (lambda: b"kind: protocol\n\x00\x00\n", "Y008", "NUL byte"),
    "UTF-16": (lambda: "kind: protocol\nid: all\n".encode("utf-16"), "Y008", "not UTF-8"),
    "control character": (lambda: b"kind: protocol\nid: a\x1bb\n", "Y001", "U+001B"),
    "python/object/apply": (
        lambda: b'kind: !!python/object/apply:os.system ["echo pwned"]\n',
        "Y003",
        "python/object/apply:os.system",
    ),
    "python/name": (lambda: b"kind: !!python/name:os.system x\n", "Y003", "python/name"),
    "custom tag": (lambda: b"kind: !protocol x\n", "Y003", "'!protocol' is not allowed"),
    "huge single scalar": (
        lambda: b"kind: " + b"a" * (MAX_FILE_BYTES - 16) + b"\n",
        "S002",
        "unknown document kind",
    ),
    "million-item flat list": (
        lambda: b"- 1\n" * (MAX_FILE_BYTES // 4 - 1),
        "Y006",
        f"more than {MAX_NODES} YAML nodes",
    ),
    "two million-item flow list": (
        lambda: b"[" + b"1," * (MAX_FILE_BYTES // 2 - 2) + b"1]",
        "Y006",
        f"more than {MAX_NODES} YAML nodes",
    ),
}


def measured(path: Path) -> tuple[pr.ValidationReport, float, float]:
    """The report, wall seconds, and peak traced memory in MB of ``pr.validate(path)``.

    Timed and traced in two runs: tracing slows allocation-heavy code several-fold.
    """
    start = time.perf_counter()
    report = pr.validate(path)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    try:
        pr.validate(path)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()
    return report, seconds, peak


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_file_is_refused_quickly_and_clearly(name: str, tmp_path: Path) -> None:
    make, code, words = HOSTILE[name]
    path = tmp_path / "hostile.yaml"
    path.write_bytes(make())
    report, seconds, peak = measured(path)
    own = [issue for issue in report.issues if issue.file == path.as_posix()]
    assert [issue.code for issue in own if issue.severity == "error"][:1] == [code], own
    assert words in own[0].message
    assert len(own[0].message) <= 300  # clear: never an echo of the hostile content
    assert own[0].line >= 1
    assert own[0].column >= 1
    assert not report.ok
    assert seconds < SECONDS, f"{name}: {seconds:.2f} s"
    assert peak < PEAK_MB, f"{name}: {peak:.0f} MB"


def test_hundred_megabyte_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as stream:  # sparse: instant, no disk space used
        stream.truncate(100 * 1024 * 1024)
    report, seconds, peak = measured(path)
    assert [(issue.code, issue.message) for issue in report.issues] == [
        ("Y006", f"file larger than {MAX_FILE_BYTES} bytes")
    ]
    assert seconds < 0.5
    assert peak < 1.0  # a read of the whole file would need 100 MB


def test_a_file_growing_after_stat_is_read_only_up_to_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stat says small but the file is 100 MB (it grew): the read itself is bounded."""
    path = tmp_path / "growing.yaml"
    with path.open("wb") as stream:
        stream.truncate(100 * 1024 * 1024)
    real_stat = Path.stat

    def small_stat(self: Path, **kwargs: bool) -> os.stat_result:
        result = real_stat(self, **kwargs)
        if self.name != "growing.yaml":
            return result
        fields = list(result)
        fields[6] = 10  # st_size
        return os.stat_result(fields)

    monkeypatch.setattr(Path, "stat", small_stat)
    report, _, peak = measured(path)
    assert [issue.code for issue in report.issues] == ["Y006"]
    assert peak < 3 * MAX_FILE_BYTES / 2**20  # at most the bound (+1 byte) was read


def test_control_character_regression_from_fuzzing(tmp_path: Path) -> None:
    """bench/fuzz.py found a flipped byte giving a control character: a ReaderError escaped
    ``pr.validate`` as a traceback. It is Y001 at the character now."""
    path = tmp_path / "flipped.yaml"
    path.write_bytes(b"kind: protocol\nid: all\ntitle: x\x0ey\n")
    report = pr.validate(path)
    first = report.issues[0]
    assert (first.code, first.line, first.column) == ("Y001", 3, 9)
    assert first.message == "character U+000E is not allowed in YAML"
