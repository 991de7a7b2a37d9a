r"""Read one YAML file safely into plain data plus a source map.

The file is *composed* (parsed into nodes) by a :class:`yaml.SafeLoader` subclass that refuses
explicit tags, bounds aliases and nesting depth, and then *constructed* by our own walk over the
nodes, which records the 1-based position of every node under its logical path and reports
duplicate keys. Nothing here raises on bad content: problems become :class:`Issue` records.

### Y001 error: not valid YAML

The file is empty, has a syntax error, or holds a value that cannot be built: a timestamp
out of range, a scalar whose explicit standard tag does not fit its text (`!!bool abc`), an
integer longer than 4,300 characters (Python's own limit; YAML 1.1 sexagesimal integers
would otherwise take minutes to build), or a control character.

FAIL (`demo.yaml`, a new line 3):

```yaml
id: [demo
```

```
demo.yaml:3:3: Y001 error: YAML syntax: expected ',' or ']', but got ':'
```

An empty file gives `empty.yaml:1:1: Y001 error: the file is empty`.

Fix: correct the syntax at the position shown. Remove empty `.yaml` files from the folder.

### Y002 error: duplicate key

FAIL:

```yaml
version: "1"
version: "2"
```

```
demo.yaml:4:1: Y002 error: duplicate key 'version' (first at line 3)
```

Fix: keep one of the two keys. (Plain YAML loaders silently keep the last one; this library
refuses.)

### Y003 error: tag or merge key

Explicit tags other than the plain YAML types (`!!python/...`, custom `!tags`) and merge keys
(`<<`) are refused.

FAIL:

```yaml
version: !!python/name:os.system "1"
```

```
demo.yaml:3:10: Y003 error: tag 'tag:yaml.org,2002:python/name:os.system' is not allowed
```

A merge key gives `Y003 error: merge keys ('<<') are not allowed`.

Fix: remove the tag; write merged mappings out in full.

### Y004 error: too many aliases

A file may use at most 16 aliases (`*name`).

FAIL:

```yaml
x: &a 1
y0: *a
y1: *a
# ... 17 aliases in all
```

```
demo.yaml:23:6: Y004 error: more than 16 aliases: anchors/aliases are bounded (write the value out instead)
```

Fix: write the values out.

### Y005 error: nesting too deep

At most 64 levels of nesting.

FAIL:

```yaml
deep: [[[[[[ ... 70 levels ... ]]]]]]
```

```
demo.yaml:6:70: Y005 error: nesting deeper than 64 levels is not allowed
```

Fix: flatten the structure.

### Y006 error: too large

A file larger than 4 MiB (4,194,304 bytes), a file with more than 200,000 YAML nodes, or a
bundle with more than 2,000 YAML files.

FAIL: a 5 MiB file `big.yaml`.

```
big.yaml:1:1: Y006 error: file larger than 4194304 bytes
```

Fix: split the file or the bundle.

### Y007 error: complex mapping key

Mapping keys must be plain scalars.

FAIL:

```yaml
? [a, b]
: 1
```

```
demo.yaml:6:3: Y007 error: mapping keys must be plain scalars
```

Fix: use a string key.

### Y008 error: cannot read

The path does not exist, the file cannot be read, it is not UTF-8, or it holds a NUL byte.

FAIL: a file `notes.yaml` with the bytes `kind: \xff\xfe`.

```
notes.yaml:1:1: Y008 error: not UTF-8 text (byte 6)
```

A missing path passed to `pr.validate` gives `Y008 error: no such file or folder`. (The CLI
checks paths first and exits `2`.)

Fix: save the file as UTF-8; keep non-YAML files out of the bundle or give them another
extension.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pedonc_routing.issues import Issue
from pedonc_routing.source import LogicalPath, SourceMap, SourceSpan

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 16
MAX_NODES = 200_000
#: Longer integer scalars are refused: a sexagesimal one (``1:59:59:...``, YAML 1.1) costs
#: quadratic time to build (4 MiB of it: ~10 minutes); 4300 is Python's own str->int limit.
MAX_INT_CHARS = 4300

_STANDARD_TAG_PREFIX = "tag:yaml.org,2002:"
_PLAIN_TAGS = {"str", "int", "float", "bool", "null", "map", "seq", "timestamp"}


class _RefusedError(Exception):
    """Raised inside the composer to stop at the first unsafe construct."""

    def __init__(self, code: str, message: str, mark: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.mark = mark


class _BoundedSafeLoader(yaml.SafeLoader):
    """A SafeLoader that refuses explicit tags and bounds aliases and depth while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _RefusedError("Y006", f"more than {MAX_NODES} YAML nodes", event.start_mark)
        if isinstance(event, AliasEvent):
            self._aliases += 1
        _check_node_event(event, self._aliases)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _RefusedError("Y005", _TOO_DEEP, event.start_mark)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_NODE_EVENTS = (AliasEvent, ScalarEvent, SequenceStartEvent, MappingStartEvent)
