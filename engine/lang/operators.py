"""The comparison operators of the rule language: one registry entry each.

Everything the engine knows about an operator is in its ``Operator`` entry, in the
manner of jsonschema's keyword table and pySigma's modifier mapping; nothing else
in ``engine/`` names operators:

- the JSON Schema shape of its operand (``schema``) and the shape check the loader
  reports first (``shape_error``);
- its type rule against the fact catalogue (``type_error``);
- its negation (the dual operator, which ``nnf`` substitutes under ``not``);
- whether it bounds an ordered value from below or above (``bound``, ``strict``),
  and how the contradiction check decides it for a candidate value (``decide``);
- the reference comparison (``compare``: plain Python, the language's meaning) and
  the compiled one (``test``: a closure with the literal fixed; tests hold the two
  to agreement);
- the evidence symbol of the text and Markdown renders (``symbol``), the phrase of
  the generated rule docs (``words``) and the line of ``docs/rule-language.md``
  (``doc``);
- the durable-rules expression the matcher compiles it to (``durable``);
- how the counterfactual search (``engine.assessment.search``) makes a comparison that held
  false: the values that do it, each with the condition it meets (``counter``; ``None``: the
  operator offers none and the search proposes nothing for it), and whether the comparison
  asks the fact to be among the literal's values (``among``: ``eq``, ``in``, ``contains``),
  which its negation asks it to avoid. An operator that ``allows`` only its listed values is
  made false by any other value of the fact's type, which the search takes from the case model.

A comparison reads one fact. An absent or null fact (``MISSING``) makes every
comparison unknown, except for operators with ``presence`` set (``exists``), which
ask whether the fact is known and are never unknown. Objects and lists are present
but compare false with every operator that does not take a list fact (``on_list``).
A boolean never equals a number (``True == 1`` in Python, not in the rule language).
"""

from __future__ import annotations

import datetime as _dt
import math
import operator as _op
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from engine.errors import did_you_mean
from engine.lang.facts import MISSING, Path

Operand = Literal["scalar", "values", "flag"]
"""What an operator takes: one scalar, a non-empty list of scalars, or true/false."""
Bound = Literal["lower", "upper"]
Test = Callable[[Any], bool]
Counter = Callable[[Any, Any], list[tuple[Any, str]]]
"""(literal, the fact's current value or None) -> [(a value that makes the comparison false, the
condition that value meets, as the search reports it)], the boundary first."""
MAX_VALUES = 256  # most values in one list operand (each is an alternative in the matching core)

_SCALAR_SCHEMA: dict[str, Any] = {"type": ["string", "number", "boolean"]}
_OPERAND_SCHEMA: dict[str, dict[str, Any]] = {
    "scalar": _SCALAR_SCHEMA,
    "values": {"type": "array", "items": _SCALAR_SCHEMA, "minItems": 1, "maxItems": MAX_VALUES},
    "flag": {"type": "boolean"},
}


class FactKind(Protocol):
    """What a type rule reads of a fact (``engine.case.factspec.FactType``)."""

    @property
    def kind(self) -> str: ...
    @property
    def enum(self) -> tuple[Any, ...] | None: ...
    @property
    def element(self) -> str | None: ...


class Keys(Protocol):
    """Short fact keys of the matching core's facts (``engine.match.compiler.KeyMap``)."""

    def key(self, path: Path) -> str: ...
    def contains_key(self, path: Path, element: Any) -> str: ...
    def presence_key(self, path: Path) -> str: ...


