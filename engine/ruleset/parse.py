"""Parse a ruleset document: schema check → names, parameters and sources resolved → meaning
check → typed rules.

Only a cache miss (or ``airisk validate``) parses: a warm ``airisk assess`` takes its rules from
the compile cache, so ``engine.ruleset.load`` imports this module, and the checks, named
conditions and parameters it needs, only when it parses. Every problem in a file is collected
and reported together, each located at its file, line, column and JSON pointer.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import Problem, ProblemList, RulesetError, did_you_mean
from engine.lang import conditions as C
from engine.ruleset import define as D
from engine.ruleset import parameters as P
from engine.ruleset.check_rules import (
    DUTY_TEXTS,
    Context,
    check_header,
    check_rule,
    check_translations,
    declared_languages,
    placeholders,
)
from engine.ruleset.model import (
    Citation,
    DimensionPolicy,
    Parameter,
    Rule,
    Ruleset,
    Scenario,
    TierScheme,
    Window,
)
from engine.ruleset.schema import SCHEMA, TRANSLATED
from engine.ruleset.sources import Sources, declared, read_sources, resolve_citations
from engine.scale import GRADED_LEVELS as LEVEL_NAMES
from engine.source.safeyaml import Document

if TYPE_CHECKING:  # the fact catalogue is built from the case model (pydantic): only a case ruleset needs it
    from engine.case.factspec import Catalogue


def _runtime_schema() -> dict[str, Any]:
    # Conditions are checked by _check_condition, which gives precise messages; the
    # recursive oneOf of the published schema would only add slow, vaguer errors.
    schema = copy.deepcopy(SCHEMA)
    schema["$defs"]["rule"]["properties"]["when"] = {"type": "object"}
    schema["properties"]["define"]["additionalProperties"] = {"type": "object"}
    return schema


@lru_cache(maxsize=1)
def _validator() -> Any:
    # jsonschema costs ~45 ms to import: only pay it when a ruleset is actually parsed (a cache miss).
    import jsonschema

    return jsonschema.Draft202012Validator(_runtime_schema(), format_checker=jsonschema.FormatChecker())


def plain_data(value: Any) -> Any:
    """YAML data as JSON types: dates become ISO strings (for JSON Schema and JSON output)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_data(v) for v in value]
    return value


def unknown_keys(doc: Document, path: list[str | int], keys: Iterable[str], allowed: Sequence[str]) -> list[Problem]:
    """A located 'unknown key' problem, with a did-you-mean, for each key not in ``allowed``."""
    return [
        doc.where([*path, key], f"unknown key {key!r}", code="unknown_key",
                  hint=did_you_mean(key, allowed) or f"allowed: {', '.join(allowed)}")
        for key in keys
        if key not in allowed
    ]


def _branch_errors(err: Any) -> list[Any]:
    """For a `oneOf` error (a citation by key, by key with a pinpoint, or in full), the errors of the
    branch the value was evidently meant as: fewest errors, then the deepest."""
    if err.validator != "oneOf" or not err.context:
        return [err]
    branches: dict[int, list[Any]] = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    best = min(branches.values(), key=lambda errs: (len(errs), -max(len(e.absolute_path) for e in errs)))
    return [e for sub in best for e in _branch_errors(sub)]


def _schema_problems(doc: Document, data: Any) -> list[Problem]:
    problems: list[Problem] = []
    for err in (e for top in _validator().iter_errors(data) for e in _branch_errors(top)):
        path = list(err.absolute_path)
        if "when" in path or path[:1] == ["define"]:
            continue  # conditions get precise messages from _check_condition
        hint = None
        message = err.message
        if err.validator == "additionalProperties":
            allowed = list(err.schema.get("properties", {}))
            extras = [k for k in err.instance if k not in allowed] if isinstance(err.instance, dict) else []
            problems.extend(unknown_keys(doc, path, extras, allowed))
            continue
        if err.validator == "enum" and isinstance(err.instance, str):
            hint = did_you_mean(err.instance, [str(v) for v in err.validator_value])
        if err.validator == "required":
            message = err.message.replace("is a required property", "is required")
        problems.append(doc.where(path, message, code="schema", hint=hint))
    return problems