_TOO_DEEP = f"nesting deeper than {MAX_DEPTH} levels is not allowed"


def _check_node_event(event: Any, aliases_so_far: int) -> None:
    """Refuse an alias over the bound or an explicit tag (shared by both parse paths)."""
    if isinstance(event, AliasEvent):
        if aliases_so_far > MAX_ALIASES:
            raise _RefusedError(
                "Y004",
                f"more than {MAX_ALIASES} aliases: anchors/aliases are bounded "
                "(write the value out instead)",
                event.start_mark,
            )
        return
    tag = event.tag
    if tag is not None and tag != "!" and not _is_plain_tag(tag):
        raise _RefusedError("Y003", f"tag {tag!r} is not allowed", event.start_mark)


def _is_plain_tag(tag: str) -> bool:
    return tag.startswith(_STANDARD_TAG_PREFIX) and tag[len(_STANDARD_TAG_PREFIX) :] in (
        _PLAIN_TAGS
    )


@dataclass(frozen=True)
class LoadedDocument:
    """A YAML file read into plain data, with the position of every node."""

    file: str
    data: Any
    source_map: SourceMap


class _Constructor:
    """Builds plain Python data from nodes, recording spans and duplicate keys."""

    def __init__(self, file: str) -> None:
        self.source_map = SourceMap(file)
        self.issues: list[Issue] = []
        self._file = file
        self._nodes = 0
        self._scalar = yaml.SafeLoader("")  # only its construct_* methods are used
        # Scalars repeat (keys, language codes, kinds); every value a plain tag builds is
        # immutable, so one construction per distinct (tag, text) is shared (building the
        # shipped bundle's nodes: 32.7 -> 30.0 ms, docs/performance.md).
        self._scalars: dict[tuple[str, str], Any] = {}
        self._collections: dict[int, tuple[Any, int]] = {}  # id(node) -> (value, nodes)

    def span(self, node: Node) -> SourceSpan:
        mark = node.start_mark
        return SourceSpan(self._file, mark.line + 1, mark.column + 1)

    def build(self, node: Node, path: LogicalPath) -> Any:
        self.source_map.record(path, self.span(node))
        if isinstance(node, ScalarNode):
            self._count(node, 1)
            return self._scalar_value(node)
        built = self._collections.get(id(node))
        if built is not None:
            # An alias of a collection built before: share it (as PyYAML does) but count
            # its nodes again, so an alias expansion is bounded without being rebuilt.
            value, size = built
            self._count(node, size)
            self._record_spans(node, path)
            return value
        first = self._nodes
        self._count(node, 1)
        if isinstance(node, MappingNode):
            value = self._build_mapping(node, path)
        elif isinstance(node, SequenceNode):
            value = [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        else:  # pragma: no cover - the composers make only these three kinds
            raise _RefusedError("Y001", "unsupported YAML node", node.start_mark)
        self._collections[id(node)] = (value, self._nodes - first)
        return value

    def _record_spans(self, node: Node, path: LogicalPath) -> None:
        """Record the spans under ``path`` of a collection built before (an alias of it), so
        a problem inside aliased content points into the anchored text, not at the anchor.
        Its nodes were counted, so this walk is bounded like a build."""
        stack: list[tuple[Node, LogicalPath]] = [(node, path)]
        while stack:
            current, at = stack.pop()
            self.source_map.record(at, self.span(current))
            if isinstance(current, SequenceNode):
                stack.extend((item, (*at, index)) for index, item in enumerate(current.value))
            elif isinstance(current, MappingNode):
                seen: set[Any] = set()
                for key_node, value_node in current.value:
                    if not isinstance(key_node, ScalarNode):
                        continue  # Y007, reported when first built
                    key = self._scalar_value(key_node)
                    if key in seen:
                        continue  # Y002: the first one is kept
                    seen.add(key)
                    self.source_map.record((*at, key, "<key>"), self.span(key_node))
                    stack.append((value_node, (*at, key)))

    def _count(self, node: Node, size: int) -> None:
        self._nodes += size
        if self._nodes > MAX_NODES:
            raise _RefusedError("Y006", f"more than {MAX_NODES} YAML nodes", node.start_mark)

    def _scalar_value(self, node: ScalarNode) -> Any:
        key = (node.tag, node.value)
        try:
            return self._scalars[key]
        except KeyError:
            value = self._scalars[key] = self._construct_scalar(node)
            return value

    def _construct_scalar(self, node: ScalarNode) -> Any:
        kind = node.tag.removeprefix(_STANDARD_TAG_PREFIX)
        if kind == "int" and len(node.value) > MAX_INT_CHARS:
            raise _RefusedError(
                "Y001",
                f"YAML value: an integer longer than {MAX_INT_CHARS} characters",
                node.start_mark,
            )
        try:
            return self._scalar.construct_object(node, deep=True)
        except (ValueError, OverflowError, IndexError, KeyError, AttributeError) as error:
            # PyYAML's constructors fail on explicitly tagged text unlike their type in
            # these ways (`!!bool abc`: KeyError, `!!int ""`: IndexError, `!!timestamp x`:
            # AttributeError; a timestamp out of range: ValueError).
            shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
            detail = f" ({error})" if isinstance(error, ValueError | OverflowError) else ""
            raise _RefusedError(
                "Y001", f"YAML value: {shown!r} is not a valid {kind}{detail}", node.start_mark
            ) from None

    def _build_mapping(self, node: MappingNode, path: LogicalPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first_seen: dict[Any, SourceSpan] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _STANDARD_TAG_PREFIX + "merge":
                raise _RefusedError(
                    "Y003", "merge keys ('<<') are not allowed", key_node.start_mark
                )
            if not isinstance(key_node, ScalarNode):
                self.issues.append(
                    Issue.at(self.span(key_node), "Y007", "mapping keys must be plain scalars")
                )
                continue
            key = self._scalar_value(key_node)
            key_span = self.span(key_node)
            if key in first_seen:
                earlier = first_seen[key]
                self.issues.append(
                    Issue.at(
                        key_span,
                        "Y002",
                        f"duplicate key {key!r} (first at line {earlier.line})",
                    )
                )
                continue
            first_seen[key] = key_span
            child: LogicalPath = (*path, key)
            self.source_map.record((*child, "<key>"), key_span)
            result[key] = self.build(value_node, child)
        return result


def _issue_from_mark(file: str, code: str, message: str, mark: Any) -> Issue:
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    return Issue(code, "error", message, file, line, column)


def read_yaml_text(text: str, file: str) -> tuple[LoadedDocument | None, list[Issue]]:
    """Parse YAML text; return the document (None when unusable) and the issues found."""
    # A character is 1-4 UTF-8 bytes: encode (a copy of the text) only when that decides.
    too_large = len(text) > MAX_FILE_BYTES or (
        len(text) * 4 > MAX_FILE_BYTES
        and len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES
    )
    if too_large:
        return None, [
            Issue("Y006", "error", f"file larger than {MAX_FILE_BYTES} bytes", file, 1, 1)
        ]
    try:
        fast = _HAS_LIBYAML and _prescan(text)
    except _RefusedError as refused:
        return None, [_issue_from_mark(file, refused.code, refused.message, refused.mark)]
    try:
        # The pure-Python reader checks every character up front (found by bench/fuzz.py:
        # a control character used to escape as a ReaderError traceback).
        loader: Any = yaml.CSafeLoader(text) if fast else _BoundedSafeLoader(text)
    except yaml.reader.ReaderError as error:
        return None, [_character_issue(text, file, error)]
    try:
        root = loader.get_single_node()
        if root is None:
            return None, [Issue("Y001", "error", "the file is empty", file, 1, 1)]
        constructor = _Constructor(file)
        data = constructor.build(root, ())
    except _RefusedError as refused:
        return None, [_issue_from_mark(file, refused.code, refused.message, refused.mark)]
    except yaml.reader.ReaderError as error:
        return None, [_character_issue(text, file, error)]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        return None, [_issue_from_mark(file, "Y001", f"YAML syntax: {problem}", mark)]
    except yaml.YAMLError as error:
        return None, [Issue("Y001", "error", f"YAML: {error}", file, 1, 1)]
    except RecursionError:
        return None, [Issue("Y005", "error", "nesting too deep", file, 1, 1)]
    finally:
        loader.dispose()
    return LoadedDocument(file, data, constructor.source_map), constructor.issues


def _character_issue(text: str, file: str, error: yaml.reader.ReaderError) -> Issue:
    """Y001 at the character YAML does not allow (control characters, lone surrogates)."""
    position = max(0, min(error.position, len(text)))
    # Counted as YAML counts: CR, LF, CRLF, NEL, LS and PS break lines; a BOM takes no column.
    lines = _LINE_BREAK.split(text[:position])
    line = len(lines)
    column = len(lines[-1]) - lines[-1].count("\ufeff") + 1
    character = error.character
    code = ord(character) if isinstance(character, str) else int(character)
    return Issue(
        "Y001", "error", f"character U+{code:04X} is not allowed in YAML", file, line, column
    )


_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_HAS_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))


