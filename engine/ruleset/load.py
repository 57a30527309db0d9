"""Load and validate rulesets: YAML → schema check → meaning check → typed rules.

Every problem in a file is collected and reported together, each located at
its file, line, column and JSON pointer, with a did-you-mean where one helps.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.errors import AiriskError, Problem, ProblemList, RulesetError, did_you_mean
from engine.lang import conditions as C
from engine.ruleset import define as D
from engine.ruleset import parameters as P
from engine.ruleset.check_rules import Context, check_header, check_rule, placeholders
from engine.ruleset.model import (
    Citation,
    DimensionPolicy,
    Parameter,
    Rule,
    RuleSet,
    Ruleset,
    Scenario,
    TierScheme,
    Window,
)
from engine.ruleset.schema import SCHEMA
from engine.ruleset.sources import Sources, declared, is_sources_file, read_sources, resolve_citations
from engine.scale import GRADED_LEVELS as LEVEL_NAMES
from engine.source.resources import bundled
from engine.source.safeyaml import Document, Limits, load_text, syntax_of

if TYPE_CHECKING:  # the fact catalogue is built from the case model (pydantic): only a case ruleset needs it
    from engine.case.factspec import Catalogue

RULESET_LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_depth=48, max_nodes=1_000_000)


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
        )
        for c in raw
    )


def _prepare(doc: Document, raw: dict[str, Any], i: int, lang: _Language, problems: ProblemList
             ) -> tuple[dict[str, Any], Document, bool]:
    """The rule as if written out: named conditions expanded, parameters and cited sources filled in.

    Returns the rule, a Document that locates problems in expanded definitions where they
    are written, and whether every name and parameter in the condition resolved."""
    base: list[str | int] = ["rules", i]
    out = dict(raw)
    if "citations" in raw:
        out["citations"] = resolve_citations(doc, raw["citations"], [*base, "citations"], lang.sources, problems)
    out = P.substitute_text(doc, out, base, lang.params, problems)
    if "when" not in raw:
        return out, doc, False
    state = D.Expansion(report_under=(*base, "when"))
    expanded = D.expand(doc, raw["when"], lang.defs, [*base, "when"], [*base, "when"], problems, state)
    lang.used.update(state.used)
    located = D.Relocated.of(doc, state.origins)
    before = len(problems.problems)
    out["when"] = P.resolve(located, expanded, [*base, "when"], lang.params, raw, problems)
    if state.origins or P.mentioned(raw["when"]):
        out["source_when"] = raw["when"]
    return out, located, state.ok and len(problems.problems) == before


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
    P.unused(doc, params, data, problems)
    shared = sources.parameters if sources else {}
    for name in sorted(params.keys() & shared.keys()):
        where = sources.file if sources else ""
        problems.add(doc.where(["parameters", name], f"parameter {name!r} is also defined in {where}",
                               code="duplicate_parameter", hint="define a shared parameter once, in the sources file"))
    used = P.mentioned({"define": data.get("define"), "rules": data.get("rules")})
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
    lang = _language(doc, data, header, sources, problems)
    prepared: list[tuple[int, dict[str, Any]]] = []
    for i, raw in enumerate(raw_rules):
        if not isinstance(raw, dict):
            continue
        for variant in P.variants(raw, lang.defs, lang.params):  # one per epoch of its parameters
            rule, located, resolved = _prepare(doc, variant, i, lang, problems)
            prepared.append((i, rule))
            check_rule(located, rule, i, resolved, ctx, problems)
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
        variants = P.variants(raw, lang.defs, lang.params)
        resolved = ("when", "citations", *P.TEXT_FIELDS, *(_WINDOW if len(variants) > 1 else ()))
        for variant in variants:
            rule, _, _ = _prepare(doc, variant, i, lang, ProblemList())
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
    )


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
    )


def load_ruleset_file(path: str | Path, display: str | None = None) -> Ruleset:
    """Read, validate and type one ruleset file."""
    path = Path(path)
    name = display or str(path)
    try:
        from engine.source.cache import blocks

        if blocks(os.stat(path).st_mode):
            # A FIFO would block until some other process writes to it: rulesets are files.
            raise RulesetError(Problem(message="a ruleset must be a regular file, not a FIFO, socket or "
                                       "directory", file=name, code="io_error"))
        with path.open("rb") as fh:
            # Bounded: `--rules /dev/zero` or a huge file must fail on the size limit, not exhaust memory.
            raw = fh.read(RULESET_LIMITS.max_bytes + 1)
    except OSError as exc:
        raise RulesetError(
            Problem(message=f"cannot read ruleset: {exc.strerror}", file=name, code="io_error")
        ) from None
    return load_ruleset_bytes(raw, name, base=path.parent)


def load_ruleset_bytes(raw: bytes, name: str, sources: Sources | None = None, base: Path | None = None) -> Ruleset:
    """Validate and type one ruleset from the bytes read.

    Its SHA-256 is of these bytes, followed by the bytes of the sources file it cites, if
    any (``cat ruleset.yaml sources.yaml | sha256sum``): a change to either is a new ruleset.
    The sources file the header names is read from ``base`` (default: the directory of
    ``name``) unless given."""
    doc = load_text(raw, name, RULESET_LIMITS, syntax_of(name))
    if sources is None:
        ref = declared(doc.data.get("ruleset") if isinstance(doc.data, dict) else None)
        if ref is not None:
            sources = read_sources((base or Path(name).parent) / ref, str(Path(name).parent / ref))
    ruleset = parse_ruleset(doc, sources)
    return _with_sha(ruleset, hashlib.sha256(raw + (sources.raw if sources else b"")).hexdigest())


def _with_sha(ruleset: Ruleset, sha: str) -> Ruleset:
    from dataclasses import replace

    return replace(ruleset, sha256=sha)


def ruleset_files(paths: Sequence[str | Path]) -> list[Path]:
    """Expand directories to their ``*.yaml`` rulesets (tests, data tables and sources files excluded)."""
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            files.extend(sorted(f for f in p.glob("*.yaml")
                                if not f.name.endswith(".tests.yaml") and not is_sources_file(f)))
        else:
            files.append(p)
    return files


def combine(rulesets: Iterable[Ruleset]) -> RuleSet:
    """Several rulesets as one: ids, tier schemes, dimension policies and scenarios must not clash."""
    rulesets = tuple(rulesets)
    problems = ProblemList()
    owners: dict[str, str] = {}
    for rs in rulesets:
        for rule in rs.rules:
            if rule.id in owners and owners[rule.id] != rs.file:  # a rule's dated variants share its id
                problems.add(
                    Problem(
                        message=f"rule id {rule.id!r} is defined in {owners[rule.id]} and {rs.file}",
                        file=rs.file,
                        line=rule.line,
                        code="duplicate_id",
                    )
                )
            owners[rule.id] = rs.file
    for attr in ("dimensions", "tiers"):
        declared: dict[str, str] = {}
        for rs in rulesets:
            for key in getattr(rs, attr):
                if key in declared:
                    problems.add(
                        Problem(
                            message=f"{attr[:-1]} {key!r} is declared in {declared[key]} and {rs.file}",
                            file=rs.file,
                            code="duplicate_policy",
                        )
                    )
                declared[key] = rs.file
    ids = [rs.id for rs in rulesets]
    for rid in {i for i in ids if ids.count(i) > 1}:
        problems.add(Problem(message=f"ruleset id {rid!r} is loaded twice", code="duplicate_id"))
    inputs = {rs.input for rs in rulesets}
    if len(inputs) > 1:
        problems.add(Problem(message="rulesets of `input: case` and `input: document` cannot be combined"))
    problems.raise_if_any(RulesetError)
    return RuleSet(rulesets)


def load_rules(paths: Sequence[str | Path] | str | Path | None = None) -> RuleSet:
    """Load rulesets from files or directories; by default the bundled ones."""
    if paths is None:
        return _bundled_rules()
    if isinstance(paths, str | Path):
        paths = [paths]
    files = ruleset_files(paths)
    if not files:
        raise RulesetError(Problem(message="no ruleset files found", file=", ".join(map(str, paths))))
    return _load_cached(files, [str(f) for f in files])


def _declared_sources(raw: bytes, name: str) -> str | None:
    """The sources file a ruleset's header names (None also when it does not parse: its load says why)."""
    try:
        doc = load_text(raw, name, RULESET_LIMITS, syntax_of(name))
    except AiriskError:  # reported, located, by the real load
        return None
    return declared(doc.data.get("ruleset") if isinstance(doc.data, dict) else None)


