"""Load rulesets: read each file (bounded), parse it (``engine.ruleset.parse``) or take it from
the compile cache, and combine them.

Every problem in a file is collected and reported together, each located at
its file, line, column and JSON pointer, with a did-you-mean where one helps.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import AiriskError, Problem, ProblemList, RulesetError
from engine.ruleset.model import (
    RuleSet,
    Ruleset,
)
from engine.ruleset.sources import Sources, declared, is_sources_file, read_sources
from engine.source.resources import bundled
from engine.source.safeyaml import Limits, load_text, syntax_of

if TYPE_CHECKING:  # the fact catalogue is built from the case model (pydantic): only a case ruleset needs it
    pass

RULESET_LIMITS = Limits(max_bytes=10 * 1024 * 1024, max_depth=48, max_nodes=1_000_000)


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
    from engine.ruleset import parse  # only a cache miss parses (see engine.ruleset.parse)

    ruleset = parse.parse_ruleset(doc, sources)
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


def load_rules(paths: Sequence[str | Path] | str | Path | None = None, lang: str = "en") -> RuleSet:
    """Load rulesets from files or directories; by default the bundled ones.

    ``lang`` (``en`` or ``zh``) is the language of the rules' text: their titles, messages,
    remediations, "would change", duties, tier titles and cited instruments
    (``engine.ruleset.translate``); ids, facts and conditions are the same in every language.
    The rules are parsed and cached once, every language together, so the SHA-256 and the
    compile cache's key are those of the files whatever the language."""
    from engine.ruleset.translate import LANGS

    if lang not in LANGS:
        raise RulesetError(Problem(message=f"unknown language {lang!r}", code="usage",
                                   hint=f"one of: {', '.join(LANGS)}"))
    if paths is None:
        return _bundled_rules(lang)
    if isinstance(paths, str | Path):
        paths = [paths]
    files = ruleset_files(paths)
    if not files:
        raise RulesetError(Problem(message="no ruleset files found", file=", ".join(map(str, paths))))
    return _in(_load_cached(files, [str(f) for f in files]), lang)


def load_one_cached(path: Path, display: str) -> RuleSet:
    """One ruleset file as a RuleSet, shown as ``display``, through the on-disk cache (its
    ``cache_key`` lets engines reuse compiled matchers across runs)."""
    return _load_cached([path], [display])


def _in(rules: RuleSet, lang: str) -> RuleSet:
    if lang == "en":
        return rules
    from engine.ruleset.translate import in_language

    return in_language(rules, lang)


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


@lru_cache(maxsize=2)
def _bundled_rules(lang: str = "en") -> RuleSet:
    if lang != "en":  # the same English rules, so one parse and one set of compiled matchers' conditions
        return _in(_bundled_rules("en"), lang)
    directory = bundled("rulesets")
    files = ruleset_files([directory])
    return _load_cached(files, [f"rulesets/{f.name}" for f in files])


def with_bundled_files(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """The ruleset files (and their display names) of the bundled rulesets plus those in
    ``paths``, as ``load_rules_with_bundled`` combines them: a given ruleset with a bundled one's
    id takes that one's place (so rules, findings and provenance keep the bundled order), the
    others follow the bundled ones."""
    given = ruleset_files(paths)
    if not given:
        raise RulesetError(Problem(message="no ruleset files found", file=", ".join(map(str, paths))))
    own = _load_cached(given, [str(f) for f in given])  # checked first: its errors name only its files
    by_id = {rs.id: Path(rs.file) for rs in own.rulesets}
    by_name = {f"rulesets/{f.name}": f for f in ruleset_files([bundled("rulesets")])}
    files: list[Path] = []
    names: list[str] = []
    placed: set[Path] = set()
    for rs in _bundled_rules("en").rulesets:
        if rs.id in by_id:
            files.append(by_id[rs.id])
            names.append(str(by_id[rs.id]))
            placed.add(by_id[rs.id])
        elif rs.file in by_name:
            files.append(by_name[rs.file])
            names.append(rs.file)
    for f in given:
        if f not in placed:
            files.append(f)
            names.append(str(f))
    return files, names


def load_rules_with_bundled(paths: Sequence[str | Path], lang: str = "en") -> RuleSet:
    """The bundled rulesets plus those in ``paths`` (the command line's ``--rules``).

    A ruleset in ``paths`` whose id is that of a bundled ruleset replaces the bundled one (an
    edited copy of ``export-controls.yaml`` is assessed instead of the original, not beside it);
    the others are added after the bundled ones. Any other clash (a rule id, a dimension policy
    or a tier scheme declared twice) is the located error ``combine`` reports, with a hint."""
    from engine.ruleset.translate import LANGS

    if lang not in LANGS:
        raise RulesetError(Problem(message=f"unknown language {lang!r}", code="usage",
                                   hint=f"one of: {', '.join(LANGS)}"))
    files, names = with_bundled_files(paths)
    try:
        return _in(_load_cached(files, names), lang)
    except RulesetError as exc:
        from dataclasses import replace

        hint = ("--rules adds to the bundled rulesets: give the ruleset a bundled ruleset's id to replace it, "
                "or pass --no-bundled to use only the rulesets given")
        raise RulesetError([replace(p, hint=p.hint or hint) if p.code == "duplicate_policy" or
                            p.code == "duplicate_id" or "cannot be combined" in p.message else p
                            for p in exc.problems]) from None