def _prescan(text: str) -> bool:
    """True when LibYAML's (C, ~15x faster) composer may build this text's nodes.

    The C composer recurses natively, checks neither tags nor aliases, and builds every node
    before anything is counted, so the events are scanned first, iteratively, applying the
    bounded loader's rules (tags, aliases, depth as :meth:`_BoundedSafeLoader.compose_node`
    counts it) plus the node bound, and raising :class:`_RefusedError` at the first
    construct refused. A flat list of a million items is refused here at its 200,001st node
    (before: all of it was composed first, ~50 s and ~340 MB under tracemalloc). A text
    LibYAML cannot parse goes to the bounded Python loader, which reports the error.
    """
    depth = aliases = nodes = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, SequenceEndEvent | MappingEndEvent):
                depth -= 1
                continue
            if not isinstance(event, _NODE_EVENTS):
                continue
            nodes += 1
            if nodes > MAX_NODES:
                raise _RefusedError("Y006", f"more than {MAX_NODES} YAML nodes", event.start_mark)
            if isinstance(event, AliasEvent):
                aliases += 1
            _check_node_event(event, aliases)
            if depth + 1 > MAX_DEPTH:
                raise _RefusedError("Y005", _TOO_DEEP, event.start_mark)
            if isinstance(event, SequenceStartEvent | MappingStartEvent):
                depth += 1
    except (yaml.YAMLError, UnicodeEncodeError):  # a lone surrogate cannot reach LibYAML
        return False
    return True