@dataclass(frozen=True)
class Operator:
    """One operator of the rule language, with every aspect the engine needs of it."""

    name: str
    operand: Operand
    negation: str  # the dual: ``not (f op v)`` is ``f negation v`` (presence: same name, value flipped)
    compare: Callable[[Any, Any], bool]  # (actual, literal) -> bool: the reference meaning
    test: Callable[[Any], Test]  # literal -> (actual -> bool): the compiled meaning
    fits: Callable[[Operator, FactKind, Any], str | None]  # (self, fact, literal) -> why not, or None
    durable: Callable[[Keys, Path, Any], dict[str, Any]]  # (keys, path, literal) -> durable expression
    words: Callable[[str, Any, Callable[[Any], str]], str]  # (fact, literal, show value) -> phrase
    symbol: str  # in evidence lines: ``pue = 1.6  (≥ 1.5)``
    doc: str  # the meaning, one line of docs/rule-language.md
    bound: Bound | None = None  # an order comparison: bounds the fact from below or above
    strict: bool = False  # an order comparison that excludes its bound
    on_list: bool = False  # compares the elements of a list-of-scalars fact
    presence: bool = False  # asks whether the fact is known: never unknown, sees MISSING
    decide: Callable[[Any, Any], bool | None] | None = None  # (bound, v): does v meet it? None: out of the check
    allows: Callable[[Any], list[Any]] | None = None  # the only values it admits (eq / in), for the check
    counter: Counter | None = None  # (literal, current) -> [(value making it false, condition)]; None: none
    among: bool = False  # holds when the fact (a list fact: an element) is one of the literal's values
    public: bool = True  # written in rulesets (False: only produced by negation)

    @property
    def order(self) -> bool:
        """Whether this is an order comparison (``lt`` ... ``gte``)."""
        return self.bound is not None

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of the operand."""
        return dict(_OPERAND_SCHEMA[self.operand])

    def shape_error(self, value: Any) -> str | None:
        """Why ``value`` (normalised: lists as tuples) is not an operand of this operator, or None."""
        if self.operand == "flag":
            return None if isinstance(value, bool) else f"`{self.name}` takes true or false"
        if self.operand == "values":
            return None if isinstance(value, tuple) and value else f"`{self.name}` takes a non-empty list"
        if isinstance(value, str | int | float | bool):
            return None
        return f"`{self.name}` takes a number, text, yes/no or date"

    def type_error(self, fact: FactKind, value: Any) -> str | None:
        """Why ``fact op value`` does not fit the fact's type, or None."""
        return self.fits(self, fact, value)

    def negated(self, value: Any) -> tuple[str, Any]:
        """(operator, literal) of the comparison true exactly when this one is false."""
        return self.negation, (not value) if self.presence else value


# --------------------------------------------------------------------------- reference comparisons