def _sources_of(files: list[Path], raws: list[bytes], names: list[str]) -> list[tuple[str, bytes | None, Path, str]]:
    """For each ruleset that names a sources file: (ruleset name, sources bytes, path, display name).

    Which file a ruleset names is itself cached by the ruleset's bytes, so a warm load
    reads the ruleset and its sources file but parses neither."""
    from engine.source.cache import cached, key_of_bytes, read_bounded

    out: list[tuple[str, bytes | None, Path, str]] = []
    for f, raw, n in zip(files, raws, names, strict=True):
        ref: str | None = cached("ruleset-sources", key_of_bytes([(n, raw)]), partial(_declared_sources, raw, n))
        if ref is not None:
            path = f.parent / ref
            out.append((n, read_bounded(path, 4 * 1024 * 1024), path, str(Path(n).parent / ref)))
    return out


def _load_cached(files: list[Path], names: list[str]) -> RuleSet:
    """combine(load each file), reused from the on-disk cache when nothing it depends on changed.

    Each file is read once: the entry is keyed by the bytes read and built from the same
    bytes, so a ruleset rewritten meanwhile cannot leave one version's rules under the
    other's key (nor a provenance SHA-256 of bytes that were not compiled). The same holds
    for the sources file each ruleset names."""
    from dataclasses import replace

    from engine.ruleset.sources import parse_sources
    from engine.source.cache import cached, key_of, key_of_bytes, read_bounded

    raw_or_none = [read_bounded(f, RULESET_LIMITS.max_bytes) for f in files]
    if any(raw is None for raw in raw_or_none):  # unreadable or not a regular file: the loader says which, located
        return combine(load_ruleset_file(f, display=n) for f, n in zip(files, names, strict=True))
    raws = [raw for raw in raw_or_none if raw is not None]
    deps = _sources_of(files, raws, names)
    if any(src is None for _, src, _, _ in deps):
        return combine(load_ruleset_file(f, display=n) for f, n in zip(files, names, strict=True))
    try:
        tables = sorted(bundled("rulesets/data").glob("*.yaml"))
        key = key_of_bytes([*((f.name, raw) for f, raw in zip(files, raws, strict=True)),
                            *((f"{n} sources {p.name}", src) for n, src, p, _ in deps)],
                           key_of(tables), *names)
    except OSError as exc:
        raise RulesetError(
            Problem(message=f"cannot read ruleset: {exc.strerror}", file=str(exc.filename), code="io_error")
        ) from None
    given = {n: (src, shown) for n, src, _, shown in deps}

    def build() -> RuleSet:
        def one(raw: bytes, n: str) -> Ruleset:
            src, shown = given.get(n, (None, ""))
            return load_ruleset_bytes(raw, n, parse_sources(src, shown) if src is not None else None)

        return combine(one(raw, n) for raw, n in zip(raws, names, strict=True))

    ruleset = cached("rules", key, build)
    return replace(ruleset, cache_key=key) if ruleset.cache_key != key else ruleset


@lru_cache(maxsize=1)
def _bundled_rules() -> RuleSet:
    directory = bundled("rulesets")
    files = ruleset_files([directory])
    return _load_cached(files, [f"rulesets/{f.name}" for f in files])
