"""Deterministic, varied test texts: goal-like sentences, fragments, long texts past 256 tokens, odd characters."""

from __future__ import annotations

import random

SUBJECTS = ["families", "parents", "teachers", "children", "staff", "home visitors", "coaches", "grantees", "infants"]
VERBS = ["improve", "increase", "support", "strengthen", "build", "develop", "expand", "track", "reduce", "promote"]
OBJECTS = [
    "family engagement",
    "school readiness",
    "attendance",
    "oral health screenings",
    "classroom quality",
    "language development",
    "transition plans",
    "health and safety practices",
    "data-informed decisions",
    "staff wellness",
    "community partnerships",
    "curriculum fidelity",
]
MEANS = [
    "through monthly parent workshops",
    "with weekly coaching sessions",
    "using the CLASS tool",
    "by hiring a bilingual specialist",
    "via home visits",
    "with community partners",
    "before the next program year",
    "in every classroom",
]
ODD = [
    "a",
    "?",
    "!!!???...",
    "Café naïve résumé – “smart quotes” and ‘apostrophes’",
    "日本語のテキスト、保護者との連携を強化する",
    "تحسين مشاركة الأسرة من خلال ورش العمل",
    "Улучшить вовлечение семей",
    "emoji 😀👍🏽 goals 🎯",
    "tabs\tand\nnewlines\r\nmixed",
    "URL https://example.gov/goals?id=42&x=1 and e-mail ops@example.gov",
    "Numbers: 1,234.56 — 50% by 2026-09-30 (Q4)",
    "ALL CAPS GOAL FOR STAFF TRAINING",
    "zero\u200bwidth\u00a0space",
    "x" * 600,
]


def goal(rng: random.Random) -> str:
    text = f"{rng.choice(VERBS)} {rng.choice(OBJECTS)} for {rng.choice(SUBJECTS)} {rng.choice(MEANS)}"
    return text.capitalize() if rng.random() < 0.7 else text


def varied_texts(count: int = 520, seed: int = 7) -> list[str]:
    """count texts: about half goal-like, the rest fragments, long texts (≥ 300 words) and odd characters."""
    rng = random.Random(seed)
    texts = list(ODD)
    while len(texts) < count:
        kind = rng.random()
        if kind < 0.5:
            texts.append(goal(rng))
        elif kind < 0.7:
            texts.append(" ".join(rng.choice(OBJECTS + VERBS) for _ in range(rng.randint(1, 3))))
        elif kind < 0.85:
            texts.append(". ".join(goal(rng) for _ in range(rng.randint(25, 40))))
        else:
            texts.append(f"{goal(rng)} {rng.choice(ODD)}")
    return texts[:count]