def read_yaml_file(path: Path, display_name: str) -> tuple[LoadedDocument | None, list[Issue]]:
    """Read a YAML file from disk, refusing huge files before reading them."""
    raw, issues = read_file_bytes(path, display_name)
    if raw is None:
        return None, issues
    return read_yaml_bytes(raw, display_name)


def read_file_bytes(path: Path, display_name: str) -> tuple[bytes | None, list[Issue]]:
    """A file's bytes, or the issue why not; never reads more than ``MAX_FILE_BYTES + 1``.

    The size is checked before reading and the read itself is bounded, so a huge file (or
    one growing while it is read) costs one ``stat`` and at most 4 MiB of memory.
    """
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, [_too_large(display_name)]
        with path.open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return None, [
            Issue("Y008", "error", f"cannot read file: {error.strerror}", display_name, 1, 1)
        ]
    if len(raw) > MAX_FILE_BYTES:
        return None, [_too_large(display_name)]
    return raw, []


def _too_large(display_name: str) -> Issue:
    return Issue("Y006", "error", f"file larger than {MAX_FILE_BYTES} bytes", display_name, 1, 1)


def read_yaml_bytes(raw: bytes, display_name: str) -> tuple[LoadedDocument | None, list[Issue]]:
    """Read a file's bytes (already in memory: editors, fuzzers): size, UTF-8, NUL, YAML."""
    if len(raw) > MAX_FILE_BYTES:
        return None, [_too_large(display_name)]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [
            Issue("Y008", "error", f"not UTF-8 text (byte {error.start})", display_name, 1, 1)
        ]
    if "\x00" in text:
        return None, [Issue("Y008", "error", "binary content (NUL byte)", display_name, 1, 1)]
    return read_yaml_text(text, display_name)
