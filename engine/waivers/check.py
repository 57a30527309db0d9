"""Reports on a waiver file: expired, expiring soon, stale (matched no finding in a run or corpus)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from engine.waivers.model import Waiver, WaiverSet

SOON_DAYS = 30


def _where(w: Waiver) -> str:
    return f"{w.file}:{w.line}" if w.line else w.file


@dataclass(frozen=True)
class Notice:
    """One line about one waiver: ``kind`` is ``expired``, ``expiring`` or ``stale``."""

    kind: str
    waiver: Waiver
    text: str


def notices(waivers: WaiverSet, day: str, *, stale: bool = True, soon_days: int = SOON_DAYS) -> list[Notice]:
    """Expired waivers, waivers expiring within ``soon_days`` of ``day``, and (``stale``) those
    that matched no finding in the assessments made with this ``WaiverSet`` so far."""
    out: list[Notice] = []
    soon = (dt.date.fromisoformat(day) + dt.timedelta(days=soon_days)).isoformat()
    for w in waivers.waivers:
        state = w.state(day)
        if state == "expired":
            out.append(Notice("expired", w, f"{_where(w)}: waiver of {w.rule} expired on {w.expires} "
                                            f"(approved by {w.approver}); it no longer applies"))
        elif state == "live" and w.expires <= soon:
            out.append(Notice("expiring", w, f"{_where(w)}: waiver of {w.rule} expires on {w.expires} "
                                             f"(within {soon_days} days; approved by {w.approver})"))
    if stale:
        for w in waivers.stale():
            if w.state(day) == "future":
                text = f"{_where(w)}: waiver of {w.rule} is created on {w.created}, after {day}: not yet in force"
            else:
                text = f"{_where(w)}: waiver of {w.rule} matched no finding (stale): remove it or fix its rule/cases"
            out.append(Notice("stale", w, text))
    return out
