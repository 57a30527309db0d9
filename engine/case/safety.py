"""Case sections used by the tiered-safety dimension: the AI system, its data,
and the organisation behind it (turnover for penalty exposure).

Fractions are 0..1. Absent means unknown, never "no".
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from engine.case.types import STRICT_MODEL, Code, Count, Flag, Fraction, Name, NonNegative, Text

# Whether a system produces a kind of output: as its intended purpose, as a reasonably foreseeable
# and reproducible outcome without significant modification (AI Act Art. 5(1a)), or not at all.
Generation = Literal["intended_purpose", "foreseeable", "not_generated"]


class GenAISecurity(BaseModel):
    """Figures from a TC260-003-2024 / GB/T 45654-2025 style security self-assessment."""

    model_config = STRICT_MODEL

    max_source_illegal_content_share: Fraction | None = Field(
        None, description="highest share of illegal/unhealthy content found in any training-data source"
    )
    keyword_library_size: Count | None = None
    test_bank_size: Count | None = None
    generated_content_pass_rate: Fraction | None = None
    training_sample_size: Count | None = None
    test_question_sample_size: Count | None = None
    should_refuse_sample_size: Count | None = None
    should_answer_sample_size: Count | None = None
    refusal_rate_should_refuse: Fraction | None = None
    refusal_rate_should_answer: Fraction | None = None
    training_sample_acceptable_share: Fraction | None = None


class AISystem(BaseModel):
    """What the AI system does, where it is offered and what has been filed."""

    model_config = STRICT_MODEL

    purpose: Text | None = None
    generative: Flag | None = None
    modalities: list[Literal["text", "image", "audio", "video", "code", "3d"]] | None = Field(
        None, max_length=8
    )
    public_facing_mainland_china: Flag | None = Field(
        None, description="offered to the public in mainland China (not internal R&D or closed testing)"
    )
    public_opinion_attributes: Flag | None = None
    social_mobilisation_capacity: Flag | None = None
    recommendation_algorithm: Flag | None = None
    deep_synthesis: Flag | None = None
    deep_synthesis_functions: list[Code] | None = Field(
        None,
        description="face_swap, face_generation, voice_clone, voice_synthesis, text_dialogue, "
        "immersive_scene, biometric_editing",
        max_length=16,
    )
    face_voice_editing_consent: Flag | None = None
    biometric_editing_security_assessment: Flag | None = None
    explicit_labels: Flag | None = None
    implicit_labels: Flag | None = None
    algorithm_filed: Flag | None = Field(None, description="filed in the CAC algorithm registry")
    filing_number: Name | None = None
    algorithm_changed_since_filing: Flag | None = Field(
        None, description="the filed algorithm or the filed particulars changed since filing"
    )
    filing_change_submitted: Flag | None = Field(None, description="the change was filed in the CAC registry")
    service_terminated: Flag | None = Field(None, description="the filed service has ended")
    filing_deregistered: Flag | None = Field(
        None, description="the filing was cancelled after the service ended"
    )
    security_assessment_done: Flag | None = None
    model_name_and_filing_displayed: Flag | None = None
    genai_security: GenAISecurity | None = None
    eu_market: Flag | None = Field(None, description="placed on the market or used in the EU")
    eu_role: Literal["provider", "deployer", "importer", "distributor"] | None = None
    placed_on_market_date: dt.date | None = Field(
        None,
        description="when the system (or GPAI model) was first placed on the EU market or put into service; "
        "decides the AI Act Art. 111 transitional rules and the Art. 50(2) grace",
    )
    significantly_modified: Flag | None = Field(
        None,
        description="significantly changed in design or intended purpose after it was placed on the market "
        "(for Art. 111(2): on or after the date the high-risk obligations apply to it)",
    )
    # --- Art. 5 facts: what the system does, from what, about whom, where and why --------------
    infers: list[
        Literal[
            "emotions",
            "intentions",
            "physical_state",
            "race",
            "political_opinions",
            "trade_union_membership",
            "religious_or_philosophical_beliefs",
            "sex_life_or_sexual_orientation",
            "criminal_offence_risk",
            "nothing_about_persons",
        ]
    ] | None = Field(
        None,
        max_length=10,
        description="what the system infers about people (physical_state: pain, fatigue, sickness)",
    )
    input_data: list[
        Literal[
            "facial_images",
            "voice",
            "body_movements",
            "keystrokes",
            "physiological_signals",
            "eye_tracking",
            "dna",
            "written_text",
            "records",
        ]
    ] | None = Field(
        None, max_length=9, description="what the inferences are made from (records: transactions, files, scores)"
    )
    subjects: list[
        Literal[
            "employees",
            "job_candidates",
            "students",
            "education_applicants",
            "customers",
            "patients",
            "general_public",
            "suspects",
        ]
    ] | None = Field(None, max_length=8, description="whom the inferences are about")
    settings: list[
        Literal[
            "workplace",
            "education_institution",
            "law_enforcement",
            "publicly_accessible_space",
            "online_service",
            "private_premises",
        ]
    ] | None = Field(None, max_length=6, description="where the system is used")
    inference_purpose: Literal["medical", "safety", "personal_training_only", "other"] | None = Field(
        None,
        description="why emotions are inferred: medical (e.g. a CE-marked medical device), safety (protection "
        "of life and health, not property), personal_training_only (results never shared with HR or used "
        "in assessment), other",
    )
    remote_biometric_identification: Literal["real_time", "post", "none"] | None = Field(
        None, description="identifies people at a distance by comparing biometric data with a reference database"
    )
    rbi_objective: Literal[
        "targeted_victim_search", "imminent_threat_prevention", "serious_crime_suspect", "other"
    ] | None = Field(None, description="the objective of each real-time identification use (Art. 5(1)(h)(i)-(iii))")
    rbi_prior_authorisation: Flag | None = Field(
        None, description="each use authorised beforehand by a judicial or independent administrative authority"
    )
    dataset_labelling_or_filtering: Flag | None = Field(
        None, description="the categorisation only labels or filters a lawfully acquired biometric dataset"
    )
    builds_facial_recognition_database: Flag | None = None
    untargeted_image_scraping: Flag | None = Field(
        None, description="facial images are collected from the internet or CCTV without targeting specific persons"
    )
    manipulative_techniques: Flag | None = Field(
        None, description="uses subliminal, purposefully manipulative or deceptive techniques"
    )
    exploits_vulnerability: list[Literal["age", "disability", "social_or_economic_situation"]] | None = Field(
        None, max_length=3, description="vulnerabilities of the people it targets that the system exploits"
    )
    materially_distorts_behaviour: Flag | None = None
    significant_harm_likely: Flag | None = None
    scores_social_behaviour: Flag | None = Field(
        None, description="evaluates or classifies people over time by social behaviour or personal characteristics"
    )
    score_detriment_unrelated_or_disproportionate: Flag | None = Field(
        None,
        description="the score leads to detrimental treatment in unrelated contexts or out of proportion to "
        "the behaviour",
    )
    risk_assessment_solely_profiling: Flag | None = Field(
        None,
        description="a crime-risk assessment rests solely on profiling or personality traits (not on objective, "
        "verifiable facts linked to a criminal activity)",
    )
    generates_intimate_imagery_of_real_persons: Generation | None = Field(
        None,
        description="generates or manipulates realistic intimate or sexually explicit material of identifiable "
        "people: as its intended purpose, as a reasonably foreseeable and reproducible outcome, or not_generated",
    )
    generates_child_sexual_abuse_material: Generation | None = None
    intimate_imagery_safeguards: Flag | None = Field(
        None,
        description="reasonable and adequate technical safety measures reliably prevent that output and "
        "correct observed misuse",
    )
    depicted_person_consent_verified: Flag | None = Field(
        None, description="the explicit consent of the person depicted is obtained for each generation"
    )
    # --- Annex III: the use, by sub-point; the carve-outs are uses of their own ------------------
    annex_iii_uses: list[
        Literal[
            "remote_biometric_identification",
            "biometric_verification_only",
            "biometric_categorisation",
            "emotion_recognition",
            "critical_infrastructure_safety_component",
            "education_admission",
            "education_evaluation",
            "education_level_assignment",
            "exam_behaviour_monitoring",
            "recruitment_or_selection",
            "employment_decisions",
            "public_benefits_eligibility",
            "creditworthiness",
            "fraud_detection",
            "life_health_insurance_pricing",
            "emergency_call_triage",
            "law_enforcement_victim_risk",
            "law_enforcement_polygraph",
            "law_enforcement_evidence_reliability",
            "law_enforcement_offending_risk",
            "law_enforcement_profiling",
            "migration_polygraph",
            "migration_risk_assessment",
            "asylum_visa_residence_examination",
            "migration_identification",
            "judicial_decision_support",
            "election_influence",
            "none_of_these",
        ]
    ] | None = Field(None, max_length=28, description="what the system is used for, by Annex III sub-point")
    # The user's own conclusions: kept, compared with what the facts imply (the facts decide).
    # "none": assessed and outside every Annex III area (absent means not yet assessed).
    annex_iii_area: (
        Literal[
            "biometrics",
            "critical_infrastructure",
            "education",
            "employment",
            "essential_services",
            "law_enforcement",
            "migration",
            "justice",
            "none",
        ]
        | None
    ) = Field(None, description="the user's own conclusion; the rules decide from annex_iii_uses")
    annex_i_product: Flag | None = Field(None, description="safety component of a product under Annex I law")
    art6_3_exemption: (
        Literal[
            "narrow_procedural", "improves_completed_activity", "pattern_detection", "preparatory", "none"
        ]
        | None
    ) = None
    profiling: Flag | None = Field(None, description="profiles natural persons")
    article5_practices: (
        list[
            Literal[
                "subliminal_manipulation",
                "exploiting_vulnerabilities",
                "social_scoring",
                "predictive_policing_profiling",
                "untargeted_facial_scraping",
                "emotion_recognition_workplace_education",
                "biometric_categorisation_sensitive",
                "realtime_remote_biometric_id_law_enforcement",
                "non_consensual_intimate_imagery",
                "child_sexual_abuse_material",
            ]
        ]
        | None
    ) = Field(None, max_length=10, description="the user's own conclusion; the rules decide from the facts above")
    emotion_recognition: Flag | None = None
    biometric_categorisation: Flag | None = None
    interacts_with_humans: Flag | None = None
    synthetic_content: Flag | None = Field(
        None, description="generates synthetic audio, image, video or text"
    )
    deepfake: Flag | None = None
    ai_disclosure: Flag | None = Field(None, description="users are told they interact with AI")
    machine_readable_marking: Flag | None = None
    emotion_biometric_notice: Flag | None = Field(
        None, description="people exposed to emotion recognition or biometric categorisation are informed"
    )
    deepfake_disclosed: Flag | None = Field(None, description="deepfake content is disclosed as artificial")
    gpai: Flag | None = Field(None, description="general-purpose AI model provider")
    training_compute_flop: NonNegative | None = None
    commission_notified: Flag | None = Field(
        None, description="systemic-risk GPAI: the Commission was notified (Art. 52)"
    )
    systemic_risk_evaluations_done: Flag | None = Field(
        None,
        description="systemic-risk GPAI: model evaluation, adversarial testing, incident reporting and "
        "cybersecurity in place (Art. 55)",
    )
    open_weights: Flag | None = None
    registered_users: Count | None = None
    monthly_active_users: Count | None = None
    companion: Flag | None = Field(None, description="anthropomorphic / emotional-companion service")
    minors_mode: Flag | None = None
    continuous_use_reminder: Flag | None = Field(
        None, description="reminds users after 2 hours of continuous use"
    )
    ethics_review_done: Flag | None = Field(
        None,
        description="S&T ethics review done, including expert re-review where the activity is on the list",
    )
    highly_autonomous_safety_decisions: Flag | None = None
    human_machine_integration: Flag | None = None


class DataProfile(BaseModel):
    """Personal information and data flows (PIPL, DSL, CAC Order 16)."""

    model_config = STRICT_MODEL

    pipl_applies: Flag | None = Field(
        None,
        description="processes personal information in mainland China or of individuals there (PIPL Art. 3)",
    )
    pi_subjects: Count | None = None
    sensitive_pi_subjects: Count | None = None
    automated_decision_making: Flag | None = None
    pi_shared_or_published: Flag | None = Field(
        None, description="PI is entrusted to, provided to other handlers, or made public (PIPL Art. 55(2))"
    )
    pi_impact_assessment_done: Flag | None = None
    cross_border_transfer: Flag | None = None
    transfer_pi_subjects_ytd: Count | None = Field(
        None, description="individuals whose (non-sensitive) PI was exported since 1 January"
    )
    transfer_sensitive_pi_subjects_ytd: Count | None = None
    transfer_mechanism: (
        Literal["security_assessment", "standard_contract", "certification", "exempt", "none"] | None
    ) = None
    transfer_exemption: Literal["contract_performance", "hr_management", "emergency", "none"] | None = None
    important_data: Flag | None = Field(
        None,
        description="the exported data include important data identified or notified as such by the competent "
        "authorities (one fact: CAC Order 16 Arts. 2 and 7)",
    )
    ciio: Flag | None = Field(None, description="critical information infrastructure operator")
    data_classification_done: Flag | None = None


class Organisation(BaseModel):
    """The provider or operator's size, for penalty exposure."""

    model_config = STRICT_MODEL

    name: Name | None = None
    worldwide_turnover_eur: NonNegative | None = Field(
        None,
        description="worldwide annual turnover of the preceding financial year, in euro (AI Act Art. 99)",
    )
    sme: Flag | None = Field(
        None, description="SME or start-up (AI Act Art. 99(6): the lower amount applies)"
    )
