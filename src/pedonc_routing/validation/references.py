r"""References: every name a document uses must exist (``R001``-``R004``, ``R007``-``R009``).

Facility references (``R005``, ``R006``) are checked in :mod:`.facilities`.

### R001 error: unknown step

A transition's `to`, an `otherwise`'s `to`, an override's `to` or the protocol's `entry`
names a step that does not exist.

FAIL:

```yaml
      - id: high_wbc
        to: dne
```

```
demo.yaml:21:13: R001 error: 'dne' is not a step of protocol 'demo'; did you mean 'done'?
```

Fix: name an existing step. For a step of another protocol write `PROTOCOL:STEP`.

### R002 error (or warning): unknown input

An input used in a condition or listed in `inputs` is not in the vocabulary (error). Listing a
built-in input (`age_years`, `sex`, `icd10`, ...) in `inputs` is a warning.

FAIL:

```yaml
        when: {input: wbc, gte: 50}
```

```
demo.yaml:22:23: R002 error: input 'wbc' is not in the vocabulary
```

```yaml
inputs: [wbc_10e9_l, immunophenotype, age_years]
```

```
demo.yaml:8:39: R002 warning: 'age_years' is built in; do not list it
```

Fix: declare the input in `vocabulary.yaml`, or correct its name. Do not list built-in inputs.

### R003 error: unknown capability

A step's `care.capabilities` or a facility's `capabilities` names an id that is not in
`care.yaml`.

FAIL:

```yaml
    care: {..., capabilities: [flow_cytometri], ...}
```

```
demo.yaml:16:67: R003 error: unknown capability 'flow_cytometri'; did you mean 'flow_cytometry'?
```

Fix: use an id from `care.yaml`, or add it there.

### R004 error: unknown specialist

A step's `care.specialist` or a facility's `specialists` names an id not in `care.yaml`.

FAIL:

```yaml
    care: {specialist: oncohematologist, ...}
```

```
demo.yaml:16:24: R004 error: unknown specialist 'oncohematologist'; did you mean 'pediatric_oncohematologist'?
```

Fix: use an id from `care.yaml`, or add it there.

### R007 error: unknown protocol

A `PROTOCOL:STEP` target or an override's `during` names a protocol that is not in the bundle.

FAIL:

```yaml
        to: al:diagnosis
```

```
demo.yaml:21:13: R007 error: unknown protocol 'al'
```

Fix: name a protocol of the bundle.

### R008 error: unknown source

A transition, `otherwise`, override or follow-up cites a `source` id that is not in the
protocol's `sources`.

FAIL:

```yaml
        source: srcs
```

```
demo.yaml:24:17: R008 error: source 'srcs' is not in the protocol's sources; did you mean 'src'?
```

Fix: cite an id from `sources`, or add the source.

### R009 error: duplicate id

Two protocols with the same `id`; two transitions of one step with the same `id`; two
facilities with the same `id`; two catchments for the same region.

FAIL: a second transition `high_wbc` in step `diagnosis`.

```yaml
      - {id: high_wbc, to: done, when: {input: wbc_10e9_l, gte: 100}, because: x, source: src}
```

```
demo.yaml:25:14: R009 error: transition id 'high_wbc' repeats in step 'diagnosis'
```

Fix: give each one a unique id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pedonc_routing.compiler.pathway import RETURN, split_target
from pedonc_routing.issues import Issue
from pedonc_routing.loader.documents import Sourced
from pedonc_routing.model.conditions import iter_tests_with_paths
from pedonc_routing.model.documents import (
    CareCatalogue,
    Protocol,
    VocabularyInput,
)
from pedonc_routing.source import LogicalPath, SourceMap, SourceSpan
from pedonc_routing.suggestions import with_hint
from pedonc_routing.validation.context import CheckContext, Gate, conditions_of
from pedonc_routing.vocabulary.inputs import BUILTIN_INPUTS, FactSchema

CODES = ("R001", "R002", "R003", "R004", "R007", "R008", "R009")
GATE = Gate.ALWAYS


def check(context: CheckContext) -> Iterator[Issue]:
    """The vocabulary's own names, then each protocol's: ids unique, every name known."""
    yield from _vocabulary_issues(context)
    for duplicate in context.duplicates:
        yield Issue.at(
            duplicate.sourced.source_map.span(("id",)),
            "R009",
            f"protocol id {duplicate.sourced.model.id!r} is also defined in {duplicate.first.file}",
        )
    for sourced in context.protocols:
        yield from _protocol_reference_issues(
            sourced, context.schema, context.care, context.steps_of
        )


def _vocabulary_issues(context: CheckContext) -> Iterator[Issue]:
    """Vocabulary files merge: a name defined twice, or a formula over an unknown input, is
    an error (a formula over a non-numeric or derived input is T001, in :mod:`.guard_types`)."""
    first_file: dict[str, str] = {}
    specs: dict[str, VocabularyInput] = {}
    for sourced in context.documents.vocabularies:
        for name, item in sourced.model.inputs.items():
            if name in first_file or name in BUILTIN_INPUTS:
                where = "a built-in input" if name in BUILTIN_INPUTS else first_file[name]
                yield Issue.at(
                    sourced.source_map.key_span(("inputs", name)),
                    "R009",
                    f"input {name!r} is already defined ({where})",
                )
                continue
            first_file[name] = sourced.file
            specs[name] = item
    for name, term_span in context.formula_terms():
        if name not in specs:
            yield Issue.at(
                term_span, "R002", with_hint(f"formula term {name!r} is not an input", name, specs)
            )


def _protocol_reference_issues(
    sourced: Sourced[Protocol],
    schema: FactSchema,
    care: CareCatalogue | None,
    steps_of: Mapping[str, frozenset[str]],
) -> Iterator[Issue]:
    """Names a protocol uses that must exist: steps, inputs, capabilities, specialists,
    protocols and sources; transition ids unique within a step."""
    protocol, source_map = sourced.model, sourced.source_map
    source_ids = {source.id for source in protocol.sources}
    if protocol.entry not in protocol.steps:
        yield Issue.at(
            source_map.span(("entry",)),
            "R001",
            with_hint(
                f"entry step {protocol.entry!r} is not a step", protocol.entry, protocol.steps
            ),
        )
    for index, name in enumerate(protocol.inputs):
        if name not in schema.inputs or name in BUILTIN_INPUTS:
            where = source_map.span(("inputs", index))
            if name in BUILTIN_INPUTS:
                yield Issue.at(where, "R002", f"{name!r} is built in; do not list it", "warning")
            else:
                yield _unknown_input(name, where, schema)
    for condition, condition_path in conditions_of(protocol):
        for test, test_path in iter_tests_with_paths(condition, condition_path):
            if test.input not in schema.inputs:
                yield _unknown_input(test.input, source_map.span((*test_path, "input")), schema)
    for step_id, step in protocol.steps.items():
        path: LogicalPath = ("steps", step_id)
        if care is not None:
            for index, capability in enumerate(step.care.capabilities):
                if capability not in care.capabilities:
                    yield Issue.at(
                        source_map.span((*path, "care", "capabilities", index)),
                        "R003",
                        with_hint(
                            f"unknown capability {capability!r}", capability, care.capabilities
                        ),
                    )
            if step.care.specialist not in care.specialists:
                yield Issue.at(
                    source_map.span((*path, "care", "specialist")),
                    "R004",
                    with_hint(
                        f"unknown specialist {step.care.specialist!r}",
                        step.care.specialist,
                        care.specialists,
                    ),
                )
        transition_ids: set[str] = set()
        for index, transition in enumerate(step.next):
            tpath: LogicalPath = (*path, "next", index)
            if transition.id in transition_ids:
                yield Issue.at(
                    source_map.span((*tpath, "id")),
                    "R009",
                    f"transition id {transition.id!r} repeats in step {step_id!r}",
                )
            transition_ids.add(transition.id)
            yield from _target_issues(transition.to, protocol, steps_of, source_map, (*tpath, "to"))
            yield from _source_issue(transition.source, source_ids, source_map, (*tpath, "source"))
        if step.otherwise is not None:
            opath: LogicalPath = (*path, "otherwise")
            yield from _target_issues(
                step.otherwise.to, protocol, steps_of, source_map, (*opath, "to")
            )
            yield from _source_issue(
                step.otherwise.source, source_ids, source_map, (*opath, "source")
            )
        for index, follow_up in enumerate(step.follow_ups):
            fpath: LogicalPath = (*path, "follow_ups", index)
            yield from _source_issue(follow_up.source, source_ids, source_map, (*fpath, "source"))
    for index, override in enumerate(protocol.overrides):
        opath = ("overrides", index)
        if override.to not in protocol.steps:
            yield Issue.at(
                source_map.span((*opath, "to")),
                "R001",
                with_hint(
                    f"override target {override.to!r} is not a step", override.to, protocol.steps
                ),
            )
        for during_index, other in enumerate(override.during or ()):
            if other not in steps_of:
                yield Issue.at(
                    source_map.span((*opath, "during", during_index)),
                    "R007",
                    with_hint(f"unknown protocol {other!r}", other, steps_of),
                )
        yield from _source_issue(override.source, source_ids, source_map, (*opath, "source"))


def _unknown_input(name: str, where: SourceSpan, schema: FactSchema) -> Issue:
    return Issue.at(
        where, "R002", with_hint(f"input {name!r} is not in the vocabulary", name, schema.inputs)
    )


def _target_issues(
    target: str,
    protocol: Protocol,
    steps_of: Mapping[str, frozenset[str]],
    source_map: SourceMap,
    path: LogicalPath,
) -> Iterator[Issue]:
    other, step = split_target(target, protocol.id)
    if step == RETURN:
        return  # resumes the interrupted pathway: checked on the patient state
    if other not in steps_of:
        yield Issue.at(
            source_map.span(path), "R007", with_hint(f"unknown protocol {other!r}", other, steps_of)
        )
    elif step not in steps_of[other]:
        yield Issue.at(
            source_map.span(path),
            "R001",
            with_hint(f"{step!r} is not a step of protocol {other!r}", step, steps_of[other]),
        )


def _source_issue(
    source_id: str | None, known: set[str], source_map: SourceMap, path: LogicalPath
) -> Iterator[Issue]:
    if source_id is not None and source_id not in known:
        yield Issue.at(
            source_map.span(path),
            "R008",
            with_hint(f"source {source_id!r} is not in the protocol's sources", source_id, known),
        )
