"""Precision and recall of the default matcher on the labelled comments (issue 17).

Reads tests/unit/data/labelled_comments.yaml (text + expected categories per comment,
known gaps included and scored against their label) and prints, per category and
overall (micro-averaged over (comment, category) pairs), true/false positives, false
negatives, precision and recall, then the comments the matcher gets wrong.

    python bench/matcher_quality.py [--file tests/unit/data/labelled_comments.yaml]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from controlroom.moderation.lexicon import CATEGORIES  # noqa: E402
from controlroom.moderation.matcher import Matcher, default_matcher  # noqa: E402

LABELLED_FILE = ROOT / "tests" / "unit" / "data" / "labelled_comments.yaml"


def quality(matcher: Matcher, labelled: list[dict]) -> tuple[dict[str, tuple[int, int, int]],
                                                             list[tuple[str, set, set]]]:
    """(tp, fp, fn) per category, and the comments whose categories differ."""
    counts = {key: [0, 0, 0] for key in CATEGORIES}
    wrong = []
    for entry in labelled:
        expected = set(entry["expected"])
        got = set(matcher.categories(entry["text"]))
        for category in expected | got:
            row = counts.setdefault(category, [0, 0, 0])
            row[0 if category in expected and category in got else
                1 if category in got else 2] += 1
        if got != expected:
            wrong.append((entry["text"], expected, got))
    return {key: (tp, fp, fn) for key, (tp, fp, fn) in counts.items()}, wrong


def _ratio(part: int, whole: int) -> str:
    return f"{part / whole:7.1%}" if whole else "    n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=LABELLED_FILE)
    args = parser.parse_args()
    labelled = yaml.safe_load(args.file.read_text(encoding="utf-8"))["comments"]
    counts, wrong = quality(default_matcher(), labelled)
    print(f"default matcher on {len(labelled)} labelled comments ({args.file.name})")
    print(f"  {'category':<12} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>8}")
    total = [0, 0, 0]
    for category, (tp, fp, fn) in counts.items():
        total = [total[0] + tp, total[1] + fp, total[2] + fn]
        print(f"  {category:<12} {tp:>4} {fp:>4} {fn:>4} {_ratio(tp, tp + fp):>10} "
              f"{_ratio(tp, tp + fn):>8}")
    tp, fp, fn = total
    print(f"  {'overall':<12} {tp:>4} {fp:>4} {fn:>4} {_ratio(tp, tp + fp):>10} "
          f"{_ratio(tp, tp + fn):>8}")
    print(f"  comments with exactly the expected categories: "
          f"{len(labelled) - len(wrong)}/{len(labelled)}")
    for text, expected, got in wrong:
        print(f"  wrong: {text!r} expected {sorted(expected)} got {sorted(got)}")


if __name__ == "__main__":
    main()
