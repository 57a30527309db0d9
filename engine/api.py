"""The public API of airisk: what the CLI calls, and what ``import engine`` re-exports.

    from engine import assess, load_rules

    result = assess("cases/guizhou-icc.yaml", as_of="2026-01-01")
    print(result.rating, result.dimensions["export_control"].level)

Every decision about *input* is made here, once: a path or ``-`` (standard input), a case or a
document ruleset (``input: document``, whose inputs are free-form data rather than cases), the
what-if overrides of ``--set``. The CLI parses its arguments, calls one function of this module,
and renders with ``engine.render``. Heavy modules (pydantic models, the jsonschema-checked ruleset
loader) load inside the functions that need them, so importing this module stays cheap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import AiriskError, InputError, Problem
from engine.source.safeyaml import DEFAULT_LIMITS, Document, Limits

if TYPE_CHECKING:
    from engine.assessment.engine import Engine
    from engine.assessment.result import Assessment
    from engine.batch.catalog import Catalog
    from engine.case.model import Case
    from engine.ruleset.model import RuleSet
    from engine.waivers.model import WaiverSet

__all__ = ["assess", "assess_dict", "assess_documents", "assess_files", "assess_many", "counterfactuals", "load_case",
           "load_rules", "read_document"]

def load_rules(paths: Sequence[str | Path] | str | Path | None = None, lang: str = "en") -> RuleSet:
    """Load, check and combine rulesets from files or directories (default: the bundled ones).

    ``lang`` (``en`` or ``zh``) is the language of the rules' text and of the assessments made
    with them (their ``lang``). Raises ``RulesetError`` with every located problem."""
    from engine.ruleset.load import load_rules as load

    return load(paths, lang)


def _ruleset(rules: RuleSet | Sequence[str | Path] | None, lang: str | None = None) -> RuleSet:
    """The rules to assess with, in ``lang`` (None: a RuleSet's own language; English for paths)."""
    from engine.ruleset.model import RuleSet

    if isinstance(rules, RuleSet):
        if lang is None or lang == rules.lang:
            return rules
        from engine.ruleset.translate import in_language

        try:
            return in_language(rules, lang)
        except ValueError as exc:
            raise AiriskError(Problem(message=str(exc), code="usage")) from None
    return load_rules(rules, lang or "en")


def _engine(rules: RuleSet | Sequence[str | Path] | None, lang: str | None = None) -> Engine:
    from engine.assessment.engine import engine_for

    return engine_for(_ruleset(rules, lang))


def read_document(name: str | Path, limits: Limits = DEFAULT_LIMITS, *, stdin_syntax: str = "auto") -> Document:
    """Parse a YAML or JSON file, or standard input for ``-`` (read up to ``limits.max_bytes``).

    A file's syntax follows its name (``.json`` is strict JSON); standard input's is
    ``stdin_syntax`` (``auto``: JSON when it looks like JSON, else YAML)."""
    from engine.source.safeyaml import load_file, load_text

    if str(name) == "-":
        import sys

        return load_text(sys.stdin.buffer.read(limits.max_bytes + 1), "<stdin>", limits, stdin_syntax)
    return load_file(str(name), limits)


def load_case(path: str | Path, *, limits: Limits = DEFAULT_LIMITS) -> Case:
    """Read and validate a YAML or JSON case file (errors name file, line and field).

    ``limits`` bounds the file's size, line length, nesting and so on (docs/limits.md)."""
    from engine.case.validation import load_case_file

    return load_case_file(path, limits)


def assess_dict(case: Case | Mapping[str, Any] | str | Path, rules: RuleSet | None = None,
                as_of: str | dt.date | None = None, scenario: str | None = None, *,
                limits: Limits = DEFAULT_LIMITS, lang: str | None = None) -> dict[str, Any]:
    """Like ``assess`` but returns the assessment as plain JSON-ready data."""
    from engine.case.model import Case

    engine = _engine(rules, lang)
    if isinstance(case, str | Path):
        if engine.rules.input == "document":
            from engine.source.safeyaml import load_file

            doc = load_file(str(case), limits)
            return engine.assess_data(doc.data, as_of=as_of, scenario=scenario, file=doc.file)
        case = load_case(case, limits=limits)
    if isinstance(case, Case):
        return engine.assess_case(case, as_of=as_of, scenario=scenario)
    return engine.assess_data(case, as_of=as_of, scenario=scenario)


def assess(case: Case | Mapping[str, Any] | str | Path, rules: RuleSet | None = None,
           as_of: str | dt.date | None = None, scenario: str | None = None, *,
           limits: Limits = DEFAULT_LIMITS, lang: str | None = None) -> Assessment:
    """Assess one case (a path, a dict or a ``Case``) as of a date (default today).

    ``rules`` defaults to the bundled rulesets; ``scenario`` selects an
    alternative date set declared by a ruleset (e.g. ``digital-omnibus``);
    ``limits`` bounds what is read from a case file (docs/limits.md);
    ``lang`` (``en`` or ``zh``; default: the rules' language, English for the
    bundled ones) is the language of its text (``result.lang``). Raises
    ``InputError`` or ``RulesetError`` (both ``AiriskError``) with located
    problems on bad input."""
    from engine.assessment.result import Assessment

    return Assessment.model_validate(assess_dict(case, rules, as_of, scenario, limits=limits, lang=lang))


def assess_files(names: Sequence[str | Path], rules: RuleSet | Sequence[str | Path] | None = None,
                 as_of: str | dt.date | None = None, scenario: str | None = None, *,
                 sets: Sequence[str] = (), limits: Limits | None = None,
                 lang: str | None = None, waivers: WaiverSet | None = None) -> list[dict[str, Any]]:
    """Assess case files (``-``: standard input), the assessments of ``airisk assess``, in order.

    Every file is read and validated before any is assessed, and every problem of every file is
    raised at once (``InputError``). ``rules`` is a ``RuleSet`` or ruleset paths (default: the
    bundled rulesets); ``sets`` are what-if overrides (``PATH=VALUE``): each assessment is then
    of the changed case, with a ``what_if`` section saying what changed. ``limits`` default to
    the environment's (``AIRISK_MAX_BYTES`` etc., docs/limits.md); ``lang`` (``en``, ``zh``) is the
    language of the assessments' text (default: the rules', English for the bundled ones);
    ``waivers`` (``engine.waivers.load(path)``) marks the findings they cover (docs/waivers.md)."""
    return assess_documents(names, rules, as_of, scenario, sets=sets, limits=limits, lang=lang, waivers=waivers)[0]


def assess_documents(names: Sequence[str | Path], rules: RuleSet | Sequence[str | Path] | None = None,
                     as_of: str | dt.date | None = None, scenario: str | None = None, *,
                     sets: Sequence[str] = (), limits: Limits | None = None, lang: str | None = None,
                     waivers: WaiverSet | None = None, horizon: int = 0
                     ) -> tuple[list[dict[str, Any]], list[Document]]:
    """``assess_files``, with the parsed input of each assessment beside it, in the same order:
    its file and the position of every value, for formats that point into the case file
    (``engine.render.Source.of(document)``; SARIF, GitHub annotations).

    ``horizon`` (days; 0: none) adds to each assessment of a case its ``upcoming`` list: the
    changes due in that many days after the as-of date (``engine.timeline``)."""
    from engine.assessment.engine import parse_as_of
    from engine.source.limits import limits_from_env

    day = parse_as_of(as_of)
    limits = limits if limits is not None else limits_from_env()
    engine = _engine(rules, lang)
    if scenario is not None:
        engine.in_force(day, scenario)  # unknown scenario → located error before any output
    docs = _read_all(engine, names, limits)
    ahead = 0 if sets else horizon  # with --set, the changed case's upcoming changes are shown
    results = [_assess(engine, doc.data, plain, doc.file, day, scenario, waivers, ahead) for doc, plain in docs]
    if sets:  # what-if (issue 16): re-assess each case with the overrides, validated like the case
        results = [_what_if(engine, doc, before, sets, day, scenario, waivers, horizon)
                   for (doc, _), before in zip(docs, results, strict=True)]
    return results, [doc for doc, _ in docs]


def _checked(engine: Engine, data: Any, file: str | None, doc: Document | None = None) -> Any:
    """The one place that tells the two kinds of input apart. For a case ruleset: the validated
    case as data (what ``Engine.assess_case`` starts from), checked without loading pydantic when
    the cached case plan accepts it. For a document ruleset (``input: document``, free-form data
    such as the peer benchmark's): None."""
    if engine.rules.input != "case":
        return None
    from engine.case.validation import plain_case

    return plain_case(data, file=file, doc=doc)


def _assess(engine: Engine, data: Any, plain: Any, file: str | None, day: str, scenario: str | None,
            waivers: WaiverSet | None = None, horizon: int = 0) -> dict[str, Any]:
    """The assessment of one input: its validated case (``_checked``), or a document's data;
    with ``horizon``, a case's assessment carries its ``upcoming`` changes (under the same waivers)."""
    if plain is not None:
        out: dict[str, Any] = engine.assess_plain(plain, as_of=day, scenario=scenario, waivers=waivers)
        if horizon:
            from engine.timeline.timeline import with_upcoming

            out = with_upcoming(engine, plain, out, horizon, waivers)
        return out
    result: dict[str, Any] = engine.assess_data(data, as_of=day, scenario=scenario, file=file, waivers=waivers)
    return result


def _read_all(engine: Engine, names: Sequence[str | Path], limits: Limits) -> list[tuple[Document, Any]]:
    """Every input parsed and checked (``_checked``); every problem of every input raised at once."""
    docs: list[tuple[Document, Any]] = []
    problems: list[Problem] = []
    for name in names:
        try:
            doc = read_document(name, limits)
            docs.append((doc, _checked(engine, doc.data, doc.file, doc)))
        except AiriskError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return docs


def _what_if(engine: Engine, doc: Document, before: dict[str, Any], sets: Sequence[str], day: str,
             scenario: str | None, waivers: WaiverSet | None = None, horizon: int = 0) -> dict[str, Any]:
    """The assessment of the case changed by the ``--set`` overrides, with what changed."""
    from engine.authoring import whatif

    overrides = whatif.parse_sets(tuple(sets))
    changed = whatif.apply(doc.data, overrides, doc.file)
    after = _assess(engine, changed, _checked(engine, changed, doc.file), doc.file, day, scenario, waivers, horizon)
    after["what_if"] = whatif.diff(before, after, overrides)
    return after


def assess_many(cases: Iterable[str | bytes | Mapping[str, Any] | Case], rules: RuleSet | None = None,
                as_of: str | dt.date | None = None, scenario: str | None = None,
                verify: bool = False, record: str = "full", horizon: int = 0) -> Iterator[dict[str, Any]]:
    """Assess cases lazily, one record per input, in order (the records of ``airisk batch``).

    Items may be JSON lines (``str``/``bytes``), mappings or ``Case`` objects.
    Each record is ``{"line": n, "case_id": ..., "assessment": {...}}`` or, for a
    bad item, ``{"line": n, "case_id": ..., "error": {"code", "message", "field",
    "problems"}}``; a bad item never stops the others. For process-parallel or
    file-to-file runs see ``engine.batch.run.run_batch``; for Dask, ``engine.batch.distributed``.

    ``verify=True`` checks, for every case, that the rules the Rete core fired are exactly
    those the reference evaluator finds true (a disagreement is an ``engine_disagreement``
    error record for that case). Safe to call from several threads at once.

    ``record="compact"``: records as ``airisk batch --record compact`` writes them, against
    ``rule_catalog(rules, as_of, scenario)`` (whose ``expand`` makes each full again).

    ``horizon`` (days; 0: none): each assessment of a case lists its ``upcoming`` changes, as
    ``airisk batch --horizon`` and ``airisk assess --horizon`` give them."""
    from engine.batch.records import iter_records, make_assessor

    assessor = make_assessor(rules if rules is not None else load_rules(), as_of, scenario, verify=verify,
                             record=record, horizon=horizon)
    yield from iter_records(cases, assessor)


def rule_catalog(rules: RuleSet | None = None, as_of: str | dt.date | None = None,
                 scenario: str | None = None) -> Catalog:
    """The rule catalogue of the rules in force at ``as_of`` under ``scenario`` (what ``airisk batch
    --catalog`` writes: ``.encoded`` its bytes, ``.id`` the digest compact records name)."""
    from engine.assessment.engine import parse_as_of
    from engine.batch.catalog import Catalog

    return Catalog.build(rules if rules is not None else load_rules(), parse_as_of(as_of), scenario)


def counterfactuals(case: Case | Mapping[str, Any] | Document | str | Path, below: str | None = None,
                    rules: RuleSet | None = None, as_of: str | dt.date | None = None,
                    scenario: str | None = None, *, dimension: str | None = None,
                    limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    """The smallest sets of changes to facts the user controls (``engine.assessment.levers``) that bring
    each dimension at or above ``below`` (default: its own level) below it, each verified by
    re-assessing the changed case (the report of ``airisk explain``). ``case`` may be a path, a
    parsed ``Document`` (``read_document``), a mapping or a ``Case``."""
    from engine.assessment.search import find
    from engine.case.model import Case

    file = None
    if isinstance(case, str | Path):
        from engine.source.safeyaml import load_file

        case = load_file(str(case), limits)
    if isinstance(case, Document):
        data, file = case.data, case.file
    elif isinstance(case, Case):
        data = case.model_dump(mode="json", exclude_none=True)
    else:
        data = case
    return find(data, rules=rules, below=below, dimension=dimension, as_of=as_of, scenario=scenario, file=file)
