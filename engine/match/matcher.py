"""The only module that talks to durable-rules (its C module, never the Host).

Per process: one ruleset handle per shard, created once. Per case: assert the
case's facts in the default session and drain the fired actions. Then the case
is forgotten in the one way durable-rules 2.0.28 handles safely for that state
(docs/durable-rules.md):

- if an action was dispatched, the session state is **deleted**: retracting facts
  whose actions completed walks freed, still-"dispatching" action frames into
  ``deleteMessageFromFrame``, which writes past its memory pool;
- if no action was dispatched, the facts are **retracted**: no frame is
  dispatching, so that code is never reached, while deleting such a state would
  ``free()`` its never-initialised ``context.messages`` (``createStateNode`` does
  not set it; only a dispatched action does).

The action message ``{"RULE_ID": {"alias": fact, ...}}`` gives the rule id, so no
Python callback per rule is needed. A lock makes one case's assert–drain–forget
atomic, so threads sharing a Matcher never see each other's facts.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Sequence
from typing import Any

import durable_rules_engine as _dre

from engine.errors import EngineError, Problem
from engine.match.compiler import Shard

_names = itertools.count()


class Matcher:
    """Fired rules for a case's facts, on durable-rules' Rete network."""

    def __init__(self, shards: Sequence[Shard]) -> None:
        self.shards = list(shards)
        self._handles: list[int] = []
        self._serial = itertools.count()
        self._lock = threading.Lock()
        try:
            for shard in self.shards:
                name = f"airisk{next(_names)}_{shard.name}"
                self._handles.append(_dre.create_ruleset(name, shard.json()))
        except Exception as exc:  # the core reports parse/limit errors as bare exceptions
            raise EngineError(Problem(message=f"durable-rules refused the compiled ruleset: {exc}",
                                      code="engine_error")) from None

    def match(self, view: dict[str, Any]) -> set[str]:
        """The ids of the rules that fire for one case view (de-duplicated across `$or` branches).

        Which items matched is not taken from the action messages: the reference
        evaluator recomputes it with the evidence, and must agree."""
        fired: set[str] = set()
        with self._lock:
            serial = next(self._serial)
            for shard, handle in zip(self.shards, self._handles, strict=True):
                batch = "[" + ",".join(shard.plan.facts(view, serial)) + "]"
                dispatched = 0
                try:
                    try:
                        _, state = _dre.assert_facts(handle, batch)
                    except Exception as exc:
                        raise EngineError(Problem(message=f"durable-rules could not assert the case facts: {exc}",
                                                  code="engine_error")) from None
                    dispatched = self._drain(handle, state, fired)
                finally:
                    self._forget(handle, batch, dispatched)
        return fired

    @classmethod
    def _forget(cls, handle: int, batch: str, dispatched: int) -> None:
        """Remove the case from the session: delete the state after dispatched actions, else retract."""
        try:
            if dispatched:
                _dre.delete_state(handle, None)
            else:
                _, state = _dre.retract_facts(handle, batch)
                cls._drain(handle, state, None)
        except Exception as exc:  # the state exists: a dispatched action or an assertion made it
            raise EngineError(Problem(message=f"durable-rules could not forget the case facts: {exc}",
                                      code="engine_error")) from None

    @staticmethod
    def _drain(handle: int, state: int, fired: set[str] | None) -> int:
        """Start and complete every pending action; the number dispatched."""
        # The core writes each action as '{"RULE_ID":' + matched facts + '}', one rule per
        # action (serializeResult in durable's src/rules/state.c), and rule ids hold no quote
        # (validated), so the id is the text between the first two quotes.
        action = _dre.start_action_for_state(handle, state)
        message = action[1] if action else None
        count = 0
        while message:
            count += 1
            if fired is not None:
                fired.add(message[2:message.index('"', 2)])
            message = _dre.complete_and_start_action(handle, state)
        return count

    def close(self) -> None:
        for handle in self._handles:
            with contextlib.suppress(Exception):  # best effort at shutdown
                _dre.delete_ruleset(handle)
        self._handles = []
