"""Accepted risk: waiver files (``--waivers FILE``), what they do to an assessment, and checks.

``load(path)`` reads and checks a waiver file (located errors); pass the ``WaiverSet`` to
``Engine.assess_*`` / ``engine.api`` (``waivers=``), or to a batch run. See docs/waivers.md."""

from engine.waivers.apply import EXPIRED_RULE, apply, explanation_note, protected_kind
from engine.waivers.model import DEFAULT_MAX_DAYS, Waiver, WaiverSet, load, parse_waivers

__all__ = ["DEFAULT_MAX_DAYS", "EXPIRED_RULE", "Waiver", "WaiverSet", "apply", "explanation_note", "load",
           "parse_waivers", "protected_kind"]
