"""A guard table spread over rules and rulesets that durable-rules' measured limits accept.

Three limits (DESIGN.md section 8): a rule nests at most :data:`MAX_GROUPS` ``$and``/``$or``
groups, one asserted fact may fire at most :data:`MAX_MATCHES` rules of a ruleset, and ruleset
creation hangs (with the GIL held) well before a few thousand rules, so a ruleset is refused
past :data:`MAX_RULES`. A guard too deep for one rule is split into several whose firing is
recombined (:class:`Split`); guards are packed into shards (one ruleset each) so that no
assert can exceed the match limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pedonc_routing.compiler.guards import GuardTable
from pedonc_routing.engine.durable.translation import Expression, GuardTranslator

#: Rules per ruleset above which durable-rules' ruleset creation is refused (it hangs, with
#: the GIL held, near 2,500-3,000 rules; see DESIGN.md section 8).
MAX_RULES = 1000
#: Rules one asserted fact may fire (measured: 65 matching rules fail the assert with error
#: 303); guard tables are sharded so that no assert can exceed it.
MAX_MATCHES = 64
#: Nested ``$and``/``$or`` groups durable-rules accepts in one rule (measured: 16 groups
#: fail with error 113 whatever the shape, 15 work; our ``pr`` wrapper is one of them).
MAX_GROUPS = 15

Plan = str | tuple[str, list["Plan"]]  # a rule name, or ("$and" | "$or", sub-plans)
Rule = dict[str, Any]


@dataclass(frozen=True)
class Split:
    """A guard's certainly-true or certainly-false expression spread over several rules."""

    guard_key: str
    truth: bool
    plan: Plan


@dataclass
class ShardDefinition:
    """The rules of one ruleset, and what each means: rule name -> (guard key, truth when it
    fires) for a guard in one rule, :class:`Split` for a guard over several."""

    rules: dict[str, Rule] = field(default_factory=dict)
    keys: dict[str, tuple[str, bool]] = field(default_factory=dict)
    splits: list[Split] = field(default_factory=list)


def shard_table(table: GuardTable, translator: GuardTranslator) -> list[ShardDefinition]:
    """The rulesets durable-rules receives for a table, and what each rule means.

    A guard whose expression fits one rule maps rule -> (guard key, truth). A larger one is
    split at its top ``$or``/``$and`` into several rules, and its truth is combined from the
    rules that fired (:class:`Split`), since durable-rules refuses a rule with more than
    :data:`MAX_GROUPS` nested ``$and``/``$or`` groups.

    Guards are packed into shards (one ruleset each) so that no assert can fire more than
    :data:`MAX_MATCHES` rules: durable-rules fails the assert beyond that.
    """
    shards: list[ShardDefinition] = []
    current = ShardDefinition()
    budget = 0
    for index, guard in enumerate(table.guards):
        true, false = translator.both(guard.condition)
        rules: dict[str, Rule] = {}
        keys: dict[str, tuple[str, bool]] = {}
        splits: list[Split] = []
        fires = 0
        for suffix, expression, truth in (("t", true, True), ("f", false, False)):
            before = set(rules)
            plan = _plan(expression, f"g{index}{suffix}", rules)
            # T and F never fire together; a rule fires once per satisfied $or branch.
            added = [name for name in rules if name not in before]
            fires = max(fires, sum(_dnf_terms(rules[name]) for name in added))
            if isinstance(plan, str):
                keys[plan] = (guard.key, truth)
            else:
                splits.append(Split(guard.key, truth, plan))
        fires = min(fires, MAX_MATCHES)  # a guard that may exceed it gets a shard alone
        if budget + fires > MAX_MATCHES and current.rules:
            shards.append(current)
            current, budget = ShardDefinition(), 0
        current.rules.update(rules)
        current.keys.update(keys)
        current.splits.extend(splits)
        budget += fires
    if current.rules or not shards:
        shards.append(current)
    return shards


def holds(plan: Plan, fired: set[str]) -> bool:
    """Whether a split guard's expression holds, given the rules that fired."""
    if isinstance(plan, str):
        return plan in fired
    operator, parts = plan
    if operator == "$and":
        return all(holds(part, fired) for part in parts)
    return any(holds(part, fired) for part in parts)


def _groups(expression: Expression) -> int:
    """Nested ``$and``/``$or`` groups in an expression."""
    for operator in ("$and", "$or"):
        if operator in expression:
            return 1 + sum(_groups(part) for part in expression[operator])
    return 0


def _dnf_terms(rule: Rule) -> int:
    """An upper bound of the matches a rule costs for one fact: durable-rules expands
    ``$or`` into alternatives and counts each it evaluates."""

    def terms(expression: Expression) -> int:
        if "$or" in expression:
            # Every branch counts, even when only one can hold: measured, 33 rules of
            # `$or: [lt, gt]` whose second branch holds already fail the assert.
            return sum(terms(part) for part in expression["$or"])
        if "$and" in expression:
            product = 1
            for part in expression["$and"]:
                product = min(product * terms(part), MAX_MATCHES + 1)
            return product
        return 1

    return terms(rule["all"][0]["m"])


def _plan(expression: Expression, name: str, rules: dict[str, Rule]) -> Plan:
    """Rules for ``expression`` (added to ``rules``) and how their firing combines."""
    if _groups(expression) + 1 <= MAX_GROUPS:  # + 1: the rule's own {"$and": [pr, ...]}
        rules[name] = {"all": [{"m": {"$and": [{"pr": 1}, expression]}}]}
        return name
    operator = "$and" if "$and" in expression else "$or"
    return (
        operator,
        [_plan(part, f"{name}_{index}", rules) for index, part in enumerate(expression[operator])],
    )
