"""Generate the JSON Schemas in ``schemas/`` from their sources of truth.

    python -m engine.authoring.schemas            # rewrite schemas/*.schema.json
    python -m engine.authoring.schemas --check    # exit 1 if any file has drifted

The case and assessment schemas come from the pydantic models; the ruleset
schema from ``engine.ruleset.schema``. A test fails when the committed files
differ from what this module generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from engine.assessment.result import Assessment
from engine.case.model import Case
from engine.ruleset.schema import SCHEMA as RULESET_SCHEMA

NAMES = ("case", "ruleset", "assessment", "waivers", "catalog")

#: The one shape of `airisk assess --format json` (issue 20), stated in the assessment schema.
MULTI_CASE_SHAPE = ("airisk assess --format json: a single CASE file argument gives one object of this schema; a "
                    "directory argument or several CASE arguments give an array of them (#/$defs/AssessmentList), "
                    "even of one. airisk batch writes one record per line instead.")


def schema(name: str) -> dict[str, Any]:
    """The JSON Schema called ``name`` (case, ruleset, assessment, waivers or catalog)."""
    if name == "case":
        out = Case.model_json_schema()
        out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out["$id"] = "https://airisk.dev/schemas/case.schema.json"
        return out
    if name == "assessment":
        out = Assessment.model_json_schema()
        out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        out["$id"] = "https://airisk.dev/schemas/assessment.schema.json"
        out["$comment"] = MULTI_CASE_SHAPE
        out.setdefault("$defs", {})["AssessmentList"] = {
            "description": "What `airisk assess --format json` writes for a directory or several CASE arguments: "
                           "an array of assessments (even of one), in the order of the arguments, each "
                           "directory's files sorted by name. A single CASE file gives one assessment object.",
            "items": {"$ref": "#"}, "type": "array"}
        return out
    if name == "ruleset":
        return RULESET_SCHEMA
    if name == "waivers":
        from engine.waivers.schema import SCHEMA as WAIVERS_SCHEMA

        return WAIVERS_SCHEMA
    if name == "catalog":
        from engine.batch.catalog_schema import SCHEMA as CATALOG_SCHEMA

        return CATALOG_SCHEMA
    raise KeyError(name)


def text(name: str) -> str:
    return json.dumps(schema(name), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    target = Path(__file__).resolve().parents[2] / "schemas"
    drifted = []
    for name in NAMES:
        path = target / f"{name}.schema.json"
        want = text(name)
        if "--check" in argv:
            if not path.exists() or path.read_text(encoding="utf-8") != want:
                drifted.append(str(path))
        else:
            path.write_text(want, encoding="utf-8")
    if drifted:
        print("schema drift: " + ", ".join(drifted) + " (run: python -m engine.authoring.schemas)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
