"""The safe YAML reader (loader/yaml_reader.py): 1-based positions, duplicate keys, refused
tags, alias bombs, deep nesting, oversize / binary / non-UTF-8 files, syntax errors, empty
files. Every problem is an Issue with a code and position, never an exception.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pedonc_routing.issues import Issue
from pedonc_routing.loader.yaml_reader import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_INT_CHARS,
    read_yaml_file,
    read_yaml_text,
)


def codes(issues: list[Issue]) -> list[str]:
    return [issue.code for issue in issues]


def test_positions_are_one_based() -> None:
    text = "kind: vocabulary\ninputs:\n  wbc:\n    type: number\n    range: [0, 10]\n"
    loaded, issues = read_yaml_text(text, "f.yaml")
    assert issues == []
    assert loaded is not None
    spans = loaded.source_map
    # the root mapping starts at the very first character
    assert (spans.span(()).line, spans.span(()).column) == (1, 1)
    # "vocabulary" starts at column 7 of line 1
    assert (spans.span(("kind",)).line, spans.span(("kind",)).column) == (1, 7)
    # the key "wbc" sits at line 3, column 3
    key = spans.key_span(("inputs", "wbc"))
    assert (key.line, key.column) == (3, 3)
    # the value mapping of wbc starts at its first key: line 4, column 5
    value = spans.span(("inputs", "wbc"))
    assert (value.line, value.column) == (4, 5)
    # second item of the flow sequence: "10" at column 16 of line 5
    item = spans.span(("inputs", "wbc", "range", 1))
    assert (item.line, item.column) == (5, 16)
    assert item.file == "f.yaml"


def test_missing_path_falls_back_to_nearest_ancestor() -> None:
    loaded, _ = read_yaml_text("a:\n  b: 1\n", "f.yaml")
    assert loaded is not None
    span = loaded.source_map.span(("a", "nope", 3))
    assert (span.line, span.column) == (2, 3)


def test_duplicate_key_reported_at_second_key() -> None:
    text = "a: 1\nb:\n  c: 2\n  d: 0\n  c: 3\n"
    loaded, issues = read_yaml_text(text, "dup.yaml")
    assert codes(issues) == ["Y002"]
    issue = issues[0]
    assert (issue.file, issue.line, issue.column) == ("dup.yaml", 5, 3)
    assert "'c'" in issue.message
    assert "line 3" in issue.message  # where the first one is
    # the first value is kept, the data stays usable
    assert loaded is not None
    assert loaded.data == {"a": 1, "b": {"c": 2, "d": 0}}


def test_duplicate_key_in_flow_mapping() -> None:
    _, issues = read_yaml_text("x: {k: 1, k: 2}\n", "f.yaml")
    assert [(i.code, i.line, i.column) for i in issues] == [("Y002", 1, 11)]


@pytest.mark.parametrize(
    "text",
    [
        "a: !!python/object:os.system {}\n",
        "a: !!python/object/apply:os.system ['echo hi']\n",
        "a: !!python/name:os.system\n",
        "a: !custom value\n",
    ],
)
def test_tags_are_refused(text: str) -> None:
    loaded, issues = read_yaml_text(text, "t.yaml")
    assert loaded is None
    assert codes(issues) == ["Y003"]
    assert (issues[0].line, issues[0].column) == (1, 4)


def test_standard_tag_is_allowed() -> None:
    loaded, issues = read_yaml_text("a: !!str 12\n", "t.yaml")
    assert issues == []
    assert loaded is not None
    assert loaded.data == {"a": "12"}


def test_merge_key_is_refused() -> None:
    loaded, issues = read_yaml_text("base: &b {x: 1}\nother:\n  <<: *b\n", "m.yaml")
    assert loaded is None
    assert codes(issues) == ["Y003"]


def test_a_few_aliases_are_fine() -> None:
    text = "a: &v [1, 2]\nb: *v\nc: *v\n"
    loaded, issues = read_yaml_text(text, "f.yaml")
    assert issues == []
    assert loaded is not None
    assert loaded.data["c"] == [1, 2]


def test_alias_bomb_is_refused_at_the_first_alias_over_the_bound() -> None:
    # billion laughs: 9 aliases on line 2, the 17th alias is the 8th "*b" on line 3
    row = ",".join(['"lol"'] * 9)
    text = (
        f"a: &a [{row}]\n"
        "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
        "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
        "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
        "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    )
    assert MAX_ALIASES == 16
    start = time.perf_counter()
    loaded, issues = read_yaml_text(text, "bomb.yaml")
    assert time.perf_counter() - start < 2
    assert loaded is None
    assert codes(issues) == ["Y004"]
    # "c: &c [" is 7 characters; the k-th "*b" starts at column 8 + 3 * (k - 1)
    assert (issues[0].line, issues[0].column) == (3, 8 + 3 * (8 - 1))


def test_sixteen_aliases_are_allowed_seventeen_are_not() -> None:
    sixteen = "a: &a 1\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]\n"
    loaded, issues = read_yaml_text(sixteen, "f.yaml")
    assert issues == []
    assert loaded is not None
    assert loaded.data["b"] == [1] * MAX_ALIASES
    seventeen = "a: &a 1\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    _, issues = read_yaml_text(seventeen, "f.yaml")
    assert codes(issues) == ["Y004"]


def test_deep_nesting_is_refused_quickly() -> None:
    start = time.perf_counter()
    loaded, issues = read_yaml_text("[" * 100_000, "deep.yaml")
    assert time.perf_counter() - start < 5
    assert loaded is None
    assert codes(issues) == ["Y005"]
    # the node one level too deep is the (MAX_DEPTH + 1)-th "[" on line 1
    assert (issues[0].line, issues[0].column) == (1, MAX_DEPTH + 1)


def test_nesting_at_the_bound_is_allowed() -> None:
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    loaded, issues = read_yaml_text(text, "f.yaml")
    assert issues == []
    assert loaded is not None


def test_deep_block_nesting_is_refused(tmp_path: Path) -> None:
    lines = [" " * depth + f"k{depth}:" for depth in range(200)]
    path = tmp_path / "deep.yaml"
    path.write_text("\n".join(lines) + " 1\n", encoding="utf-8")
    loaded, issues = read_yaml_file(path, "deep.yaml")
    assert loaded is None
    assert codes(issues) == ["Y005"]


def test_oversize_file_is_refused_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.yaml"
    chunk = b"key: value\n" * 1024
    with path.open("wb") as handle:
        while handle.tell() < 5 * 1024 * 1024:
            handle.write(chunk)
    assert path.stat().st_size > MAX_FILE_BYTES

    def refuse(self: Path, *args: object, **kwargs: object) -> bytes:
        raise AssertionError(f"read {self}: the size check must come first")

    for method in ("open", "read_bytes", "read_text"):
        monkeypatch.setattr(Path, method, refuse)
    loaded, issues = read_yaml_file(path, "big.yaml")
    assert loaded is None
    assert [(i.code, i.file, i.line, i.column) for i in issues] == [("Y006", "big.yaml", 1, 1)]


def test_oversize_text_is_refused() -> None:
    loaded, issues = read_yaml_text("# " + "x" * MAX_FILE_BYTES + "\n", "big.yaml")
    assert loaded is None
    assert codes(issues) == ["Y006"]


def test_nul_byte_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"a: 1\n\x00\x01\x02b: 2\n")
    loaded, issues = read_yaml_file(path, "bin.yaml")
    assert loaded is None
    assert codes(issues) == ["Y008"]


def test_non_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("title: Café\n".encode("latin-1"))
    loaded, issues = read_yaml_file(path, "latin1.yaml")
    assert loaded is None
    assert codes(issues) == ["Y008"]
    assert "UTF-8" in issues[0].message


def test_utf8_text_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text("title: {ru: Острый лейкоз, kk: Жедел}\n", encoding="utf-8")
    loaded, issues = read_yaml_file(path, "ok.yaml")
    assert issues == []
    assert loaded is not None
    assert loaded.data == {"title": {"ru": "Острый лейкоз", "kk": "Жедел"}}


def test_missing_file_is_an_issue(tmp_path: Path) -> None:
    loaded, issues = read_yaml_file(tmp_path / "absent.yaml", "absent.yaml")
    assert loaded is None
    assert codes(issues) == ["Y008"]


def test_syntax_error_has_line_and_column() -> None:
    loaded, issues = read_yaml_text("a: [1, 2\nb: 3\n", "bad.yaml")
    assert loaded is None
    assert codes(issues) == ["Y001"]
    # the unclosed flow sequence fails at the ":" after "b" (line 2, column 2)
    assert (issues[0].line, issues[0].column) == (2, 2)
    assert issues[0].message.startswith("YAML syntax")


def test_bad_indentation_is_a_syntax_error() -> None:
    _, issues = read_yaml_text("a: 1\n  b: 2\n", "bad.yaml")
    assert [(i.code, i.line) for i in issues] == [("Y001", 2)]


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n"])
def test_empty_file(text: str) -> None:
    loaded, issues = read_yaml_text(text, "empty.yaml")
    assert loaded is None
    assert [(i.code, i.line, i.column) for i in issues] == [("Y001", 1, 1)]


def test_explicit_empty_document_is_null_data() -> None:
    # "---" alone is a document holding null: the reader returns it, and the document
    # layer reports "a document must be a mapping" (S001, see the conformance corpus)
    loaded, issues = read_yaml_text("---\n", "null.yaml")
    assert issues == []
    assert loaded is not None
    assert loaded.data is None


def test_multiple_documents_are_a_syntax_error() -> None:
    loaded, issues = read_yaml_text("a: 1\n---\nb: 2\n", "multi.yaml")
    assert loaded is None
    assert codes(issues) == ["Y001"]


def test_complex_key_is_reported() -> None:
    loaded, issues = read_yaml_text("? [a, b]\n: 1\nc: 2\n", "k.yaml")
    assert codes(issues) == ["Y007"]
    assert loaded is not None
    assert loaded.data == {"c": 2}


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ('a: !!timestamp "abc"\n', "timestamp"),  # AttributeError inside PyYAML
        ('a: !!float ""\n', "float"),  # IndexError
        ('a: !!int ""\n', "int"),  # IndexError
        ('a: !!bool "abc"\n', "bool"),  # KeyError
        ("a: 2001-12-14 99:00:00\n", "timestamp"),  # ValueError: hour out of range
    ],
)
def test_tagged_text_unlike_its_type_is_y001_at_the_value(text: str, kind: str) -> None:
    # these used to escape read_yaml_text as tracebacks (or report a ValueError at 1:1)
    loaded, issues = read_yaml_text(text, "v.yaml")
    assert loaded is None
    assert [(i.code, i.line, i.column) for i in issues] == [("Y001", 1, 4)]
    assert f"is not a valid {kind}" in issues[0].message


def test_a_huge_sexagesimal_integer_is_refused_quickly() -> None:
    # "1:59:59:..." is a YAML 1.1 int built by repeated bigint products: 4 MiB of it took
    # about ten minutes before integers were bounded
    text = "a: 1" + ":59" * ((MAX_FILE_BYTES - 8) // 3) + "\n"
    start = time.perf_counter()
    loaded, issues = read_yaml_text(text, "big.yaml")
    assert time.perf_counter() - start < 5
    assert loaded is None
    assert [(i.code, i.line, i.column) for i in issues] == [("Y001", 1, 4)]
    assert f"longer than {MAX_INT_CHARS} characters" in issues[0].message


def test_spans_inside_aliased_content_point_into_the_anchored_text() -> None:
    loaded, issues = read_yaml_text("a: &x\n  b: 1\n  c: [2, 3]\nd: *x\n", "f.yaml")
    assert issues == []
    assert loaded is not None
    spans = loaded.source_map
    # the alias shares the anchored list; its items still have their own positions
    assert (spans.span(("d", "c", 1)).line, spans.span(("d", "c", 1)).column) == (3, 10)
    assert (spans.key_span(("d", "c")).line, spans.key_span(("d", "c")).column) == (3, 3)


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('\ufeffa: "\x01"\n', 1, 5),
        ('a: 1\rb: "\x01"\n', 2, 5),
        ('a: 1\r\nb: "\x01"\n', 2, 5),
        ('a: 1\u2028b: "\x01"\n', 2, 5),
    ],
)
def test_a_control_character_is_placed_as_yaml_counts_lines(
    text: str, line: int, column: int
) -> None:
    # YAML breaks lines at CR, LF, CRLF, NEL, LS and PS, and a BOM takes no column
    _, issues = read_yaml_text(text, "c.yaml")
    assert [(i.code, i.line, i.column) for i in issues] == [("Y001", line, column)]
