r"""Stage 2, validation: cross-file checks over the modelled documents.

Every check reports :class:`Issue` records and never raises on bad content. The sections
below are the reference of each code, rendered into docs/checks.md by
:mod:`pedonc_routing.validation.checks_doc`; the guard analysis codes (G004-G009) are in
:mod:`.guards`, the reading codes in :mod:`pedonc_routing.loader`.

### S003 error: bundle shape

A bundle has exactly one `vocabulary` and one `care_catalogue`, at most one `routing_rules`,
and at least one `protocol`.

FAIL: a second care catalogue `care2.yaml` in the folder.

```
care2.yaml:1:7: S003 error: a bundle has one care_catalogue; the first is care.yaml
```

A bundle with no protocol gives `S003 error: the bundle has no protocol`.

Fix: remove the extra document, or validate the two bundles separately.

### C001 error: protocol without sources

FAIL:

```yaml
sources: []
```

```
demo.yaml:2:5: C001 error: protocol cites no sources
```

Fix: add the sources the protocol's statements rest on.

### C002 warning: text missing a language

A `title`, `family_info` or follow-up `title` lacks `ru` or `kk` (`en` is required by the
model: its absence is `S001`).

FAIL:

```yaml
title: {en: "Demo", ru: "Демо"}
```

```
demo.yaml:5:8: C002 warning: title has no text in kk
```

Fix: add the translation. Until then the decision falls back to English.

### C003 error: reviewed protocol without reviewer and date

FAIL:

```yaml
status: reviewed
reviewed_by: null
```

```
demo.yaml:4:9: C003 error: a reviewed protocol needs reviewed_by and reviewed_on
```

Fix: fill in `reviewed_by` and `reviewed_on`, or keep `status: draft`. Only local clinical
governance may mark a protocol reviewed.

### E001 error: protocol too large for durable-rules

Each guard becomes two durable-rules rules (see [engine.md](engine.md)). A protocol whose
guards (transitions and conditional follow-ups) make more than 1,000 rules is refused,
because durable-rules hangs, holding the GIL, on rulesets far larger.

FAIL: 501 transitions in one protocol.

```
demo.yaml:2:5: E001 error: 501 guards (overrides included) make 1002 engine rules, above the safe 1000 for durable-rules; split the protocol
```

Fix: split the protocol into smaller protocols linked with `PROTOCOL:STEP` targets.

The count includes the overrides of other protocols, which the engine adds to the same
ruleset. A single guard too large for one durable-rules rule (more than 15 nested
`all`/`any` groups) is not an error: the engine splits it over several rules.

### F001 error: no facility can provide a step

For every non-passthrough step, at least one registry facility must offer all the step's
capabilities, have its specialist, be at least its `min_level`, and (for `urgency: emergency`
steps) have 24 h cover. Primary-level outpatient steps are exempt: the attached polyclinic
provides them. The check ignores age ranges. It runs only when there is no other error.

FAIL: `urgency: emergency` on `diagnosis`, and `cover_24h: false` on the only facility.

```
demo.yaml:16:11: F001 error: no facility offers 'diagnosis': capabilities ['flow_cytometry'], specialist 'pediatric_oncohematologist', level >= regional with 24 h cover
```

Fix: correct the step's needs, or add (or correct) a facility.

### F002 warning: region without a catchment

When the bundle has a `catchments` document, every ISO 3166-2:KZ region should have a
catchment entry. There is one warning per missing region. (A bundle with no `catchments`
document gets no `F002`.)

FAIL (`catchments.yaml`):

```yaml
catchments:
  - {region: KZ-75, regional: kz75_centre, republican: kz75_centre}
```

```
catchments.yaml:4:3: F002 warning: region KZ-10 has no catchment (no designated centres)
catchments.yaml:4:3: F002 warning: region KZ-11 has no catchment (no designated centres)
...
catchments.yaml:4:3: F002 warning: region KZ-79 has no catchment (no designated centres)
0 error(s), 19 warning(s)
```

A child from a region without a catchment gets no designated centre: planned care falls
back to the nearest capable facility, measured from a registry facility in the home region
(see [facilities.md](facilities.md)). Fix: add the catchment.

### F003 warning: emergency care outside the region

An emergency step that no facility in some regions can provide, so children there travel
to another region in an emergency. The message lists the regions.

FAIL: an emergency step that needs `hsct` (only the two republican centres have it).

```
protocol.yaml:18:11: F003 warning: emergency step 'emergency': no facility in KZ-10, KZ-11, ... can provide it, so children there travel to another region
```

PASS: require only what the regional children's hospitals offer for the first hours
(stabilisation), and transfer in a later step.

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

### R005 error: unknown facility

A catchment's `regional` or `republican`, or a link's `from` or `to`, names a facility that is
not in the registry.

FAIL (`catchments.yaml`):

```yaml
kind: catchments
version: "1"
catchments:
  - {region: KZ-75, regional: kz75_centr, republican: kz75_centre}
```

```
catchments.yaml:4:3: F002 warning: region KZ-10 has no catchment (no designated centres)
...
catchments.yaml:4:31: R005 error: unknown facility 'kz75_centr'; did you mean 'kz75_centre'?
1 error(s), 19 warning(s)
```

Fix: use a registry id.

### R006 error: unknown region

A facility's or catchment's `region` is not an ISO 3166-2:KZ subdivision code (the list comes
from `pycountry`).

FAIL (`registry.yaml`):

```yaml
    region: KZ-ALA
```

```
registry.yaml:6:13: R006 error: 'KZ-ALA' is not an ISO 3166-2:KZ code
```

Fix: use the code, e.g. `KZ-75` for Almaty city, `KZ-71` for Astana, `KZ-79` for Shymkent.

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

### T001 error: operator or constant does not fit the input's type

| input type | operators allowed |
|---|---|
| `number`, `integer` | `eq ne lt lte gt gte in between present absent` |
| `boolean` | `eq ne present absent` |
| `enum` | `eq ne in present absent` |
| `icd10` (built-in `icd10`) | `icd10_in present absent` |
| `morphology` (built-in `icdo3_morphology`) | `morphology_in present absent` |
| `text` (built-in `home_region`, `icdo3_topography`) | `eq ne in present absent` |

A constant of the wrong type (a string for a number, a number for a boolean) is also `T001`.

FAIL:

```yaml
        when: {input: immunophenotype, gte: 50}
```

```
demo.yaml:22:45: T001 error: 'gte' does not apply to enum input 'immunophenotype' (use: absent, eq, in, ne, present)
```

Fix: use an allowed operator, and a constant of the input's type.

### T002 warning: constant outside the plausible range

FAIL:

```yaml
        when: {input: wbc_10e9_l, gte: 5000}
```

```
demo.yaml:22:40: T002 warning: 5000 lies outside 'wbc_10e9_l''s plausible range [0, 2000] 10^9/L
```

Such a guard can never (or always) hold for valid data. Fix: check the threshold and the unit.

### T003 error: enum value not declared

FAIL:

```yaml
        when: {input: immunophenotype, eq: b}
```

```
demo.yaml:22:44: T003 error: 'b' is not a value of 'immunophenotype' (B, T)
```

Fix: use a declared value (values are case-sensitive), or add it to the vocabulary.

### T004 error: input not listed in the protocol's `inputs`

Every vocabulary input a protocol's conditions use must be listed in its `inputs`.

FAIL:

```yaml
inputs: [immunophenotype]          # wbc_10e9_l is used but not listed
```

```
demo.yaml:22:23: T004 error: input 'wbc_10e9_l' is used but not listed in the protocol's inputs
```

Fix: add the input to `inputs`.

### T005 error: constant more precise than the input

A numeric constant has more decimals than the input's `precision`. Patient values are
rounded to that precision (see [patient-state.md](patient-state.md)), so such a threshold
cannot be told apart.

FAIL:

```yaml
        when: {input: wbc_10e9_l, gte: 49.995}
```

```
demo.yaml:22:40: T005 error: 49.995 has 3 decimals; 'wbc_10e9_l' keeps 2
```

Fix: round the constant, or raise the input's `precision` in the vocabulary.

### T006 error: bad code pattern

An `icd10_in` or `morphology_in` pattern does not parse, or a range runs backwards.
ICD-10 patterns: `C91`, `C91.0`, `C81-C85`. Morphology patterns: `9837/3`, `9811-9818/3`,
`9811/3-9818/3`, `9590-9597` (any behaviour).

FAIL:

```yaml
applies_to: {input: icd10, icd10_in: ["C91.0-C90"]}
```

```
demo.yaml:9:38: T006 error: ICD-10 range runs backwards: 'C91.0-C90'
```

Fix: write the range low to high.

### G001 warning: unreachable step

No path from the `entry` step reaches the step.

FAIL: a step `orphan` that no transition names.

```yaml
  orphan:
    kind: terminal
    ...
```

```
demo.yaml:25:3: G001 warning: step 'orphan' cannot be reached from the entry 'diagnosis'
```

Fix: add a transition to it, or remove it. (A step reached only by an override is still
reported: overrides are not edges of the pathway graph.)

### G002 error: dead end

A step with no `next` and no `otherwise` must be of kind `terminal`, `survivorship` or
`palliative`.

FAIL:

```yaml
  done:
    kind: follow_up
```

```
demo.yaml:27:5: G002 error: step 'done' (follow_up) has no way out; only palliative, survivorship, terminal steps may end a pathway
```

Fix: add a way out, or make the step an ending kind.

### G003 error: passthrough cycle

Passthrough steps are walked through at once, so a cycle made only of passthrough steps would
never stop.

FAIL:

```yaml
  diagnosis:
    kind: diagnostic
    passthrough: true
    ...
    otherwise: {to: diagnosis, because: "WBC < 50", source: src}
```

```
demo.yaml:12:3: G003 error: passthrough steps form a cycle: diagnosis --> diagnosis
```

Fix: make at least one step of the cycle a normal (waiting) step.

### G010 warning: cycle with no exit

Steps that lead only to each other, none of them an ending step (`terminal`,
`survivorship`, `palliative`): a child who enters is routed round them for ever. A step
whose `otherwise` returns to itself ("continue the phase") is fine when the step also has a
transition out.

FAIL:

```yaml
  block_a:
    otherwise: {to: block_b, because: "Next block"}
  block_b:
    otherwise: {to: block_a, because: "Back to A"}
```

```
protocol.yaml:18:3: G010 warning: steps 'block_a', 'block_b' only lead to each other and none ends the pathway: a child who enters is never routed out
```

PASS: a transition out of the loop (e.g. `when: {input: therapy_completed, eq: true}`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import networkx as nx

from pedonc_routing.compiler.codes import CodeFormatError, icd10_pattern, morphology_pattern
from pedonc_routing.compiler.facts import BUILTIN_INPUTS, FactSchema, InputSpec, kz_region_codes
from pedonc_routing.compiler.pathway import RETURN, PathwayGraph, split_target
from pedonc_routing.loader.documents import DocumentSet, Sourced
from pedonc_routing.loader.suggestions import with_hint
from pedonc_routing.model.conditions import (
    NUMERIC_OPERATORS,
    Condition,
    Test,
    iter_tests_with_paths,
)
from pedonc_routing.model.documents import (
    ENDING_KINDS,
    LANGUAGES,
    CareCatalogue,
    LocalizedText,
    Protocol,
    VocabularyInput,
)
from pedonc_routing.routing.network import FacilityNetwork, Need
from pedonc_routing.source import LogicalPath, SourceMap
from pedonc_routing.validation.guards import applies_to_issues, step_guard_issues
from pedonc_routing.validation.issues import Issue

#: Rules per protocol ruleset the durable engine accepts (2 per guard); see engine/durable.py.
MAX_ENGINE_RULES = 1000

_TYPE_OPERATORS: dict[str, frozenset[str]] = {
    "number": frozenset(
        {"eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "present", "absent"}
    ),
    "integer": frozenset(
        {"eq", "ne", "lt", "lte", "gt", "gte", "in", "between", "present", "absent"}
    ),
    "boolean": frozenset({"eq", "ne", "present", "absent"}),
    "enum": frozenset({"eq", "ne", "in", "present", "absent"}),
    "icd10": frozenset({"icd10_in", "present", "absent"}),
    "morphology": frozenset({"morphology_in", "present", "absent"}),
    "text": frozenset({"eq", "ne", "in", "present", "absent"}),
}


def validate_documents(documents: DocumentSet) -> list[Issue]:
    """Every cross-file issue of a bundle (the per-file ones are already in ``documents``)."""
    issues: list[Issue] = []
    issues.extend(_bundle_shape(documents))
    schema = FactSchema([sourced.model for sourced in documents.vocabularies])
    issues.extend(_vocabulary_issues(documents))
    care = documents.care_catalogues[0].model if documents.care_catalogues else None
    steps_of: dict[str, frozenset[str]] = {}
    seen: dict[str, Sourced[Protocol]] = {}
    for sourced in documents.protocols:
        protocol = sourced.model
        if protocol.id in seen:
            issues.append(
                Issue.at(
                    sourced.source_map.span(("id",)),
                    "R009",
                    f"protocol id {protocol.id!r} is also defined in {seen[protocol.id].file}",
                )
            )
            continue
        seen[protocol.id] = sourced
        steps_of[protocol.id] = frozenset(protocol.steps)
    override_count = {pid: len(s.model.overrides) for pid, s in seen.items()}
    for sourced in seen.values():
        interrupting = sum(override_count.values()) - override_count[sourced.model.id]
        found = list(_protocol_issues(sourced, schema, care, steps_of, interrupting))
        issues.extend(found)
        # Guard analysis reads inputs and constants: only worth it once those are right.
        if not any(issue.severity == "error" for issue in found):
            issues.extend(step_guard_issues(sourced, schema.inputs))
    if not any(issue.severity == "error" for issue in issues):
        issues.extend(applies_to_issues(list(seen.values()), schema.inputs))
    issues.extend(_facility_issues(documents, care))
    if not any(issue.severity == "error" for issue in issues):
        issues.extend(_routing_issues(documents, seen))
    return issues


# -- bundle ----------------------------------------------------------------------------------


def _bundle_shape(documents: DocumentSet) -> Iterator[Issue]:
    singletons: tuple[tuple[str, Sequence[Sourced[Any]]], ...] = (
        ("care_catalogue", documents.care_catalogues),
        ("routing_rules", documents.routing_rules),
    )
    for kind, found in singletons:
        for extra in found[1:]:
            yield Issue.at(
                extra.source_map.span(("kind",)),
                "S003",
                f"a bundle has one {kind}; the first is {found[0].file}",
            )
    if not documents.protocols and not _has_read_errors(documents):
        file = documents.issues[0].file if documents.issues else "bundle"
        yield Issue("S003", "error", "the bundle has no protocol", file, 1, 1)


def _has_read_errors(documents: DocumentSet) -> bool:
    return any(issue.severity == "error" for issue in documents.issues)


# -- vocabulary ------------------------------------------------------------------------------


def _vocabulary_issues(documents: DocumentSet) -> Iterator[Issue]:
    """Vocabulary files merge: a name defined twice, or a formula over an unknown,
    non-numeric or derived input, is an error."""
    first_file: dict[str, str] = {}
    specs: dict[str, VocabularyInput] = {}
    for sourced in documents.vocabularies:
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
    for sourced in documents.vocabularies:
        for name, item in sourced.model.inputs.items():
            if item.formula is None:
                continue
            for index, term in enumerate(item.formula.sum):
                term_span = sourced.source_map.span(
                    ("inputs", name, "formula", "sum", index, "input")
                )
                other = specs.get(term.input)
                if other is None:
                    yield Issue.at(
                        term_span,
                        "R002",
                        with_hint(
                            f"formula term {term.input!r} is not an input", term.input, specs
                        ),
                    )
                elif other.type not in ("number", "integer") or other.formula is not None:
                    yield Issue.at(
                        term_span,
                        "T001",
                        f"formula term {term.input!r} must be a number or integer input "
                        "that is not itself derived",
                    )


# -- protocols -------------------------------------------------------------------------------


def _protocol_issues(
    sourced: Sourced[Protocol],
    schema: FactSchema,
    care: CareCatalogue | None,
    steps_of: Mapping[str, frozenset[str]],
    interrupting: int,
) -> Iterator[Issue]:
    protocol, source_map = sourced.model, sourced.source_map
    source_ids = {source.id for source in protocol.sources}

    def span(path: LogicalPath) -> object:
        return source_map.span(path)

    if protocol.entry not in protocol.steps:
        yield Issue.at(
            source_map.span(("entry",)),
            "R001",
            with_hint(
                f"entry step {protocol.entry!r} is not a step", protocol.entry, protocol.steps
            ),
        )
    declared = set(protocol.inputs)
    for index, name in enumerate(protocol.inputs):
        if name not in schema.inputs or name in BUILTIN_INPUTS:
            where = source_map.span(("inputs", index))
            if name in BUILTIN_INPUTS:
                yield Issue.at(where, "R002", f"{name!r} is built in; do not list it", "warning")
            else:
                yield Issue.at(
                    where,
                    "R002",
                    with_hint(f"input {name!r} is not in the vocabulary", name, schema.inputs),
                )
    if not protocol.sources:
        yield Issue.at(source_map.span(("id",)), "C001", "protocol cites no sources")
    if protocol.status == "reviewed" and not (protocol.reviewed_by and protocol.reviewed_on):
        yield Issue.at(
            source_map.span(("status",)),
            "C003",
            "a reviewed protocol needs reviewed_by and reviewed_on",
        )
    yield from _text_languages(protocol.title, ("title",), source_map)
    if protocol.applies_to is not None:
        yield from _condition_issues(
            protocol.applies_to, ("applies_to",), schema, declared, source_map
        )

    for step_id, step in protocol.steps.items():
        path: LogicalPath = ("steps", step_id)
        yield from _text_languages(step.title, (*path, "title"), source_map)
        yield from _text_languages(step.family_info, (*path, "family_info"), source_map)
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
            yield from _condition_issues(
                transition.when, (*tpath, "when"), schema, declared, source_map
            )
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
            yield from _text_languages(follow_up.title, (*fpath, "title"), source_map)
            yield from _source_issue(follow_up.source, source_ids, source_map, (*fpath, "source"))
            if follow_up.when is not None:
                yield from _condition_issues(
                    follow_up.when, (*fpath, "when"), schema, declared, source_map
                )
        if not step.next and step.otherwise is None and step.kind not in ENDING_KINDS:
            yield Issue.at(
                source_map.span(path),
                "G002",
                f"step {step_id!r} ({step.kind}) has no way out; only "
                f"{', '.join(sorted(ENDING_KINDS))} steps may end a pathway",
            )
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
        yield from _condition_issues(override.when, (*opath, "when"), schema, declared, source_map)
    yield from _graph_issues(sourced, interrupting)


def _graph_issues(sourced: Sourced[Protocol], interrupting: int) -> Iterator[Issue]:
    """Reachability, passthrough cycles, and the engine size of the protocol's guard table
    (its own guards plus the overrides of other protocols, which share its ruleset)."""
    protocol, source_map = sourced.model, sourced.source_map
    if protocol.entry not in protocol.steps:
        return
    graph = PathwayGraph(protocol, source_map)
    for step_id in graph.unreachable():
        yield Issue.at(
            source_map.key_span(("steps", step_id)),
            "G001",
            f"step {step_id!r} cannot be reached from the entry {protocol.entry!r}",
            "warning",
        )
    passthrough = [s for s, step in protocol.steps.items() if step.passthrough]
    subgraph = graph.graph.subgraph(passthrough)
    for cycle in nx.simple_cycles(subgraph):
        ring = " --> ".join([*cycle, cycle[0]])
        yield Issue.at(
            source_map.key_span(("steps", cycle[0])),
            "G003",
            f"passthrough steps form a cycle: {ring}",
        )
    yield from _trapping_cycles(protocol, source_map, graph)
    guards = len(graph.guards) + interrupting
    rules = 2 * guards
    if rules > MAX_ENGINE_RULES:
        yield Issue.at(
            source_map.span(("id",)),
            "E001",
            f"{guards} guards (overrides included) make {rules} engine rules, above the safe "
            f"{MAX_ENGINE_RULES} for durable-rules; split the protocol",
        )


def _trapping_cycles(
    protocol: Protocol, source_map: SourceMap, graph: PathwayGraph
) -> Iterator[Issue]:
    """G010: steps that lead only to each other, none of them an ending step: a child who
    enters is never routed out ("continue the phase" loops are fine when the phase also has
    a transition out)."""
    for component in nx.strongly_connected_components(graph.graph):
        steps = sorted(node for node in component if node in protocol.steps)
        if not steps:
            continue
        looped = len(component) > 1 or graph.graph.has_edge(steps[0], steps[0])
        leaves = any(
            target not in component for step in steps for target in graph.graph.successors(step)
        )
        ends = any(protocol.steps[step].kind in ENDING_KINDS for step in steps)
        if looped and not leaves and not ends:
            yield Issue.at(
                source_map.key_span(("steps", steps[0])),
                "G010",
                f"steps {', '.join(repr(s) for s in steps)} only lead to each other and none "
                "ends the pathway: a child who enters is never routed out",
                "warning",
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


def _text_languages(
    text: LocalizedText, path: LogicalPath, source_map: SourceMap
) -> Iterator[Issue]:
    missing = [language for language in LANGUAGES if not getattr(text, language)]
    if missing:
        yield Issue.at(
            source_map.span(path),
            "C002",
            f"{path[-1]} has no text in {', '.join(missing)}",
            "warning",
        )


def _condition_issues(
    condition: Condition,
    path: LogicalPath,
    schema: FactSchema,
    declared: set[str],
    source_map: SourceMap,
) -> Iterator[Issue]:
    for test, test_path in iter_tests_with_paths(condition, path):
        where = source_map.span((*test_path, "input"))
        spec = schema.inputs.get(test.input)
        if spec is None:
            yield Issue.at(
                where,
                "R002",
                with_hint(
                    f"input {test.input!r} is not in the vocabulary", test.input, schema.inputs
                ),
            )
            continue
        if not spec.builtin and test.input not in declared:
            yield Issue.at(
                where,
                "T004",
                f"input {test.input!r} is used but not listed in the protocol's inputs",
            )
        yield from _operand_issues(test, spec, source_map.span((*test_path, _yaml_key(test))))


def _yaml_key(test: Test) -> str:
    return test.operator


def _operand_issues(test: Test, spec: InputSpec, where: object) -> Iterator[Issue]:
    from pedonc_routing.source import SourceSpan

    assert isinstance(where, SourceSpan)
    operator, operand = test.operator, test.operand
    if operator not in _TYPE_OPERATORS[spec.type]:
        allowed = ", ".join(sorted(_TYPE_OPERATORS[spec.type]))
        yield Issue.at(
            where,
            "T001",
            f"{operator!r} does not apply to {spec.type} input {spec.name!r} (use: {allowed})",
        )
        return
    values = list(operand) if isinstance(operand, list | tuple) else [operand]
    if operator in ("present", "absent"):
        return
    if operator == "icd10_in":
        for pattern in values:
            try:
                icd10_pattern(pattern)
            except CodeFormatError as error:
                yield Issue.at(where, "T006", str(error))
        return
    if operator == "morphology_in":
        for pattern in values:
            try:
                morphology_pattern(pattern)
            except CodeFormatError as error:
                yield Issue.at(where, "T006", str(error))
        return
    for value in values:
        if spec.type in ("number", "integer"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                yield Issue.at(
                    where, "T001", f"{spec.name!r} is a {spec.type}; compare it with a number"
                )
                continue
            if (
                spec.low is not None
                and spec.high is not None
                and not spec.low <= value <= spec.high
            ):
                yield Issue.at(
                    where,
                    "T002",
                    f"{value!r} lies outside the plausible range of {spec.name!r} "
                    f"[{spec.low:g}, {spec.high:g}] {spec.unit or ''}".rstrip(),
                    "warning",
                )
            exponent = Decimal(repr(value)).normalize().as_tuple().exponent
            decimals = -exponent if isinstance(exponent, int) and exponent < 0 else 0
            if decimals > spec.precision:
                yield Issue.at(
                    where,
                    "T005",
                    f"{value!r} has {decimals} decimals; {spec.name!r} keeps {spec.precision}",
                )
        elif spec.type == "boolean":
            if not isinstance(value, bool):
                yield Issue.at(
                    where, "T001", f"{spec.name!r} is boolean; compare it with true/false"
                )
        elif spec.type == "enum":
            if value not in spec.values:
                yield Issue.at(
                    where,
                    "T003",
                    with_hint(
                        f"{value!r} is not a value of {spec.name!r} ({', '.join(spec.values)})",
                        str(value),
                        spec.values,
                    ),
                )
        elif not isinstance(value, str):
            yield Issue.at(where, "T001", f"{spec.name!r} is text; compare it with a string")
    if operator in NUMERIC_OPERATORS and spec.type not in ("number", "integer"):
        yield Issue.at(where, "T001", f"{operator!r} needs a numeric input")


# -- facilities ------------------------------------------------------------------------------


def _facility_issues(documents: DocumentSet, care: CareCatalogue | None) -> Iterator[Issue]:
    regions = kz_region_codes()
    facility_ids: dict[str, str] = {}
    for sourced in documents.registries:
        for index, facility in enumerate(sourced.model.facilities):
            path: LogicalPath = ("facilities", index)
            source_map = sourced.source_map
            if facility.id in facility_ids:
                yield Issue.at(
                    source_map.span((*path, "id")),
                    "R009",
                    f"facility id {facility.id!r} repeats (first in {facility_ids[facility.id]})",
                )
            facility_ids.setdefault(facility.id, sourced.file)
            if facility.region not in regions:
                yield Issue.at(
                    source_map.span((*path, "region")),
                    "R006",
                    with_hint(
                        f"{facility.region!r} is not an ISO 3166-2:KZ code",
                        facility.region,
                        regions,
                    ),
                )
            if care is None:
                continue
            for cap_index, capability in enumerate(facility.capabilities):
                if capability not in care.capabilities:
                    yield Issue.at(
                        source_map.span((*path, "capabilities", cap_index)),
                        "R003",
                        with_hint(
                            f"unknown capability {capability!r}", capability, care.capabilities
                        ),
                    )
            for spec_index, specialist in enumerate(facility.specialists):
                if specialist not in care.specialists:
                    yield Issue.at(
                        source_map.span((*path, "specialists", spec_index)),
                        "R004",
                        with_hint(
                            f"unknown specialist {specialist!r}", specialist, care.specialists
                        ),
                    )
    covered: set[str] = set()
    for catchment_file in documents.catchments:
        for index, catchment in enumerate(catchment_file.model.catchments):
            path = ("catchments", index)
            if catchment.region not in regions:
                yield Issue.at(
                    catchment_file.source_map.span((*path, "region")),
                    "R006",
                    with_hint(
                        f"{catchment.region!r} is not an ISO 3166-2:KZ code",
                        catchment.region,
                        regions,
                    ),
                )
            if catchment.region in covered:
                yield Issue.at(
                    catchment_file.source_map.span((*path, "region")),
                    "R009",
                    f"region {catchment.region!r} has more than one catchment",
                )
            covered.add(catchment.region)
            for key in ("regional", "republican"):
                target = getattr(catchment, key)
                if target not in facility_ids:
                    yield Issue.at(
                        catchment_file.source_map.span((*path, key)),
                        "R005",
                        with_hint(f"unknown facility {target!r}", target, facility_ids),
                    )
    if documents.catchments:
        first = documents.catchments[0]
        for region in sorted(regions - covered):
            yield Issue.at(
                first.source_map.span(("catchments",)),
                "F002",
                f"region {region} has no catchment (no designated centres)",
                "warning",
            )
    for link_file in documents.links:
        for index, link in enumerate(link_file.model.links):
            for key, target in (("from", link.source_facility), ("to", link.to)):
                if target not in facility_ids:
                    yield Issue.at(
                        link_file.source_map.span(("links", index, key)),
                        "R005",
                        with_hint(f"unknown facility {target!r}", target, facility_ids),
                    )


def _routing_issues(
    documents: DocumentSet, protocols: Mapping[str, Sourced[Protocol]]
) -> Iterator[Issue]:
    facilities = [
        (facility, "") for sourced in documents.registries for facility in sourced.model.facilities
    ]
    network = FacilityNetwork(facilities, [], [])
    regions = sorted({c.region for s in documents.catchments for c in s.model.catchments})
    for sourced in protocols.values():
        for step_id, step in sourced.model.steps.items():
            if step.passthrough:
                continue  # decided at once: no care is given there
            need = Need.of(step)
            if need.min_level == "primary" and need.setting == "outpatient":
                continue  # the attached polyclinic provides it
            capable = network.capable(need)
            if capable and need.urgency == "emergency":
                covered = {facility.region for facility in capable}
                uncovered = [region for region in regions if region not in covered]
                if uncovered:
                    yield Issue.at(
                        sourced.source_map.span(("steps", step_id, "care")),
                        "F003",
                        f"emergency step {step_id!r}: no facility in {', '.join(uncovered)} "
                        "can provide it, so children there travel to another region",
                        "warning",
                    )
            if not capable:
                yield Issue.at(
                    sourced.source_map.span(("steps", step_id, "care")),
                    "F001",
                    f"no facility offers {step_id!r}: capabilities "
                    f"{sorted(need.capabilities)}, specialist {need.specialist!r}, "
                    f"level >= {need.min_level}"
                    + (" with 24 h cover" if need.urgency == "emergency" else ""),
                )