def _citations(raw: list[dict[str, Any]]) -> tuple[Citation, ...]:
    return tuple(
        Citation(
            instrument=c["instrument"],
            confidence=c["confidence"],
            article=c.get("article"),
            url=c.get("url"),
            date=c.get("date"),
            note=c.get("note"),
            titles=tuple((lang, c[lang]["instrument"]) for lang in TRANSLATED
                         if isinstance(c.get(lang), dict) and "instrument" in c[lang]),
        )
        for c in raw
    )


def _prepare(doc: Document, raw: dict[str, Any], i: int, lang: _Language, problems: ProblemList
             ) -> list[tuple[dict[str, Any], Document, bool]]:
    """The rule as if written out: named conditions expanded, parameters and cited sources filled in;
    one per dated variant (``parameters.variants``) when a parameter it uses changes in its window.

    Each comes with a Document that locates problems in expanded definitions where they are
    written, and whether every name and parameter in the condition resolved. The citations and
    the named conditions are resolved once for all variants; only the parameters differ."""
    base: list[str | int] = ["rules", i]
    common = dict(raw)
    if "citations" in raw:
        common["citations"] = resolve_citations(doc, raw["citations"], [*base, "citations"], lang.sources, problems)
    if "when" not in raw:
        return [(_with_params(doc, common, base, lang.params, problems), doc, False)]
    state = D.Expansion(report_under=(*base, "when"))
    expanded = D.expand(doc, raw["when"], lang.defs, [*base, "when"], [*base, "when"], problems, state)
    lang.used.update(state.used)
    located = D.Relocated.of(doc, state.origins)
    names = P.mentioned(expanded) | P.mentioned({k: raw.get(k) for k in (*P.TEXT_FIELDS, *TRANSLATED)})
    out: list[tuple[dict[str, Any], Document, bool]] = []
    for variant in P.variants(common, names, lang.params):
        rule = _with_params(doc, variant, base, lang.params, problems)
        before = len(problems.problems)
        rule["when"] = P.resolve(located, expanded, [*base, "when"], lang.params, variant, problems)
        if state.origins or P.mentioned(raw["when"]):
            rule["source_when"] = raw["when"]
        out.append((rule, located, state.ok and len(problems.problems) == before))
    return out


def _with_params(doc: Document, rule: dict[str, Any], base: list[str | int], params: dict[str, Parameter],
                 problems: ProblemList) -> dict[str, Any]:
    """``parameters.substitute_text`` on the rule's English text and on each translation of it
    (``zh:``), each value the one in force in the rule's window."""
    out = P.substitute_text(doc, rule, base, params, problems)
    for lang in TRANSLATED:
        own = rule.get(lang)
        if isinstance(own, dict):
            window = {k: v for k, v in rule.items() if k not in P.TEXT_FIELDS}
            done = P.substitute_text(doc, {**window, **own}, [*base, lang], params, problems)
            out[lang] = {k: done[k] for k in own}
    return out


def _add_once(problems: ProblemList, found: ProblemList) -> None:
    """``found`` added to ``problems``, each problem once (the dated variants of a rule share
    its text and its condition, so they find the same problems)."""
    seen: set[Problem] = set()
    for problem in found.problems:
        if problem not in seen:
            seen.add(problem)
            problems.add(problem)


@dataclass
class _Language:
    """The ruleset-wide names a rule can use: definitions, parameters, sources."""

    defs: dict[str, Any]
    params: dict[str, Parameter]
    sources: Sources | None
    used: set[str] = field(default_factory=set)


def _language(doc: Document, data: dict[str, Any], header: dict[str, Any], sources: Sources | None,
              problems: ProblemList) -> _Language:
    if sources is None and declared(header) is not None and Path(doc.file).parent.is_dir():
        try:
            ref = declared(header)
            assert ref is not None
            sources = read_sources(Path(doc.file).parent / ref, str(Path(doc.file).parent / ref))
        except RulesetError as exc:
            problems.extend(exc.problems)
    params = P.parse_parameters(doc, data, list(sources.entries) if sources else None, problems)
    defs = D.definitions(data)
    D.check_definitions(doc, defs, problems)
    used = P.mentioned({"define": data.get("define"), "rules": data.get("rules")})
    P.unused(doc, params, used, problems)
    shared = sources.parameters if sources else {}
    for name in sorted(params.keys() & shared.keys()):
        where = sources.file if sources else ""
        problems.add(doc.where(["parameters", name], f"parameter {name!r} is also defined in {where}",
                               code="duplicate_parameter", hint="define a shared parameter once, in the sources file"))
    return _Language(defs, {**{k: v for k, v in shared.items() if k in used}, **params}, sources)