def same_kind(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` may be equal: a boolean never equals a number."""
    return isinstance(a, bool) == isinstance(b, bool)


def _equal(a: Any, b: Any) -> bool:
    return same_kind(a, b) and a == b


def _scalar(fn: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """``fn`` on a present scalar: objects and lists compare false, as do incomparable types."""

    def compare(actual: Any, value: Any) -> bool:
        if isinstance(actual, dict | list | tuple):
            return False
        try:
            return fn(actual, value)
        except TypeError:
            return False

    return compare


def _ordered(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool]:
    def compare(actual: Any, value: Any) -> bool:
        if isinstance(actual, bool) or isinstance(value, bool):
            return False
        return bool(fn(actual, value))

    return _scalar(compare)


def _has(actual: Any, value: Any) -> bool:
    return isinstance(actual, list | tuple) and any(_equal(x, value) for x in actual)


def _lacks(actual: Any, value: Any) -> bool:
    return isinstance(actual, list | tuple) and not any(_equal(x, value) for x in actual)


def _known(actual: Any, value: Any) -> bool:
    return (actual is not MISSING) is bool(value)


# --------------------------------------------------------------------------- compiled comparisons


def _test_eq(value: Any) -> Test:
    vbool = isinstance(value, bool)

    def eq(a: Any) -> bool:
        return isinstance(a, bool) == vbool and a == value

    return eq


def _test_ne(value: Any) -> Test:
    eq = _test_eq(value)
    return lambda a: not eq(a) and not isinstance(a, dict | list | tuple)


def _test_in(value: Any) -> Test:
    values = tuple(value)
    if values and all(type(v) is str for v in values):
        strings = frozenset(values)
        return lambda a: isinstance(a, str) and a in strings
    return lambda a: any(isinstance(a, bool) == isinstance(v, bool) and a == v for v in values)


def _test_not_in(value: Any) -> Test:
    is_in = _test_in(value)
    return lambda a: not is_in(a) and not isinstance(a, dict | list | tuple)


def _test_contains(value: Any) -> Test:
    vbool = isinstance(value, bool)
    return lambda a: isinstance(a, list | tuple) and any(isinstance(x, bool) == vbool and x == value for x in a)


def _test_not_contains(value: Any) -> Test:
    vbool = isinstance(value, bool)
    return lambda a: isinstance(a, list | tuple) and not any(isinstance(x, bool) == vbool and x == value for x in a)


def _test_order(fn: Callable[[Any, Any], Any]) -> Callable[[Any], Test]:
    def build(value: Any) -> Test:
        if isinstance(value, bool):
            return lambda a: False
        numeric = type(value) in (int, float)

        def order(a: Any) -> bool:
            t = type(a)
            if (t is float or t is int) and numeric:  # the common case, without the checks below
                return fn(a, value)  # type: ignore[no-any-return]
            if isinstance(a, bool):
                return False
            try:
                return bool(fn(a, value))
            except TypeError:
                return False

        return order

    return build


def _test_exists(value: Any) -> Test:
    if value:
        return lambda a: a is not MISSING
    return lambda a: a is MISSING


# --------------------------------------------------------------------------- type rules

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _composite(fact: FactKind) -> str | None:
    if fact.kind == "object_list":
        return "a list of objects cannot be compared; use `some`"
    if fact.kind == "object":
        return "a group of facts cannot be compared; name one of its fields"
    return None


def _literal_error(kind: str, v: Any) -> str | None:
    if kind == "bool" and not isinstance(v, bool):
        return f"a yes/no fact compared with {v!r}"
    if kind == "number" and (isinstance(v, bool) or not isinstance(v, int | float)):
        return f"a number compared with {v!r}"
    if kind == "string" and not isinstance(v, str):
        return f"a text fact compared with {v!r}"
    if kind == "date" and not (isinstance(v, str) and _DATE.fullmatch(v)):
        return f"a date compared with {v!r}"
    return None


def _fits_any(op: Operator, fact: FactKind, value: Any) -> str | None:
    """Presence applies to every fact, objects and lists included."""
    return None


def _fits_value(op: Operator, fact: FactKind, value: Any) -> str | None:
    """A single value (not a list, not an object) compared with one literal or a list of them."""
    why = _composite(fact)
    if why:
        return why
    if fact.kind == "scalar_list":
        return f"a list fact is used as a single value; use `contains` instead of `{op.name}`"
    for v in value if op.operand == "values" else (value,):
        why = _literal_error(fact.kind, v)
        if why:
            return why
        if fact.enum is not None and isinstance(v, str) and v not in fact.enum:
            hint = did_you_mean(v, [str(e) for e in fact.enum])
            return f"{v!r} is not a possible value (one of {', '.join(map(str, fact.enum))})" + (
                f"; {hint}" if hint else ""
            )
    if op.order and fact.kind == "bool":
        return f"`{op.name}` does not apply to a yes/no fact"
    if op.order and fact.kind == "string":
        return f"`{op.name}` compares text byte-wise; use it on numbers or dates"
    return None


def _fits_element(op: Operator, fact: FactKind, value: Any) -> str | None:
    """A list-of-scalars fact tested for one element."""
    why = _composite(fact)
    if why:
        return why
    if fact.kind != "scalar_list":
        return f"`{op.name}` needs a list fact"
    why = _literal_error(fact.element or "string", value)
    if why:
        return why
    if fact.enum is not None and isinstance(value, str) and value not in fact.enum:
        return f"{value!r} is not a possible element (one of {', '.join(map(str, fact.enum))})"
    return None


# --------------------------------------------------------------------------- contradiction check


def _key(v: Any) -> tuple[bool, Any]:
    return (isinstance(v, bool), v)  # True is not 1 in the rule language


def orderable(a: Any, b: Any) -> bool:
    """Whether two literals are ordered alike (both numbers, or both text and dates)."""
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))
    return numbers or (isinstance(a, str) and isinstance(b, str))


def _decide_order(fn: Callable[[Any, Any], Any]) -> Callable[[Any, Any], bool | None]:
    return lambda bound, v: bool(fn(v, bound)) if orderable(v, bound) else None


# --------------------------------------------------------------------------- counterfactual values (the search)


def _step(threshold: float) -> float:
    """One step of a number near ``threshold``: 1 for whole numbers, else a thousandth of its magnitude."""
    if isinstance(threshold, int) and not isinstance(threshold, bool):
        return 1
    mag = abs(threshold) or 1.0
    return float(10 ** (math.floor(math.log10(mag)) - 3))


def _beside(value: Any, above: bool) -> list[Any]:
    """The values just above or below ``value``, preferred first: a number one step away, rounded to
    ten decimals (unrounded if rounding lands back on the bound); a date the next or previous day."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        near = value + _step(value) if above else value - _step(value)
        return [round(near, 10), near]
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            return [(_dt.date.fromisoformat(value) + _dt.timedelta(days=1 if above else -1)).isoformat()]
        except (ValueError, OverflowError):  # not a calendar day, or the first or last one
            return []
    return []


def _against(negation: str, shown: str) -> str:
    """The condition a counter value meets: the negated comparison, in its evidence symbol."""
    return f"{REGISTRY[negation].symbol} {shown}"


def _counter_order(negation: str, fn: Callable[[Any, Any], Any], bound: Bound, strict: bool) -> Counter:
    """A strict bound is false at the bound itself (``lt 0.5``: 0.5), an inclusive one just beyond it
    (``gte 4800``: 4799, ``lte 1.25``: 1.2501); numbers and dates only."""
    compare = _ordered(fn)

    def counter(value: Any, current: Any) -> list[tuple[Any, str]]:
        if not orderable(value, value):
            return []
        shown = f"{value:g}" if not isinstance(value, str) else value
        for new in [value] if strict else _beside(value, above=bound == "upper"):
            if not compare(new, value):
                return [(new, _against(negation, shown))]
        return []  # no number beside one this small

    return counter


def _counter_eq(value: Any, current: Any) -> list[tuple[Any, str]]:
    # Only a yes/no literal names the value that differs; otherwise the fact's type does (``allows``).
    return [(not value, _against("ne", str(value)))] if isinstance(value, bool) else []


def _counter_ne(value: Any, current: Any) -> list[tuple[Any, str]]:
    return [(value, _against("eq", str(value)))]


def _counter_not_in(value: Any, current: Any) -> list[tuple[Any, str]]:
    return [(v, _against("in", str(list(value)))) for v in value]


def _counter_contains(value: Any, current: Any) -> list[tuple[Any, str]]:
    return [([x for x in current if x != value], f"without {value}")] if isinstance(current, list) else []


def _counter_not_contains(value: Any, current: Any) -> list[tuple[Any, str]]:
    return [([*current, value], f"with {value}")] if isinstance(current, list) else []


# --------------------------------------------------------------------------- durable translation


def _durable_eq(keys: Keys, path: Path, value: Any) -> dict[str, Any]:
    return {keys.key(path): value}


def _durable_ne(keys: Keys, path: Path, value: Any) -> dict[str, Any]:
    return {"$neq": {keys.key(path): value}}


def _durable_in(keys: Keys, path: Path, value: Any) -> dict[str, Any]:
    key = keys.key(path)
    alts = [{key: v} for v in value]
    return alts[0] if len(alts) == 1 else {"$or": alts}


def _durable_not_in(keys: Keys, path: Path, value: Any) -> dict[str, Any]:
    key = keys.key(path)
    alts = [{"$neq": {key: v}} for v in value]
    return alts[0] if len(alts) == 1 else {"$and": alts}


def _durable_order(name: str) -> Callable[[Keys, Path, Any], dict[str, Any]]:
    return lambda keys, path, value: {f"${name}": {keys.key(path): value}}


def _durable_element(hit: bool) -> Callable[[Keys, Path, Any], dict[str, Any]]:
    # A list fact becomes one boolean key per element tested: true when the list has it.
    return lambda keys, path, value: {keys.contains_key(path, value): hit}


def _durable_exists(keys: Keys, path: Path, value: Any) -> dict[str, Any]:
    # A presence flag, whatever the fact's type: objects and lists are present too.
    return {"$ex" if value else "$nex": {keys.presence_key(path): 1}}


# --------------------------------------------------------------------------- wording (rule docs)


def _words_equal(positive: bool) -> Callable[[str, Any, Callable[[Any], str]], str]:
    def words(fact: str, v: Any, show: Callable[[Any], str]) -> str:
        if isinstance(v, bool):
            return f"{fact} is {'true' if positive == v else 'false'}"
        return f"{fact} is {'' if positive else 'not '}{show(v)}"

    return words


def _words_order(symbol: str) -> Callable[[str, Any, Callable[[Any], str]], str]:
    return lambda fact, v, show: f"{fact} {symbol} {show(v)}"


def _words_values(word: str) -> Callable[[str, Any, Callable[[Any], str]], str]:
    return lambda fact, v, show: f"{fact} is {word} of {', '.join(show(x) for x in v)}"


def _words_element(verb: str) -> Callable[[str, Any, Callable[[Any], str]], str]:
    return lambda fact, v, show: f"{fact} {verb} {show(v)}"


def _words_exists(fact: str, v: Any, show: Callable[[Any], str]) -> str:
    return f"{fact} is known" if v else f"{fact} is not known (not reported)"


# --------------------------------------------------------------------------- the registry


def _order(name: str, negation: str, fn: Callable[[Any, Any], Any], symbol: str, bound: Bound, strict: bool,
           doc: str) -> Operator:
    """An order comparison: numbers and dates (ISO text), never yes/no."""
    return Operator(
        name=name, operand="scalar", negation=negation,
        compare=_ordered(fn), test=_test_order(fn), fits=_fits_value,
        durable=_durable_order(name), words=_words_order(symbol), symbol=symbol, doc=doc,
        bound=bound, strict=strict, decide=_decide_order(fn),
        counter=_counter_order(negation, fn, bound, strict),
    )


_ENTRIES = (
    Operator(
        name="eq", operand="scalar", negation="ne",
        compare=_scalar(_equal), test=_test_eq, fits=_fits_value,
        durable=_durable_eq, words=_words_equal(True), symbol="=",
        doc="the fact equals V (a yes/no never equals a number)",
        decide=lambda bound, v: _key(v) == _key(bound), allows=lambda v: [v],
        counter=_counter_eq, among=True,
    ),
    Operator(
        name="ne", operand="scalar", negation="eq",
        compare=_scalar(lambda a, v: not _equal(a, v)), test=_test_ne, fits=_fits_value,
        durable=_durable_ne, words=_words_equal(False), symbol="≠",
        doc="the fact is known and differs from V",
        decide=lambda bound, v: _key(v) != _key(bound), counter=_counter_ne,
    ),
    _order("lt", "gte", _op.lt, "<", "upper", True, "the fact is less than V (numbers and dates)"),
    _order("lte", "gt", _op.le, "≤", "upper", False, "the fact is at most V"),
    _order("gt", "lte", _op.gt, ">", "lower", True, "the fact is greater than V"),
    _order("gte", "lt", _op.ge, "≥", "lower", False, "the fact is at least V"),
    Operator(
        name="in", operand="values", negation="not_in",
        compare=_scalar(lambda a, vs: any(_equal(a, v) for v in vs)), test=_test_in, fits=_fits_value,
        durable=_durable_in, words=_words_values("one"), symbol="in",
        doc="the fact equals one of the values",
        decide=lambda bound, v: _key(v) in {_key(b) for b in bound}, allows=list,
        among=True,  # no counter: the values outside the list are the fact type's (``allows``)
    ),
    Operator(
        name="not_in", operand="values", negation="in",
        compare=_scalar(lambda a, vs: not any(_equal(a, v) for v in vs)), test=_test_not_in, fits=_fits_value,
        durable=_durable_not_in, words=_words_values("none"), symbol="not in",
        doc="the fact is known and equals none of the values",
        decide=lambda bound, v: _key(v) not in {_key(b) for b in bound}, counter=_counter_not_in,
    ),
    Operator(
        name="contains", operand="scalar", negation="not_contains",
        compare=_has, test=_test_contains, fits=_fits_element,
        durable=_durable_element(True), words=_words_element("includes"), symbol="contains",
        doc="the list-of-scalars fact has the element V",
        on_list=True, counter=_counter_contains, among=True,
    ),
    Operator(
        name="not_contains", operand="scalar", negation="contains",
        compare=_lacks, test=_test_not_contains, fits=_fits_element,
        durable=_durable_element(False), words=_words_element("does not include"), symbol="lacks",
        doc="the list-of-scalars fact is known and lacks the element V",
        on_list=True, counter=_counter_not_contains,
    ),
    Operator(
        name="exists", operand="flag", negation="exists",
        compare=_known, test=_test_exists, fits=_fits_any,
        durable=_durable_exists, words=_words_exists, symbol="exists",
        doc="the fact is known (`false`: unknown); never unknown itself",
        presence=True, decide=lambda bound, v: None,
        # no counter: making a fact unknown, or known at no value in particular, is no change to propose
    ),
)

REGISTRY: Mapping[str, Operator] = {entry.name: entry for entry in _ENTRIES}
"""Every operator, by name, in the order of the docs and of the schema."""

RULE_OPERATORS: tuple[str, ...] = tuple(name for name, entry in REGISTRY.items() if entry.public)
"""The operators a ruleset may write (the others are produced by negation only)."""

ORDER_OPERATORS: frozenset[str] = frozenset(name for name, entry in REGISTRY.items() if entry.order)
"""The order comparisons (numbers and dates)."""


def get(name: str) -> Operator:
    """The entry of operator ``name``; ValueError for an unknown one."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown operator {name!r}") from None


def is_order(name: str) -> bool:
    """Whether ``name`` is an order comparison (``lt``, ``lte``, ``gt``, ``gte``)."""
    return name in ORDER_OPERATORS


def on_list(name: str) -> bool:
    """Whether ``name`` tests the elements of a list-of-scalars fact (``contains`` and its negation)."""
    entry = REGISTRY.get(name)
    return entry is not None and entry.on_list


def presence(name: str) -> bool:
    """Whether ``name`` asks whether the fact is known (``exists``): never unknown."""
    entry = REGISTRY.get(name)
    return entry is not None and entry.presence


def symbol(name: str) -> str:
    """The evidence symbol of ``name`` (the name itself for an unknown operator)."""
    entry = REGISTRY.get(name)
    return entry.symbol if entry is not None else name
