#!/usr/bin/env python3
"""Generate two promptdrift results files (schema v1) for benchmarking `promptdrift diff`.

    python3 bench/gen_results.py --cases 100000 --old /tmp/old.json --new /tmp/new.json

Every case gets `--repeat` samples per side with a ~300-character answer, three assertions, a
rendered prompt, usage, latency and cost. The candidate differs from the baseline in known
proportions (deterministic for a given --seed):

    55%  same answer            (unchanged)
    20%  one word reworded      (equivalent)
    10%  a number changed       (changed)
     8%  a contains assertion now fails (regressed)
     4%  the baseline failed, the candidate passes (improved)
     2%  answer rewritten       (changed, low similarity)
     1%  JSON answer with a type change (changed)

Run `promptdrift diff OLD NEW` on the pair; see bench/README.md for the measured figures.
"""

import argparse
import json
import random

WORDS = (
    "account billing refund order delivery parcel invoice password login support agent customer "
    "warranty return policy window store pickup address payment card update request ticket "
    "shipping tracking number email phone hours weekend holiday discount coupon subscription plan"
).split()

TEMPLATES = [
    "Thanks for reaching out about your {a}. You can request a {b} within {n} days of {c}, and our "
    "team will confirm by email. If your {d} was damaged, attach a photo to the {e} so we can help "
    "faster. Most requests are handled within {m} business days.",
    "Your {a} is linked to the {b} on file. To change it, open Settings, choose {c}, and follow the "
    "steps; it takes about {n} minutes. If the {d} does not arrive, check the {e} folder or wait "
    "{m} minutes before trying again.",
    "Our {a} desk is open {n} hours a day on weekdays. For a {b} or a {c}, the quickest way is the "
    "{d} form; an agent replies within {m} hours. Please keep your {e} number at hand.",
]


def answer(rng, i):
    t = TEMPLATES[i % len(TEMPLATES)]
    pick = lambda k: WORDS[(i * 7 + k * 13) % len(WORDS)]
    return t.format(a=pick(1), b=pick(2), c=pick(3), d=pick(4), e=pick(5), n=10 + i % 50, m=1 + i % 9)


def result(suite, case_id, provider, sample, output, asserts, latency, cost, rng, tags):
    passed = all(a["pass"] for a in asserts)
    return {
        "suite": suite,
        "case_id": case_id,
        "description": "customer support question " + case_id,
        "tags": tags,
        "provider": provider,
        "provider_id": "openai:" + provider,
        "prompt": "default",
        "sample": sample,
        "rendered": {
            "system": "You are a helpful support agent for an online store. Answer briefly.",
            "messages": [{"role": "user", "content": "Question about " + case_id + ": how do I get help with my order?"}],
        },
        "status": "passed" if passed else "failed",
        "score": 1.0 if passed else 0.0,
        "output": output,
        "finish_reason": "stop",
        "usage": {"input": 60 + rng.randrange(20), "output": 70 + rng.randrange(30), "total": 150},
        "latency_ms": latency,
        "cost_usd": cost,
        "model": provider + "-2026-01-01",
        "source": "live",
        "attempts": 1,
        "assertions": asserts,
    }


def asserts_for(out, must):
    return [
        {"type": "contains", "value": must, "pass": must in out, "score": 1.0 if must in out else 0.0,
         "reason": ("output contains " if must in out else "output does not contain ") + json.dumps(must),
         "weight": 1.0},
        {"type": "max-length", "value": 600, "pass": len(out) <= 600, "score": 1.0,
         "reason": "output is %d characters (at most 600)" % len(out), "weight": 1.0},
        {"type": "not-is-refusal", "pass": True, "score": 1.0,
         "reason": "output does not read as a refusal", "weight": 1.0},
    ]


def write(path, provider, rows, cases):
    with open(path, "w") as f:
        head = {
            "schema": "promptdrift-results", "version": 1,
            "tool": {"name": "promptdrift", "version": "0.1.0"},
            "run": {"mode": "live", "started_at": "2026-01-01T00:00:00Z", "planned": len(rows),
                    "cache": "off", "thresholds": {}},
            "suites": [{"name": "support", "path": "suites/support.yaml",
                        "providers": [{"label": provider, "id": "openai:" + provider}], "cases": cases}],
        }
        f.write(json.dumps(head, separators=(",", ":"))[:-1] + ',\n"results":[\n')
        for k, r in enumerate(rows):
            f.write(json.dumps(r, separators=(",", ":")))
            f.write(",\n" if k + 1 < len(rows) else "\n")
        passed = sum(1 for r in rows if r["status"] == "passed")
        f.write('],\n"summary":' + json.dumps({"total": len(rows), "passed": passed, "failed": len(rows) - passed,
                                                 "errors": 0, "unfinished": 0, "duration_ms": 1000})
                + ',"complete":true}\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--old", default="old.json")
    ap.add_argument("--new", default="new.json")
    ap.add_argument("--provider", default="gpt", help="provider label in both files")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    old_rows, new_rows = [], []
    for i in range(args.cases):
        case_id = "case-%06d" % i
        tags = ["critical"] if i % 50 == 0 else []
        base = answer(rng, i)
        u = rng.random()
        for s in range(args.repeat):
            must = "days" if "days" in base else "minutes" if "minutes" in base else "hours"
            new = base
            new_must_pass = True
            base_out = base
            if u < 0.55:
                pass
            elif u < 0.75:
                new = base.replace("Thanks for", "Thank you for").replace("Your ", "The ").replace("Our ", "The ")
            elif u < 0.85:
                new = base.replace(str(10 + i % 50), str(11 + i % 50), 1)
            elif u < 0.93:
                new = base.replace(must, "time")
            elif u < 0.97:
                base_out = base.replace(must, "time")
            elif u < 0.99:
                new = "Please contact us. " + " ".join(rng.sample(WORDS, 12)) + "."
            else:
                base_out = json.dumps({"answer": base[:80], "days": 10 + i % 50})
                new = json.dumps({"answer": base[:80], "days": str(10 + i % 50)})
                must = "answer"
            lat_b = 800 + rng.randrange(400)
            lat_c = 700 + rng.randrange(500)
            old_rows.append(result("support", case_id, args.provider, s, base_out, asserts_for(base_out, must),
                                   lat_b, 0.00012, rng, tags))
            new_rows.append(result("support", case_id, args.provider, s, new, asserts_for(new, must),
                                   lat_c, 0.00010, rng, tags))
    # Results arrive in finish order, not case order.
    rng.shuffle(old_rows)
    rng.shuffle(new_rows)
    write(args.old, args.provider, old_rows, args.cases)
    write(args.new, args.provider, new_rows, args.cases)


if __name__ == "__main__":
    main()