def parse_ruleset(doc: Document, sources: Sources | None = None) -> Ruleset:
    """A validated Ruleset from a parsed document, or RulesetError with every problem.

    ``sources`` is the shared sources file the header names, already read; when None and
    the header names one, it is read relative to ``doc.file``."""
    problems = ProblemList()
    data = plain_data(doc.data)
    if not isinstance(data, dict):
        raise RulesetError(doc.where([], "a ruleset file is a mapping with `ruleset` and `rules`"))
    problems.extend(_schema_problems(doc, data))
    header: dict[str, Any] = data["ruleset"] if isinstance(data.get("ruleset"), dict) else {}
    input_kind = header.get("input", "case")
    cat: Catalogue | None = None
    if input_kind == "case":
        from engine.case.factspec import catalogue

        cat = catalogue()
    # The schema errors are already collected; the meaning checks below must not trip over
    # a wrong shape (a hostile or broken ruleset gets located errors, never a TypeError).
    tiers_raw = header.get("tiers")
    tiers = {k: v for k, v in tiers_raw.items() if isinstance(v, dict)} if isinstance(tiers_raw, dict) else {}
    scenarios_raw = header.get("scenarios")
    ctx = Context(cat, tiers_raw, tiers, scenarios_raw if isinstance(scenarios_raw, dict) else {})
    raw_rules: list[Any] = data["rules"] if isinstance(data.get("rules"), list) else []
    check_header(doc, header, ctx, problems)
    check_translations(doc, header, raw_rules, TRANSLATED, problems)
    lang = _language(doc, data, header, sources, problems)
    prepared: list[tuple[int, dict[str, Any]]] = []
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, dict):
            continue
        found = ProblemList()
        variants = _prepare(doc, raw, i, lang, found)  # one per epoch of its parameters
        for rule, located, resolved in variants:
            prepared.append((i, rule))
            check_rule(located, rule, i, resolved, ctx, found)
        if len(variants) > 1:
            _add_once(problems, found)
        else:
            problems.extend(found.problems)
    D.unused(doc, lang.defs, lang.used, problems)
    problems.raise_if_any(RulesetError)
    rules = [_build_rule(doc, raw, i, header, cat, problems) for i, raw in prepared]
    problems.raise_if_any(RulesetError)
    return _build_ruleset(doc, header, input_kind, tuple(rules), ctx, lang)


_WINDOW = ("effective_from", "effective_to")


def written_out(doc: Document, sources: Sources | None = None) -> dict[str, Any]:
    """A ruleset's data as if written out in full: named conditions expanded, parameters filled in
    (in conditions and text; a rule whose window spans a change of value as one rule per epoch)
    and cited sources resolved, every other value as written.

    For tools and tests that read rules as data; RulesetError when the ruleset is not valid."""
    parse_ruleset(doc, sources)  # every problem, located, before anything is read as data
    data = plain_data(doc.data)
    lang = _language(doc, data, data["ruleset"], sources, ProblemList())
    rules = []
    for i, (raw, original) in enumerate(zip(data["rules"], doc.data["rules"], strict=True)):
        variants = _prepare(doc, raw, i, lang, ProblemList())
        resolved = ("when", "citations", *P.TEXT_FIELDS, *TRANSLATED, *(_WINDOW if len(variants) > 1 else ()))
        for rule, _, _ in variants:
            rule.pop("source_when", None)
            rules.append({k: (v if k in resolved else original[k]) for k, v in rule.items()})
    return {k: v for k, v in doc.data.items() if k not in ("define", "parameters", "rules")} | {"rules": rules}


