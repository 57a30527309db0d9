"""Which case facts a user could change (choices) and which describe the world (circumstances),
and which case facts a reported fact comes from (for a derived fact: engine.derive.view.DERIVED_SOURCES).

Counterfactuals (``engine.assessment.search``) only propose changes to *choices*: a compliance
team can pick another buyer, file an algorithm, raise utilisation or put a transfer mechanism
on file; it cannot change a chip's datasheet, the country a site stands in or a party's listing.
Every case fact not named here is a circumstance (``tests/test_levers.py`` checks that every
name here is a real case fact). Paths are dotted; fields of list items are written
``list.field`` (``parties.ultimate_parent_country``).
"""

from __future__ import annotations

import re
from typing import Literal

from engine.derive.view import DERIVED_SOURCES  # the one table of what each derived fact is made from

Lever = Literal["choice", "circumstance"]

CHOICES: frozenset[str] = frozenset({
    # export: the transaction is the exporter's to shape
    "export.destination_country", "export.buyer_kyc_done", "export.licence_held", "export.licence_exception",
    "export.end_use", "export.via_cloud", "export.us_nexus",
    "accelerators.count", "accelerators.licence_held",
    # who the counterparties are (another buyer, another intermediary)
    "parties.country", "parties.headquarters_country", "parties.ultimate_parent_country",
    "owner.headquarters_country", "owner.ultimate_parent_country",
    "us_person_involved", "fab_support.us_person_support", "foundry.approved_designer_attestation",
    # operating a facility
    "facility.accelerator_utilisation", "facility.rack_occupancy", "facility.pue", "facility.green_power_share",
    "facility.workload", "facility.financing", "facility.anchor_tenant_share",
    "facility.connected_to_national_monitoring",
    # duties an AI provider can discharge, and practices it can stop
    "ai_system.algorithm_filed", "ai_system.filing_number", "ai_system.filing_change_submitted",
    "ai_system.filing_deregistered", "ai_system.security_assessment_done",
    "ai_system.model_name_and_filing_displayed", "ai_system.explicit_labels", "ai_system.implicit_labels",
    "ai_system.face_voice_editing_consent", "ai_system.biometric_editing_security_assessment",
    "ai_system.ai_disclosure", "ai_system.machine_readable_marking", "ai_system.emotion_biometric_notice",
    "ai_system.deepfake_disclosed", "ai_system.commission_notified", "ai_system.minors_mode",
    "ai_system.continuous_use_reminder", "ai_system.ethics_review_done", "ai_system.eu_market",
    "ai_system.public_facing_mainland_china", "ai_system.article5_practices", "ai_system.emotion_recognition",
    "ai_system.open_weights",
    "ai_system.genai_security.keyword_library_size", "ai_system.genai_security.test_bank_size",
    "ai_system.genai_security.generated_content_pass_rate",
    "ai_system.genai_security.refusal_rate_should_refuse", "ai_system.genai_security.refusal_rate_should_answer",
    "ai_system.genai_security.training_sample_acceptable_share",
    "ai_system.genai_security.max_source_illegal_content_share",
    "data.transfer_mechanism", "data.pi_impact_assessment_done",
    "data.data_classification_done", "data.cross_border_transfer",
    # choices among the facts added for the 2026-12-01 law (safety, overcapacity)
    "ai_system.systemic_risk_evaluations_done", "ai_system.intimate_imagery_safeguards",
    "ai_system.depicted_person_consent_verified",
    "facility.connected_to_scheduling_platform", "facility.shared_capacity_offered",
})

#: The user's own legal conclusions, kept only to compare with what the facts imply (the rules
#: decide from the facts). Absent means "not stated", never an unknown fact to collect: bounds
#: hold them absent, so no rating range rests on a conclusion the user has not drawn.
#: ``tests/test_levers.py`` checks this is every case field described as the user's own conclusion.
CONCLUSIONS: frozenset[str] = frozenset({"ai_system.annex_iii_area", "ai_system.article5_practices"})

_INDEX = re.compile(r"\[\d+\]")


def generic(fact: str) -> str:
    """``parties[0].country`` -> ``parties.country`` (the form the tables above use)."""
    return _INDEX.sub("", fact)


def is_conclusion(fact: str) -> bool:
    """Whether a case fact (indices allowed) is one of the user's own conclusions (``CONCLUSIONS``)."""
    return generic(fact) in CONCLUSIONS


def lever(fact: str) -> Lever:
    """Whether a case fact (indices allowed) is a choice; anything not listed is a circumstance."""
    return "choice" if generic(fact) in CHOICES else "circumstance"


def sources(fact: str) -> tuple[str, ...]:
    """The case facts a reported fact comes from, with the item index kept
    (``accelerators[0].derived.tpp`` -> ``accelerators[0].tpp``, ``accelerators[0].datasheet``)."""
    found = DERIVED_SOURCES.get(generic(fact))
    if found is None:
        return (fact,)
    m = re.match(r"^([a-z_]+)\[(\d+)\]\.", fact)
    if m is None:
        return found
    name, index = m.group(1), m.group(2)
    return tuple(f"{name}[{index}]." + s[len(name) + 1:] if s.startswith(name + ".") else s for s in found)


def collect_hint(fact: str) -> str:
    """How a user supplies a reported fact: itself, or the case facts it is derived from."""
    found = sources(fact)
    return fact if found == (fact,) else f"{fact} (from {' or '.join(found)})"
