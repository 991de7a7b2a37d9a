"""Rulesets and session ids of the C engine: the only module that imports durable-rules.

``durable_rules_engine`` is used directly, not ``durable.lang`` (DESIGN.md section 8 has the
measurements behind each choice here):

- a ruleset is created once per process and named by the digest of its definition, since
  durable-rules cannot redefine a name (upstream #262);
- each ruleset has a bounded pool of session ids (sids): one sid is never used by two threads
  at once, and a fresh sid per evaluation crashes the engine after some thousands;
- one evaluation asserts one fact and collects every rule it fires (durable-rules records
  none, #366), then retracts the fact so memory stays flat;
- after any failure the sid's state is deleted before the sid returns to the pool (a sid left
  mid-evaluation answers the next caller wrongly); a sid whose state cannot be deleted is
  discarded. The one exception is the match limit (error 303): the assert is refused before
  any action starts, and there deleting the state crashes durable-rules while retracting
  the fact leaves the sid correct.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import queue
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import durable_rules_engine

from pedonc_routing.errors import EngineError

#: Session ids live at once per ruleset (durable-rules holds at most ~1,023 live sids).
MAX_SIDS = 64
#: durable-rules' error code for an assert that fires more rules than it can hold.
TOO_MANY_MATCHES = 303
#: durable-rules' error code for deleting the state of a sid that has none (measured).
NO_STATE = 309

# durable-rules reports failures as `error("Could not assert message, error code: 303")`.
_ERROR_CODE = re.compile(r"error code: (-?\d+)\s*$")
_nonces = itertools.count(1)


def error_code(error: BaseException) -> int | None:
    """The numeric code a durable-rules error carries, or None if it carries none."""
    text = str(error.args[0]) if error.args else ""
    found = _ERROR_CODE.search(text)
    return int(found.group(1)) if found else None


class TooManyMatches(Exception):
    """durable-rules refused an assert that matched more rules than it can hold."""


@dataclass
class Ruleset:
    """A created durable-rules ruleset and its pool of session ids, shared process-wide by
    every guard table whose definition has the same digest."""

    handle: Any
    name: str
    sids: queue.SimpleQueue[str] = field(default_factory=queue.SimpleQueue)
    live: int = 0  # sids checked out or pooled
    issued: int = 0  # sid names handed out so far: a discarded sid's name is never reused


_registry: dict[str, Ruleset] = {}
_registry_lock = threading.Lock()


def created_ruleset(table_name: str, rules: Mapping[str, Any]) -> Ruleset:
    """The ruleset for ``rules``, created once per process (named by its digest)."""
    text = json.dumps(rules, sort_keys=True, separators=(",", ":"))
    name = "pedonc_" + hashlib.sha256(text.encode()).hexdigest()[:24]
    with _registry_lock:
        ruleset = _registry.get(name)
        if ruleset is None:
            try:
                handle = durable_rules_engine.create_ruleset(name, text)
            except durable_rules_engine.error as error:
                raise EngineError(f"{table_name}: durable-rules refused: {error}") from None
            ruleset = Ruleset(handle, name)
            _registry[name] = ruleset
    return ruleset


def _checkout_sid(ruleset: Ruleset) -> str:
    try:
        return ruleset.sids.get_nowait()
    except queue.Empty:
        pass
    with _registry_lock:
        if ruleset.live < MAX_SIDS:
            ruleset.live += 1
            ruleset.issued += 1
            return str(ruleset.issued)
    return ruleset.sids.get()  # all sids busy: wait for one


def _discard_sid(ruleset: Ruleset) -> None:
    with _registry_lock:
        ruleset.live -= 1


def fact_body(encoded: Mapping[str, int | str]) -> str:
    """The JSON members of a fact, without braces: encoded once per evaluation and shared by
    every shard it is asserted in (only the nonce and the sid differ between asserts)."""
    return json.dumps(encoded)[1:-1]


def matches(ruleset: Ruleset, body: str) -> set[str]:
    """Assert one fact (``body`` from :func:`fact_body`) on a pooled sid and collect every
    rule it fires; the sid is clean again (fact retracted, or its state deleted after a
    failure) before it returns to the pool.

    Raises :class:`TooManyMatches` at durable-rules' match limit and
    :class:`~pedonc_routing.errors.EngineError` for its other errors.
    """
    handle = ruleset.handle
    sid = _checkout_sid(ruleset)
    # sid is a decimal string and the nonce an int: neither needs JSON escaping.
    members = f"{body}, " if body else ""
    fact = f'{{{members}"id": {next(_nonces)}, "sid": "{sid}", "pr": 1}}'
    try:
        fired = _fire(handle, fact)
    except TooManyMatches:
        # The assert was refused before any action started. Deleting the sid's state now
        # crashes durable-rules (measured: a segfault in delete_state after error 303);
        # retracting the fact leaves the sid answering correctly.
        _retract(handle, fact)
        ruleset.sids.put(sid)
        raise
    except durable_rules_engine.error as error:
        _reset_sid(ruleset, sid)
        raise EngineError(f"durable-rules failed: {error}") from None
    except BaseException:
        _reset_sid(ruleset, sid)
        raise
    # Retracting (not deleting the sid's state) keeps memory flat and is ~25% faster:
    # 200,000 routes held RSS at 56 MiB either way (bench soak, see CHANGELOG).
    _retract(handle, fact)
    ruleset.sids.put(sid)
    return fired


def _retract(handle: Any, fact: str) -> None:
    with contextlib.suppress(durable_rules_engine.error):  # not stored when nothing matched
        durable_rules_engine.retract_fact(handle, fact)


def _reset_sid(ruleset: Ruleset, sid: str) -> None:
    """After a failure the sid's state is unknown (an action may be left open): delete it
    before anyone else can check the sid out, or never use the sid again."""
    if _deleted_state(ruleset.handle, sid):
        ruleset.sids.put(sid)
    else:
        _discard_sid(ruleset)


def _fire(handle: Any, fact: str) -> set[str]:
    """Assert ``fact`` and complete every action it starts: the names of the rules fired."""
    fired: set[str] = set()
    try:
        code, state = durable_rules_engine.assert_fact(handle, fact)
    except durable_rules_engine.error as error:
        if error_code(error) == TOO_MANY_MATCHES:
            raise TooManyMatches from None
        raise
    if code == 0:
        result = durable_rules_engine.start_action_for_state(handle, state)
        message = result[1] if result else None
        while message:
            # A message is {"RULE":{...}}; rule names are plain ASCII.
            fired.add(message[2 : message.index('"', 2)])
            message = durable_rules_engine.complete_and_start_action(handle, state)
    elif code != 1:  # 1: no rule matched
        raise EngineError(f"durable-rules assert failed with code {code}")
    return fired


def _deleted_state(handle: Any, sid: str) -> bool:
    """Delete the sid's state; True when it is clean afterwards."""
    try:
        durable_rules_engine.delete_state(handle, sid)
    except durable_rules_engine.error as error:
        return error_code(error) == NO_STATE  # nothing was stored: clean already
    except Exception:
        return False
    return True
