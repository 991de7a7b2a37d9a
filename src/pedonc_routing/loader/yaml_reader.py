r"""Read one YAML file safely into plain data plus a source map.

The file is *composed* (parsed into nodes) by a :class:`yaml.SafeLoader` subclass that refuses
explicit tags, bounds aliases and nesting depth, and then *constructed* by our own walk over the
nodes, which records the 1-based position of every node under its logical path and reports
duplicate keys. Nothing here raises on bad content: problems become :class:`Issue` records.

### Y001 error: not valid YAML

The file is empty, has a syntax error, or holds a value that cannot be built (for example a
timestamp out of range).

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

from pedonc_routing.source import LogicalPath, SourceMap, SourceSpan
from pedonc_routing.validation.issues import Issue

MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_ALIASES = 16
MAX_NODES = 200_000

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

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _RefusedError(
                    "Y004",
                    f"more than {MAX_ALIASES} aliases: anchors/aliases are bounded "
                    "(write the value out instead)",
                    event.start_mark,
                )
        elif isinstance(event, ScalarEvent | SequenceStartEvent | MappingStartEvent):
            tag = event.tag
            if tag is not None and tag != "!" and not _is_plain_tag(tag):
                raise _RefusedError("Y003", f"tag {tag!r} is not allowed", event.start_mark)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _RefusedError(
                "Y005", f"nesting deeper than {MAX_DEPTH} levels is not allowed", event.start_mark
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


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

    def span(self, node: Node) -> SourceSpan:
        mark = node.start_mark
        return SourceSpan(self._file, mark.line + 1, mark.column + 1)

    def build(self, node: Node, path: LogicalPath) -> Any:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _RefusedError("Y006", f"more than {MAX_NODES} YAML nodes", node.start_mark)
        self.source_map.record(path, self.span(node))
        if isinstance(node, MappingNode):
            return self._build_mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, index)) for index, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            return self._scalar.construct_object(node, deep=True)
        raise _RefusedError("Y001", "unsupported YAML node", node.start_mark)  # pragma: no cover

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
            key = self._scalar.construct_object(key_node)
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
    if len(text.encode("utf-8", errors="replace")) > MAX_FILE_BYTES:
        return None, [
            Issue("Y006", "error", f"file larger than {MAX_FILE_BYTES} bytes", file, 1, 1)
        ]
    fast = _HAS_LIBYAML and _prescan(text)
    loader: Any = yaml.CSafeLoader(text) if fast else _BoundedSafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, [Issue("Y001", "error", "the file is empty", file, 1, 1)]
        constructor = _Constructor(file)
        data = constructor.build(root, ())
    except _RefusedError as refused:
        return None, [_issue_from_mark(file, refused.code, refused.message, refused.mark)]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "invalid YAML"
        return None, [_issue_from_mark(file, "Y001", f"YAML syntax: {problem}", mark)]
    except yaml.YAMLError as error:
        return None, [Issue("Y001", "error", f"YAML: {error}", file, 1, 1)]
    except (ValueError, OverflowError) as error:  # e.g. a timestamp out of range
        return None, [Issue("Y001", "error", f"YAML value: {error}", file, 1, 1)]
    except RecursionError:
        return None, [Issue("Y005", "error", "nesting too deep", file, 1, 1)]
    finally:
        loader.dispose()
    return LoadedDocument(file, data, constructor.source_map), constructor.issues


_HAS_LIBYAML = bool(getattr(yaml, "__with_libyaml__", False))


def _prescan(text: str) -> bool:
    """True when LibYAML's (C, ~15x faster) composer may build this text's nodes.

    The C composer recurses natively and checks neither tags nor aliases, so the events are
    scanned first, iteratively, stopping at the first construct the bounded Python loader
    would refuse; such texts (and any parse error) go to that loader, which reports them.
    """
    depth = aliases = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    return False
            elif isinstance(event, ScalarEvent | SequenceStartEvent | MappingStartEvent):
                tag = event.tag
                if tag is not None and tag != "!" and not _is_plain_tag(tag):
                    return False
                if not isinstance(event, ScalarEvent):
                    depth += 1
                    if depth > MAX_DEPTH:
                        return False
            elif isinstance(event, SequenceEndEvent | MappingEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return False
    return True


def read_yaml_file(path: Path, display_name: str) -> tuple[LoadedDocument | None, list[Issue]]:
    """Read a YAML file from disk, refusing huge or undecodable files before parsing."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                Issue(
                    "Y006", "error", f"file larger than {MAX_FILE_BYTES} bytes", display_name, 1, 1
                )
            ]
        raw = path.read_bytes()
    except OSError as error:
        return None, [
            Issue("Y008", "error", f"cannot read file: {error.strerror}", display_name, 1, 1)
        ]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        return None, [
            Issue("Y008", "error", f"not UTF-8 text (byte {error.start})", display_name, 1, 1)
        ]
    if "\x00" in text:
        return None, [Issue("Y008", "error", "binary content (NUL byte)", display_name, 1, 1)]
    return read_yaml_text(text, display_name)
