"""The durable-rules evaluator: a guard table's shards asserted, their firings read back."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pedonc_routing.compiler.guards import GuardTable
from pedonc_routing.engine.durable.session import (
    Ruleset,
    TooManyMatches,
    created_ruleset,
    fact_body,
    matches,
)
from pedonc_routing.engine.durable.sharding import (
    MAX_RULES,
    ShardDefinition,
    Split,
    holds,
    shard_table,
)
from pedonc_routing.engine.durable.translation import GuardTranslator, encode_facts
from pedonc_routing.engine.evaluator import Truth
from pedonc_routing.engine.reference import ReferenceEvaluator
from pedonc_routing.errors import EngineError
from pedonc_routing.vocabulary.inputs import FactValue, InputSpec

logger = logging.getLogger("pedonc_routing.engine")


@dataclass(frozen=True)
class _Shard:
    """One ruleset of a table and what its rules mean for this table."""

    ruleset: Ruleset
    rule_keys: dict[str, tuple[str, bool]]  # rule name -> (guard key, truth when it fires)
    splits: tuple[Split, ...] = ()

    @property
    def guard_keys(self) -> set[str]:
        return {key for key, _ in self.rule_keys.values()} | {s.guard_key for s in self.splits}


@dataclass(frozen=True)
class _TableRuleset:
    """One guard table's view of its (shared) rulesets."""

    shards: tuple[_Shard, ...]
    fields: dict[str, InputSpec]


class _FallbackLog:
    """Logs once per table that the reference evaluator stood in (no patient data)."""

    def __init__(self) -> None:
        self._seen: set[str] = set()

    def warn(self, table: str) -> None:
        if table not in self._seen:
            self._seen.add(table)
            logger.warning(
                "durable-rules match limit reached in %s: reference evaluator used", table
            )


_fallbacks = _FallbackLog()
_reference = ReferenceEvaluator()


class DurableEvaluator:
    """Evaluates every guard of a table with one assert into each of its rulesets."""

    name = "durable"

    def __init__(self, inputs: Mapping[str, InputSpec]) -> None:
        self._inputs = dict(inputs)
        self._translator = GuardTranslator(self._inputs)
        self._tables: dict[str, _TableRuleset] = {}
        self._lock = threading.Lock()

    def prepare(self, table: GuardTable) -> None:
        """Build (or reuse) the table's ruleset now rather than on first use."""
        self._ruleset(table)

    def definition(self, table: GuardTable) -> list[ShardDefinition]:
        """The rulesets durable-rules receives for a table (:func:`.sharding.shard_table`)."""
        return shard_table(table, self._translator)

    def _ruleset(self, table: GuardTable) -> _TableRuleset:
        found = self._tables.get(table.name)
        if found is not None:
            return found
        with self._lock:
            found = self._tables.get(table.name)
            if found is not None:
                return found
            definitions = self.definition(table)
            largest = max(len(shard.rules) for shard in definitions)
            if largest > MAX_RULES:  # per ruleset: that is where durable-rules hangs
                raise EngineError(
                    f"{table.name}: {largest} rules in one ruleset exceed the safe size "
                    f"{MAX_RULES} for durable-rules; split the protocol"
                )
            shards = tuple(
                _Shard(created_ruleset(table.name, shard.rules), shard.keys, tuple(shard.splits))
                for shard in definitions
                if shard.rules
            )
            fields = {spec.name: spec for spec in (self._inputs[i] for i in table.inputs)}
            # Identical definitions may come from tables with other guard keys (a renamed
            # step, another protocol id): rule names map to *this* table's keys.
            view = _TableRuleset(shards, fields)
            self._tables[table.name] = view
            return view

    def evaluate(self, table: GuardTable, facts: Mapping[str, FactValue]) -> Callable[[str], Truth]:
        view = self._ruleset(table)
        results: dict[str, bool] = {}
        body = fact_body(encode_facts(facts, view.fields))
        for shard in view.shards:
            try:
                fired = matches(shard.ruleset, body)
            except TooManyMatches:
                # Past durable-rules' match limit (error 303) the shard's guards are decided
                # by the reference evaluator, which the differential tests hold equal.
                _fallbacks.warn(table.name)
                reference = _reference.evaluate(table, facts)
                for key in shard.guard_keys:
                    value = reference(key)
                    if value is not None:
                        results[key] = value
                continue
            for rule in fired:
                meaning = shard.rule_keys.get(rule)
                if meaning is not None:
                    results[meaning[0]] = meaning[1]
            for split in shard.splits:
                if holds(split.plan, fired):
                    results[split.guard_key] = split.truth
        return results.get
