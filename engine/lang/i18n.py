"""The engine's own sentences in each language it renders: the phrase table, once.

The rules' text is in the rulesets (``zh:`` beside the English; ``engine.ruleset.translate``).
What the engine writes itself — the overall explanation, the report chrome of the text and
Markdown renderers, level, severity, basis and dimension names — is here, one entry per
phrase and language. The renderers and ``engine.assessment.scoring`` look phrases up by key; the
JSON keeps every enum value (levels, severities, dimensions), rule id and fact path in English.

Each phrase is a ``str.format`` template: the English ones are exactly the text the engine
wrote before it had languages, so English output does not change.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = get_args(Lang)
"""The languages airisk renders: English (the rulesets' own text) and Chinese."""

_EN: dict[str, str] = {
    # engine.assessment.scoring.overall
    "overall.none": "Not assessed: no rule applies to what the case describes.",
    "overall.covers": " Covers {covered}",
    "overall.skipped": "; not assessed: {skipped}.",
    "overall.end": ".",
    "overall.could": " Could be {level}: {count} decisive {facts} unknown{named}.",
    "overall.named": " ({names})",
    "overall.low": "Rated LOW: no assessed dimension reached medium.",
    "overall.driven": "{dim} is {level} (score {score}) driven by {named}",
    "paren.open": " (", "paren.close": ")",  # a driver: "OVC-002 (its title)"
    "overall.more": "; and {more} more",
    "overall.rated": "Rated {level}: {parts}.",
    "fact": "fact", "facts": "facts",
    "sep.list": ", ", "sep.items": "; ", "sep.parts": " | ", "more": ", …",
    # the headline and next steps (text and Markdown)
    "not_assessed.rating": "NOT ASSESSED",
    "headline.could": " — could be {level}: {count} decisive {facts} unknown",
    "step.collect": "Collect {hint}: it decides {rules}",
    "step.remedy": "{remedy} ({rule}, {severity})",
    "hint.from": "{fact} (from {sources})", "hint.or": " or ",
    # the text report
    "text.rating": "Rating: {headline}   as of {as_of}",
    "text.scenario": "   scenario {scenario}",
    "text.next": "Next steps:",
    "text.upcoming": "Upcoming changes:",
    "col.dimension": "dimension", "col.level": "level", "col.range": "range", "col.score": "score",
    "col.findings": "findings", "col.confidence": "confidence", "col.decisive": "decisive unknowns",
    "not_assessed": "not assessed",
    "text.missing": "  missing: {facts}",
    "text.nothing": "  the case describes nothing these rules are about",
    "text.decisive": "  decisive unknowns: {facts}",
    "text.not_assessed": "  not assessed: {rules} rule(s) about {sections}, which the case does not describe",
    "text.nonbinding": " (indicative, non-binding)",
    "text.duty": "  duty [{jurisdiction}]: {obligation}",
    "deadline": " — {deadline}",
    "text.findings": "Findings ({count}):",
    "text.points": "  (+{points}, {basis})",
    "text.in_force": "    in force {start} → {end}; {sources}",
    "open": "open",
    "text.remedy": "    remedy: {text}",
    "text.would_change": "    would change: {text}",
    "text.needs": "Needs information ({count}):",
    "text.missing_item": "- {rule} {title}: missing {facts}",
    "text.footer": "airisk {version}; rulesets: {rulesets}",
    "text.ruleset": "{id} {version} ({in_force}/{rules} in force, sha256 {sha})",
    # the Markdown report
    "md.rating": "**Rating: {headline}** (as of {as_of})",
    "md.next": "## Next steps",
    "md.upcoming": "## Upcoming changes",
    "md.indicative": " (indicative)",
    "md.duty": "- Duty ({jurisdiction}): {obligation}",
    "md.findings": "## Findings",
    "md.meta": "*{severity}, {dimension}, +{points} points, {basis}*",
    "md.source": "- Source: {ref} ({confidence}{date})",
    "md.in_force": "- In force: {start} → {end}",
    "md.remedy": "- Remedy: {text}",
    "md.would_change": "- Would change: {text}",
    "md.needs": "## Needs information",
    "md.missing_item": "- {rule} {title}: missing {facts}",
    "md.missing": "## Missing facts",
    "md.missing_intro": "Key facts the case does not state, by dimension (each lowers the dimension's confidence; "
                        "an unknown fact is never taken as safe).",
    "md.missing_dim": "- {dimension} (confidence {confidence}): {facts}",
    "md.decisive_item": "- `{fact}` decides {rules}",
    "md.decisive": "Decisive unknowns (a value of these could move the rating):",
    "md.provenance": "## Provenance",
    "md.engine": "- Engine: airisk {version}",
    "md.as_of": "- As of: {as_of}",
    "md.scenario": "- Scenario: {scenario}",
    "md.no_scenario": "- Scenario: none (the law as in force)",
    "md.lang": "- Language: {code}",
    "md.rulesets": "| ruleset | version | rules in force | SHA-256 |",
    "md.waivers": "Waivers applied:",
    "md.legend": "## Confidence marks",
    "md.legend_intro": "The mark after each source says how its text was seen (docs/rule-language.md, "
                       "\"Confidence marks\"):",
    "mark.P": "primary text (the instrument itself: Federal Register, BIS, SEC filing, MOFCOM, CAC …)",
    "mark.P-q": "primary text seen quoted (the instrument's words, read in a reliable quotation)",
    "mark.S": "secondary source (law firm, news, analyst)",
    "mark.UNCONFIRMED": "not confirmed from any source: the rule is advisory only, and its finding says so",
    # waivers (engine.waivers)
    "waiver.note": " Waived (accepted risk, not counted): {items}.",
    "waiver.line": "WAIVED (not counted) by {approver} until {expires}{ticket}: {reason} ({where})",
    "waiver.item": "{rule}{mark} by {approver} until {expires}",
    "waiver.kind.prohibited": " [prohibited tier]",
    "waiver.kind.entity_list": " [Entity List]",
    "waiver.expired.title": "Waiver of {rule} expired on {expires}: the finding counts again",
    "waiver.expired.message": "The waiver of {rule} approved by {approver}{ticket} ({where}) expired on {expires}; "
                              "it no longer applies and {rule} counts toward the rating.",
    "waiver.expired.source": "Waiver file {where}",
    "waiver.expired.remedy": "Renew the waiver with a new approval (a new expiry date), or remediate {rule}.",
    # the one-line text of an upcoming change (engine.timeline.timeline.describe)
    "upcoming.becomes": "{dimension} becomes {level}", "upcoming.stays": "{dimension} stays {level}",
    "upcoming.range": ", range {before} → {after}", "upcoming.why": " ({why})",
    "upcoming.starts": "{rule}, {title}", "upcoming.ends": "{rule} ends: {title}",
    "upcoming.changes": "{rule} changes: {title}", "upcoming.rating": "rating {level}, range {range}",
    "upcoming.sep": ", ",
    # airisk timeline (engine.timeline.render)
    "tl.title": "# Timeline: {title}", "tl.window": "Timeline {window}", "tl.scenario": ", scenario {scenario}",
    "tl.first": "{date}: rating {rating} [{range}]; {levels}; {count} finding(s)",
    "tl.start": "## {date} (start)",
    "tl.none": "  no change in this window", "tl.md_none": "No change in this window.",
    "tl.head": "rating {was} → {now} [{was_range} → {range}]",
    "tl.levels": "levels: {levels}",
    "tl.source": "source: {citation}",
    "tl.rules_changing": "rules starting or ending that day: {rules}",
    "tl.tail": "{days} day(s) of change in the window (rules starting or ending, country groups); "
               "{steps} changed this case",
    # airisk diff --summary (engine.timeline.diff.render_summary)
    "diff.title": "# Impact diff", "diff.section": "{title}:",
    "diff.head": "{cases} case(s): {changed} changed, {unchanged} unchanged", "diff.errors": ", {errors} error(s)",
    "diff.rating": "Rating", "diff.dimensions": "Dimensions", "diff.rules": "Rules accounting for the changes",
    "diff.moved": "Moved most", "diff.unexplained": "Moves no rule accounts for",
    "diff.up": "up", "diff.down": "down", "diff.range": "range",
    "diff.rating_row": "{direction}: {old} → {new}: {cases}",
    "diff.dimension_row": "{dimension} {direction}: {old} → {new}: {cases}",
    "diff.rule_row": "{rule} {how}: {cases} case(s)",
    "diff.how.added": "added", "diff.how.removed": "removed", "diff.how.reworded": "reworded",
    "diff.how.undecided": "undecided",
    "diff.moved_row": "{case} (line {line}): rating {rating}, {steps} step(s)",
    "diff.unexplained_row": "{moves} move(s), e.g. {cases}",
}

_ZH: dict[str, str] = {
    "overall.none": "未评估：没有规则适用于本案所描述的内容。",
    "overall.covers": "涵盖{covered}",
    "overall.skipped": "；未评估：{skipped}。",
    "overall.end": "。",
    "overall.could": "可能为{level}：{count}项决定性事实未知{named}。",
    "overall.named": "（{names}）",
    "overall.low": "评级为低：没有任何已评估维度达到中。",
    "overall.driven": "{dim}为{level}（得分{score}），由{named}导致",
    "paren.open": "（", "paren.close": "）",
    "overall.more": "；另有{more}项",
    "overall.rated": "评级为{level}：{parts}。",
    "fact": "", "facts": "",
    "sep.list": "、", "sep.items": "；", "sep.parts": " | ", "more": "、…",
    "not_assessed.rating": "未评估",
    "headline.could": " — 可能为{level}：{count}项决定性事实未知",
    "step.collect": "收集{hint}：它决定{rules}",
    "step.remedy": "{remedy}（{rule}，{severity}）",
    "hint.from": "{fact}（来自{sources}）", "hint.or": "或",
    "text.rating": "评级：{headline}   评估基准日 {as_of}",
    "text.scenario": "   情景 {scenario}",
    "text.next": "下一步：",
    "text.upcoming": "即将发生的变化：",
    "col.dimension": "维度", "col.level": "等级", "col.range": "区间", "col.score": "得分",
    "col.findings": "发现", "col.confidence": "置信度", "col.decisive": "决定性未知事实",
    "not_assessed": "未评估",
    "text.missing": "  缺少：{facts}",
    "text.nothing": "  本案未描述这些规则所涉及的任何内容",
    "text.decisive": "  决定性未知事实：{facts}",
    "text.not_assessed": "  未评估：{rules}条规则涉及{sections}，本案未描述",
    "text.nonbinding": "（参考性，不具约束力）",
    "text.duty": "  义务 [{jurisdiction}]：{obligation}",
    "deadline": " — {deadline}",
    "text.findings": "发现（{count}项）：",
    "text.points": "  （+{points}，{basis}）",
    "text.in_force": "    有效期 {start} → {end}；{sources}",
    "open": "至今",
    "text.remedy": "    整改：{text}",
    "text.would_change": "    何种情况会改变结论：{text}",
    "text.needs": "需要补充信息（{count}项）：",
    "text.missing_item": "- {rule} {title}：缺少{facts}",
    "text.footer": "airisk {version}；规则集：{rulesets}",
    "text.ruleset": "{id} {version}（{in_force}/{rules}条有效，sha256 {sha}）",
    "md.rating": "**评级：{headline}**（评估基准日 {as_of}）",
    "md.next": "## 下一步",
    "md.upcoming": "## 即将发生的变化",
    "md.indicative": "（参考性）",
    "md.duty": "- 义务（{jurisdiction}）：{obligation}",
    "md.findings": "## 发现",
    "md.meta": "*{severity}，{dimension}，+{points}分，{basis}*",
    "md.source": "- 依据：{ref}（{confidence}{date}）",
    "md.in_force": "- 有效期：{start} → {end}",
    "md.remedy": "- 整改：{text}",
    "md.would_change": "- 何种情况会改变结论：{text}",
    "md.needs": "## 需要补充信息",
    "md.missing_item": "- {rule} {title}：缺少{facts}",
    "md.missing": "## 缺失事实",
    "md.missing_intro": "本案未说明的关键事实，按维度列出（每项都会降低该维度的置信度；未知事实从不视为安全）。",
    "md.missing_dim": "- {dimension}（置信度 {confidence}）：{facts}",
    "md.decisive_item": "- `{fact}` 决定 {rules}",
    "md.decisive": "决定性未知事实（其取值可能改变评级）：",
    "md.provenance": "## 来源与版本",
    "md.engine": "- 引擎：airisk {version}",
    "md.as_of": "- 评估基准日：{as_of}",
    "md.scenario": "- 情景：{scenario}",
    "md.no_scenario": "- 情景：无（按现行有效规定）",
    "md.lang": "- 语言：{code}",
    "md.rulesets": "| 规则集 | 版本 | 有效规则 | SHA-256 |",
    "md.waivers": "已适用的豁免：",
    "md.legend": "## 置信度标记",
    "md.legend_intro": "每项依据后的标记说明其文本的获取方式（见 docs/rule-language.md“Confidence marks”）：",
    "mark.P": "原始文本（文件本身：美国《联邦公报》、BIS、SEC 文件、商务部、国家网信办等）",
    "mark.P-q": "经引用所见的原始文本（在可靠引述中读到的文件原文）",
    "mark.S": "二手来源（律师事务所、新闻、分析机构）",
    "mark.UNCONFIRMED": "未经任何来源证实：该规则仅为参考性，其发现会注明这一点",
    "waiver.note": " 已豁免（已接受的风险，不计入评级）：{items}。",
    "waiver.line": "已豁免（不计入评级），由{approver}批准，有效期至{expires}{ticket}：{reason}（{where}）",
    "waiver.item": "{rule}{mark}，由{approver}批准，有效期至{expires}",
    "waiver.kind.prohibited": "【禁止等级】",
    "waiver.kind.entity_list": "【实体清单】",
    "waiver.expired.title": "{rule}的豁免已于{expires}到期：该发现重新计入评级",
    "waiver.expired.message": "由{approver}批准的{rule}豁免{ticket}（{where}）已于{expires}到期；"
                              "该豁免不再适用，{rule}计入评级。",
    "waiver.expired.source": "豁免文件 {where}",
    "waiver.expired.remedy": "经重新批准续期该豁免（设定新的到期日），或整改{rule}。",
    "upcoming.becomes": "{dimension}变为{level}", "upcoming.stays": "{dimension}保持{level}",
    "upcoming.range": "，区间 {before} → {after}", "upcoming.why": "（{why}）",
    "upcoming.starts": "{rule}：{title}", "upcoming.ends": "{rule}终止：{title}",
    "upcoming.changes": "{rule}变更：{title}", "upcoming.rating": "评级{level}，区间 {range}",
    "upcoming.sep": "；",
    "tl.title": "# 时间线：{title}", "tl.window": "时间线 {window}", "tl.scenario": "，情景 {scenario}",
    "tl.first": "{date}：评级{rating} [{range}]；{levels}；{count}项发现",
    "tl.start": "## {date}（起始）",
    "tl.none": "  此期间无变化", "tl.md_none": "此期间无变化。",
    "tl.head": "评级 {was} → {now} [{was_range} → {range}]",
    "tl.levels": "各维度等级：{levels}",
    "tl.source": "依据：{citation}",
    "tl.rules_changing": "当日开始或终止的规则：{rules}",
    "tl.tail": "此期间共有{days}个变化日（规则开始或终止、国家组别变化）；其中{steps}个改变了本案",
    "diff.title": "# 影响对比", "diff.section": "{title}：",
    "diff.head": "共{cases}个案例：{changed}个有变化，{unchanged}个无变化", "diff.errors": "，{errors}个出错",
    "diff.rating": "评级", "diff.dimensions": "各维度", "diff.rules": "导致变化的规则",
    "diff.moved": "变化最大的案例", "diff.unexplained": "无规则可解释的变化",
    "diff.up": "上升", "diff.down": "下降", "diff.range": "区间变化",
    "diff.rating_row": "{direction}：{old} → {new}：{cases}",
    "diff.dimension_row": "{dimension}{direction}：{old} → {new}：{cases}",
    "diff.rule_row": "{rule} {how}：{cases}个案例",
    "diff.how.added": "新增", "diff.how.removed": "消失", "diff.how.reworded": "措辞变化",
    "diff.how.undecided": "待定（取决于未知事实）",
    "diff.moved_row": "{case}（第{line}行）：评级 {rating}，{steps}级",
    "diff.unexplained_row": "{moves}处变化，例如{cases}",
}

PHRASES: dict[str, dict[str, str]] = {"en": _EN, "zh": _ZH}
"""Each language's phrases by key; every language has every key (a test checks it)."""

NAMES: dict[str, dict[str, str]] = {
    "en": {},
    "zh": {
        # levels and severities (one scale; ``info`` is a severity only)
        "low": "低", "medium": "中", "high": "高", "critical": "严重", "info": "提示",
        # dimensions
        "safety": "安全", "export_control": "出口管制", "overcapacity": "产能过剩",
        # bases
        "binding": "约束性", "advisory": "参考性", "heuristic": "启发式",
    },
}
"""The names of levels, severities, dimensions and bases in each language (English: the value itself)."""


def phrase(lang: str, key: str, **values: Any) -> str:
    """The phrase ``key`` in ``lang`` (English when the language is unknown), filled in."""
    table = PHRASES.get(lang, _EN)
    return table[key].format(**values) if values else table[key]


def name(lang: str, value: str, *, upper: bool = False) -> str:
    """A level, severity, dimension or basis as ``lang`` names it (``upper``: English in capitals,
    as headlines write levels; Chinese has no case)."""
    found = NAMES.get(lang, {}).get(value)
    if found is not None:
        return found
    return value.upper() if upper else value
