"""Writes pairs.jsonl from the hand-written lists in corpus_*.py (see README.md).

Run from this folder: python3 build.py
"""
import json

import corpus_a as A
import corpus_b as B
import corpus_c as C
import corpus_d as D

GROUPS = [
    ("meaning-changed", "negation", A.NEGATION),
    ("meaning-changed", "negation-moved", A.NEGATION_MOVED),
    ("meaning-changed", "antonym", A.ANTONYMS),
    ("meaning-changed", "number", A.NUMBERS),
    ("meaning-changed", "date", A.DATES),
    ("meaning-changed", "unit", A.UNITS),
    ("meaning-changed", "name", B.NAMES),
    ("meaning-changed", "roles", B.ROLES),
    ("meaning-changed", "yes-no", B.YES_NO),
    ("meaning-changed", "list", B.LISTS),
    ("meaning-changed", "hedging", B.HEDGING),
    ("meaning-changed", "refusal", B.REFUSALS),
    ("meaning-changed", "quantity", B.QUANTITIES),
    ("meaning-changed", "json", B.JSON),
    ("meaning-changed", "nli-contradiction", C.NLI_CONTRADICTION),
    ("meaning-changed", "nli-neutral", C.NLI_NEUTRAL),
    ("meaning-changed", "news-non-paraphrase", C.NEWS_NON_PARAPHRASE),
    ("meaning-changed", "llm-content", C.LLM_CONTENT),
    ("paraphrase", "paraphrase", D.PARAPHRASE),
    ("format-only", "format-only", D.FORMAT_ONLY),
]


def main():
    seen = set()
    rows = []
    for label, category, pairs in GROUPS:
        for a, b in pairs:
            assert a != b, (category, a)
            key = (a, b)
            assert key not in seen, ("duplicate pair", a, b)
            seen.add(key)
            rows.append({"a": a, "b": b, "label": label, "category": category})
    with open("pairs.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts = {}
    for r in rows:
        counts[r["label"]] = counts.get(r["label"], 0) + 1
    print(len(rows), "pairs:", counts)


if __name__ == "__main__":
    main()
