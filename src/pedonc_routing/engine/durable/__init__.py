"""The durable-rules evaluator: guards compiled to rulesets of the C engine.

Only this package imports durable-rules, and only its :mod:`.session` module (the C module
``durable_rules_engine`` used directly, not ``durable.lang``: see DESIGN.md section 8 for the
measurements behind each choice). Three seams, one module each:

- :mod:`.translation`: guards -> durable-rules expressions, facts -> the integers it compares;
- :mod:`.sharding`: those expressions spread over rules and rulesets within its limits;
- :mod:`.session`: rulesets created by digest, the bounded sid pool, one assert per
  evaluation with every match collected, and the sid cleaned afterwards.

Guarantees:

- **Three-valued logic.** durable-rules treats a missing field as "every comparison false".
  Each guard G is compiled into two rules: ``T(G)`` (G is certainly true) and ``F(G)`` (G is
  certainly false, written with the comparisons negated). Neither firing means *unknown*, which
  is exactly the reference evaluator's Kleene logic.
- **Numbers are integers.** Every value is encoded as a fixed-point integer of its input's
  declared precision (enum values as indexes, booleans as 0/1, codes as ordered keys), so no
  exponent forms, NaN, or string-vs-number comparisons reach the engine.
- **Deterministic.** All matches of one asserted fact are collected, then the walker orders
  them by the YAML's priority and order; durable-rules' firing order and salience are unused.
- **Thread-safe.** A ruleset is shared; each evaluation checks a session id (sid) out of a
  small pool, so no two threads ever use one sid. The fact is retracted after every
  evaluation (memory stays flat); after a failure of any kind the sid's state is deleted
  before the sid returns to the pool, and a sid whose state cannot be deleted is discarded.
- **Reloadable.** Ruleset names are digests of their definition: a bundle with the same guards
  reuses the ruleset already built (durable-rules cannot redefine a name), never deleting one
  that another bundle may be using.
"""

from __future__ import annotations

from pedonc_routing.engine.durable.evaluator import DurableEvaluator
from pedonc_routing.engine.durable.session import MAX_SIDS
from pedonc_routing.engine.durable.sharding import MAX_GROUPS, MAX_MATCHES, MAX_RULES
from pedonc_routing.engine.durable.translation import encode_facts

__all__ = [
    "MAX_GROUPS",
    "MAX_MATCHES",
    "MAX_RULES",
    "MAX_SIDS",
    "DurableEvaluator",
    "encode_facts",
]