def _build_rule(doc: Document, raw: dict[str, Any], i: int, header: dict[str, Any], cat: Catalogue | None,
                problems: ProblemList) -> Rule:
    cond = C.nnf(C.parse(raw["when"]))
    from engine.match.compiler import expansion_problems

    for limit, message in expansion_problems(cond):
        problems.add(doc.where(["rules", i, "when"], f"rule {raw['id']}: {message} (engine.match.compiler.{limit}; "
                               "see docs/limits.md)", code="too_complex",
                               hint="split the rule into several rules, or use a data table"))
    case_paths, item_paths = C.references(cond)
    lists = set(item_paths)
    for fld in ("message", "remediation", "would_change"):
        if raw.get(fld):
            placeholders(doc, raw[fld], ["rules", i, fld], cat, lists, problems)
        for lang in TRANSLATED:
            own = raw.get(lang)
            if isinstance(own, dict) and own.get(fld):
                placeholders(doc, own[fld], ["rules", i, lang, fld], cat, lists, problems)
    return Rule(
        id=raw["id"],
        title=raw["title"],
        dimension=raw["dimension"],
        severity=raw["severity"],
        points=float(raw["points"]),
        basis=raw["basis"],
        window=Window(raw["effective_from"], raw.get("effective_to")),
        scenarios={
            k: Window(v["effective_from"], v.get("effective_to")) for k, v in (raw.get("scenarios") or {}).items()
        },
        applies_to=tuple(raw.get("applies_to") or ("project", "facility")),
        requires=tuple(tuple(p.split(".")) for p in raw.get("requires", header.get("requires", []))),
        condition=cond,
        raw_when=raw["when"],
        message=raw["message"].strip(),
        remediation=raw.get("remediation"),
        would_change=raw.get("would_change"),
        tier=dict(raw.get("tier") or {}),
        duty=dict(raw["duty"]) if raw.get("duty") else None,
        tags=tuple(raw.get("tags") or ()),
        citations=_citations(raw["citations"]),
        ruleset_id=header["id"],
        case_paths=frozenset(case_paths),
        item_paths={k: frozenset(v) for k, v in item_paths.items()},
        file=doc.file,
        line=doc.positions.get(f"/rules/{i}", (None, None))[0],
        source_when=raw.get("source_when"),
        texts={lang: _texts(raw[lang]) for lang in TRANSLATED if isinstance(raw.get(lang), dict)},
    )


def _texts(own: dict[str, Any]) -> dict[str, Any]:
    """A rule's translation as the Rule holds it: its text fields, the message stripped as the English is."""
    out = {k: (v.strip() if k == "message" else v) for k, v in own.items() if k != "duty"}
    if isinstance(own.get("duty"), dict):
        out["duty"] = {k: v for k, v in own["duty"].items() if k in DUTY_TEXTS}
    return out


def _build_ruleset(doc: Document, header: dict[str, Any], input_kind: str, rules: tuple[Rule, ...],
                   ctx: Context, lang: _Language) -> Ruleset:
    dims = header.get("dimensions") or {}
    return Ruleset(
        id=header["id"],
        version=str(header["version"]),
        title=header["title"],
        input=input_kind,
        sha256="",
        file=doc.file,
        rules=rules,
        tiers={
            k: TierScheme(k, v["title"], tuple(v["order"]), v["default"], bool(v.get("binding", True)))
            for k, v in ctx.tiers.items()
        },
        dimensions={
            k: DimensionPolicy(
                k,
                # No score reaches an infinite threshold: under "severity" points never set the level.
                dict(v["levels"]) if isinstance(v["levels"], dict) else dict.fromkeys(LEVEL_NAMES, math.inf),
                bool(v.get("severity_floor", False)),
                tuple(v.get("key_facts") or ()),
                header["id"],
            )
            for k, v in dims.items()
        },
        scenarios={k: Scenario(k, v["title"], v["basis"]) for k, v in ctx.scenarios.items()},
        definitions=lang.defs,
        parameters=lang.params,
        sources=lang.sources.file if lang.sources else None,
        languages=declared_languages(header),
        texts=_header_texts(header, ctx.tiers),
    )


def _header_texts(header: dict[str, Any], tiers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The header's text in each other language it gives: {lang: {title, description, tiers: {name: title}}}."""
    out: dict[str, dict[str, Any]] = {}
    for lang in TRANSLATED:
        given = header.get(lang)
        own: dict[str, Any] = given if isinstance(given, dict) else {}
        titles = {k: v[lang]["title"] for k, v in tiers.items() if isinstance(v.get(lang), dict) and "title" in v[lang]}
        if own or titles:
            out[lang] = {**{k: v for k, v in own.items() if k in ("title", "description")}, "tiers": titles}
    return out
