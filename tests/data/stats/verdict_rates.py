#!/usr/bin/env python3
"""The verdict's error rates through the real binary, computed exactly.

    pip install numpy scipy
    python3 tests/data/stats/verdict_rates.py --binary target/release/promptdrift --n 100

For n single-sample paired cases, every outcome table (w cases pass -> fail, b fail -> pass,
the rest pass on both sides) is written as two results files and compared with
`promptdrift diff` (default bootstrap, the given margin); the verdict is read from its output.
For each w the verdicts are monotone in b, so a binary search finds the tables that claim
"equivalent or better" (the drop is within the margin), "better", and "worse". The error rate
of a claim at true rates (p_w, p_b) is the multinomial probability of the tables that make it
when it is false; this prints the worst over a grid of discordance rates, for true differences
at and beyond the margin (false equivalent), at and above it (false worse), and at or below 0
(false better). A 95 % two-sided interval promises at most 2.5 % for each.

Not run by `cargo test` (it needs Python and runs the binary a few thousand times); the unit
test drift::tests::intervals computes the same rates in-process.
"""

import argparse
import json
import os
import subprocess
import tempfile

import numpy as np
from scipy.stats import binom


def results_file(path, n, passes):
    head = {
        "schema": "promptdrift-results", "version": 1,
        "tool": {"name": "promptdrift", "version": "0"},
        "run": {"mode": "replay", "started_at": "2026-01-01T00:00:00Z", "planned": n,
                "cache": "off", "thresholds": {}},
        "suites": [{"name": "s", "path": "s.yaml", "providers": [], "cases": n}],
    }
    lines = []
    for i, ok in enumerate(passes):
        lines.append(json.dumps({
            "suite": "s", "case_id": f"c{i:05d}", "provider": "p", "provider_id": "openai:p",
            "prompt": "default", "sample": 0, "rendered": {"messages": []},
            "status": "passed" if ok else "failed", "score": 1.0 if ok else 0.0,
            "output": "x", "usage": {}, "latency_ms": 1, "attempts": 1,
            "assertions": [{"type": "contains", "value": "x", "pass": ok, "score": 1.0 if ok else 0.0,
                            "reason": "r", "weight": 1.0}],
        }))
    text = json.dumps(head)[:-1] + ',\n"results":[\n' + ",\n".join(lines) + \
        '\n],\n"summary":{"total":0,"passed":0,"failed":0,"errors":0,"unfinished":0,"duration_ms":1},"complete":true}\n'
    with open(path, "w") as f:
        f.write(text)


class Verdicts:
    def __init__(self, binary, n, margin, work):
        self.binary, self.n, self.margin, self.work = binary, n, margin, work
        self.memo = {}
        self.runs = 0

    def __call__(self, w, b):
        if (w, b) in self.memo:
            return self.memo[(w, b)]
        n = self.n
        base = [not (w <= i < w + b) for i in range(n)]
        cand = [i >= w for i in range(n)]
        old, new = os.path.join(self.work, "old.json"), os.path.join(self.work, "new.json")
        results_file(old, n, base)
        results_file(new, n, cand)
        out = subprocess.run([self.binary, "diff", old, new, "--max-pass-rate-drop", str(self.margin)],
                             capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
        self.runs += 1
        verdict = next(line.split(":")[1].strip().lower() for line in out.stdout.splitlines()
                       if line.startswith("Verdict: "))
        self.memo[(w, b)] = verdict
        return verdict


def smallest_b(n, w, holds):
    """Smallest b in 0..n-w where holds(b) (monotone: false then true); n-w+1 when none."""
    lo, hi = 0, n - w + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if holds(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def largest_b(n, w, holds):
    """Largest b where holds(b) (monotone: true then false); -1 when none."""
    if not holds(0):
        return -1
    lo, hi = 0, n - w
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if holds(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def probability(n, pw, pb, b_at_least=None, b_at_most=None):
    q = 0.0 if pw >= 1 else min(pb / (1 - pw), 1.0)
    total = 0.0
    for w in range(n + 1):
        pw_w = binom.pmf(w, n, pw)
        if pw_w == 0:
            continue
        if b_at_least is not None:
            k = b_at_least[w]
            total += pw_w * (binom.sf(k - 1, n - w, q) if k <= n - w else 0.0)
        else:
            k = b_at_most[w]
            total += pw_w * (binom.cdf(k, n - w, q) if k >= 0 else 0.0)
    return total


def worst(n, deltas, rate):
    top = (0.0, None, None)
    for d in deltas:
        for pw in np.linspace(max(0.0, -d), (1 - d) / 2, 201):
            pb = max(pw + d, 0.0)
            r = rate(pw, pb)
            if r > top[0]:
                top = (r, d, pw)
    return top


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--margin", type=float, default=2.0)
    args = ap.parse_args()
    n, d = args.n, args.margin / 100
    with tempfile.TemporaryDirectory() as work:
        v = Verdicts(args.binary, n, args.margin, work)
        above = [smallest_b(n, w, lambda b, w=w: v(w, b) in ("equivalent", "better")) for w in range(n + 1)]
        better = [smallest_b(n, w, lambda b, w=w: v(w, b) == "better") for w in range(n + 1)]
        worse = [largest_b(n, w, lambda b, w=w: v(w, b) == "worse") for w in range(n + 1)]
        # Spot-check the monotonicity the searches rely on.
        for w in range(0, n + 1, max(1, n // 7)):
            for b in range(0, n - w + 1, max(1, (n - w) // 9 or 1)):
                kind = v(w, b)
                assert (kind in ("equivalent", "better")) == (b >= above[w]), (w, b, kind)
                assert (kind == "worse") == (b <= worse[w]), (w, b, kind)
        eq = worst(n, [-d, -d - 0.001, -d - 0.01, -0.1, -0.3],
                   lambda pw, pb: probability(n, pw, pb, b_at_least=above))
        wo = worst(n, [-d, -d + 0.001, -d + 0.01, 0.0, 0.1],
                   lambda pw, pb: probability(n, pw, pb, b_at_most=worse))
        be = worst(n, [0.0, -0.001, -d, -0.1],
                   lambda pw, pb: probability(n, pw, pb, b_at_least=better))
        print(f"n = {n}, margin {args.margin} points, {v.runs} runs of `promptdrift diff`:")
        for name, (r, delta, pw) in [("false equivalent", eq), ("false worse", wo), ("false better", be)]:
            where = "" if delta is None else f" (at true difference {delta * 100:+.1f} points, p_w = {pw:.4f})"
            print(f"  {name}: {r * 100:.3f}%{where}")


if __name__ == "__main__":
    main()
