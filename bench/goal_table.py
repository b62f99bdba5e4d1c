"""A goal table of any size for the CSV tool's scale runs: goal-like texts with the kinds of repeats staff make.

python -m bench.goal_table OUT.csv --rows 100000 [--goals ../shared/data/ttadp/goals.csv] [--seed 0]
About 10 % of rows repeat an earlier one exactly (a third of those with other case or spacing), 10 % reword an
earlier one (a word dropped or swapped), the rest are new: template goals with a site and a timeframe, and,
given --goals, real goals with a site.
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

from bench.texts import real_goals

VERBS = [
    "Improve",
    "Increase",
    "Strengthen",
    "Build",
    "Develop",
    "Expand",
    "Track",
    "Reduce",
    "Promote",
    "Support",
    "Establish",
    "Monitor",
    "Raise",
    "Enhance",
    "Implement",
    "Review",
    "Sustain",
    "Align",
    "Coordinate",
    "Plan",
]
AREAS = [
    "family engagement",
    "school readiness",
    "daily attendance",
    "oral health",
    "nutrition and meal planning",
    "mental health supports",
    "the kindergarten transition",
    "dual language learning",
    "teacher retention",
    "classroom management",
    "early literacy",
    "math readiness",
    "fatherhood involvement",
    "safe sleep practices",
    "immunization rates",
    "developmental screenings",
    "data-informed decisions",
    "curriculum fidelity",
    "coaching practice",
    "home visiting quality",
    "disability services",
    "behavior supports",
    "community partnerships",
    "enrollment of homeless families",
    "health insurance coverage",
    "CLASS instructional support scores",
    "teacher credentials",
    "outdoor play",
    "transportation safety",
    "prenatal services",
    "governance and board training",
    "financial management",
    "recordkeeping",
    "staff wellness",
    "social-emotional learning",
    "parent leadership",
    "child assessment",
    "hearing screenings",
    "lead exposure prevention",
    "emergency preparedness",
    "facility maintenance",
    "volunteer recruitment",
    "program self-assessment",
    "ERSEA procedures",
    "supervision of children",
    "toilet learning routines",
    "trauma-informed care",
    "infant-toddler caregiving",
]
AUDIENCES = [
    "families",
    "parents",
    "infants and toddlers",
    "preschool teachers",
    "home visitors",
    "coaches",
    "family service workers",
    "center directors",
    "bus drivers",
    "cooks",
    "expectant mothers",
    "fathers",
    "policy council members",
    "education managers",
    "health managers",
    "dual language learners",
    "children with disabilities",
    "new hires",
    "substitute teachers",
    "the governing board",
]
MEANS = [
    "through monthly parent workshops",
    "with weekly coaching sessions",
    "using the CLASS tool",
    "through home visits",
    "with a new tracking system",
    "by hiring a specialist",
    "through peer learning groups",
    "with community health partners",
    "using practice-based coaching",
    "through quarterly data reviews",
    "with bilingual materials",
    "by revising the written procedures",
    "through staff training days",
    "with a family needs assessment",
    "using the ASQ screening tool",
    "through a mentoring program",
    "with an outside consultant",
    "by updating the policy manual",
    "through classroom observations",
    "with text message reminders",
    "through a lending library",
    "with a referral tracking log",
    "through school district agreements",
    "by adding a second shift",
    "with a wellness committee",
]
MEASURES = [
    "so that 90% of children are on track",
    "to meet the federal standard",
    "by 10 percent each year",
    "for every classroom",
    "across all centers",
    "as the self-assessment recommended",
    "to close the findings from the last review",
    "and report progress to the policy council",
    "",
    "",
    "",
]
SITES = [f"{kind} {n}" for kind in ("Center", "Site", "Classroom", "Program", "Region") for n in range(1, 61)]
WHEN = [f"by {month} {year}" for month in ("March", "June", "September", "December") for year in range(2024, 2030)]
SWAPS = {"improve": "strengthen", "increase": "raise", "families": "parents", "staff": "employees", "with": "using"}


def table(rows: int, seed: int, real: list[str]) -> list[str]:
    rng = random.Random(seed)
    texts: list[str] = []
    while len(texts) < rows:
        kind = rng.random()
        if texts and kind < 0.10:
            earlier = rng.choice(texts)
            texts.append(earlier if rng.random() < 0.67 else f"  {earlier.upper()} ")
        elif texts and kind < 0.20:
            words = rng.choice(texts).split()
            if len(words) > 4 and rng.random() < 0.5:
                del words[rng.randrange(len(words))]
            texts.append(" ".join(SWAPS.get(word, word) for word in words))
        elif real and kind < 0.35:
            texts.append(f"{rng.choice(real)} at {rng.choice(SITES)}")
        else:
            texts.append(
                f"{rng.choice(VERBS)} {rng.choice(AREAS)} for {rng.choice(AUDIENCES)} {rng.choice(MEANS)} "
                f"{rng.choice(MEASURES)}".rstrip()
                + (f" at {rng.choice(SITES)} {rng.choice(WHEN)}" if rng.random() < 0.5 else "")
            )
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--goals", type=Path, help="a CSV with a `goal` column (e.g. ../shared/data/ttadp/goals.csv)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    real = [text.rsplit(" (", 1)[0] for text in real_goals(args.goals)] if args.goals else []
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "goal"])
        writer.writerows((f"g{n}", text) for n, text in enumerate(table(args.rows, args.seed, real), 1))


if __name__ == "__main__":
    main()
