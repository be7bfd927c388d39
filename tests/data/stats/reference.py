#!/usr/bin/env python3
"""Reference values for promptdrift's pass-rate intervals (src/drift/exact.rs, betting.rs).

    pip install numpy scipy
    python3 tests/data/stats/reference.py > tests/data/stats/paired_intervals.json

Written independently of the Rust code, by brute force where the Rust code is clever:

- Tango's asymptotic score interval (Tango 1998, Stat Med 17:891-908) for the difference of
  paired proportions: the constrained maximum-likelihood estimate is found by numerical
  maximisation of the trinomial likelihood (scipy.optimize.minimize_scalar), not by the
  closed form, and the bounds by scipy.optimize.brentq.
- The exact unconditional interval: for each null value d0, every table (worse, better) of
  the n paired outcomes is enumerated, ordered by Tango's statistic, and the probability of
  the tables at least as extreme as the observed one is maximised over the nuisance parameter
  on a fine grid refined by scipy's bounded scalar minimiser, within the 1 - 1e-6
  Clopper-Pearson interval of the discordance rate (scipy.stats.beta quantiles), plus 1e-6
  (Berger & Boos 1994). Each bound is found by bisection to 1e-7.
- The betting bound (Waudby-Smith & Ramdas 2024, predictable plug-in, capped at 0.75/(1+m),
  Ville's inequality at alpha = 0.025) for per-case differences in [-1, 1].

Outputs JSON: {"tango": [...], "exact": [...], "betting": [...]}. "worse" counts the cases
that passed on the baseline and failed on the candidate (difference -1), "better" the reverse.
"""

import json
import math
import sys

import numpy as np
from scipy import optimize, stats
from scipy.special import gammaln

ALPHA = 0.025
GAMMA = 1e-6
Z = stats.norm.ppf(1 - ALPHA)


def constrained_pw(n, w, b, d0):
    """argmax over pw of w ln pw + b ln(pw + d0) + (n - w - b) ln(1 - 2 pw - d0)."""
    lo, hi = max(0.0, -d0), (1.0 - d0) / 2.0
    if hi - lo < 1e-15:
        return lo
    m = n - w - b

    def nll(p):
        pb = p + d0
        pa = 1.0 - 2.0 * p - d0
        t = 0.0
        for k, q in ((w, p), (b, pb), (m, pa)):
            if k > 0:
                if q <= 0:
                    return 1e300
                t -= k * math.log(q)
        return t

    res = optimize.minimize_scalar(nll, bounds=(lo, hi), method="bounded",
                                   options={"xatol": 1e-14, "maxiter": 2000})
    best = res.x
    for edge in (lo, hi):
        if nll(edge) < nll(best):
            best = edge
    return best


def closed_form_pw(n, w, b, d0):
    """Tango's closed form, vectorised (used only to order tables; checked against the above)."""
    a = 2.0 * n
    bb = -w - b + (2.0 * n - b + w) * d0
    c = -w * d0 * (1.0 - d0)
    root = (np.sqrt(np.maximum(bb * bb - 4 * a * c, 0.0)) - bb) / (2 * a)
    return np.clip(root, max(0.0, -d0), (1.0 - d0) / 2.0)


def tango_z(n, w, b, d0, pw):
    var = 2 * pw + d0 - d0 * d0
    num = b - w - n * d0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = num / np.sqrt(n * var)
    z = np.where(var <= 0, np.where(num == 0, 0.0, np.sign(num) * np.inf), z)
    return z


def tango_interval(n, w, b):
    def z(d0):
        return float(tango_z(n, w, b, d0, constrained_pw(n, w, b, d0)))

    est = (b - w) / n
    eps = 1e-12
    lo = -1.0 if z(-1 + eps) < Z else optimize.brentq(lambda d: z(d) - Z, -1 + eps, est, xtol=1e-13)
    hi = 1.0 if z(1 - eps) > -Z else optimize.brentq(lambda d: z(d) + Z, est, 1 - eps, xtol=1e-13)
    return lo, hi


def all_tables(n):
    w, b = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
    keep = w + b <= n
    return w[keep].astype(float), b[keep].astype(float)


def log_trinomial(n, w, b, pw, pb):
    m = n - w - b
    pa = 1.0 - pw - pb
    t = gammaln(n + 1) - gammaln(w + 1) - gammaln(b + 1) - gammaln(m + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = t + np.where(w > 0, w * np.log(pw) if pw > 0 else -np.inf, 0.0)
        t = t + np.where(b > 0, b * np.log(pb) if pb > 0 else -np.inf, 0.0)
        t = t + np.where(m > 0, m * np.log(pa) if pa > 0 else -np.inf, 0.0)
    return t


def p_above(n, w, b, d0, tables):
    """Exact unconditional p-value of H0: Delta <= d0, Tango ordering, Berger-Boos nuisance."""
    W, B = tables
    zs = tango_z(n, W, B, d0, closed_form_pw(n, W, B, d0))
    zobs = float(tango_z(n, w, b, d0, closed_form_pw(n, w, b, d0)))
    mask = zs >= zobs - 1e-9 * (1 + abs(zobs))
    Wm, Bm = W[mask], B[mask]
    s = w + b
    dlo = 0.0 if s == 0 else stats.beta.ppf(GAMMA / 2, s, n - s + 1)
    dhi = 1.0 if s == n else stats.beta.ppf(1 - GAMMA / 2, s + 1, n - s)
    lo = max((dlo - d0) / 2, max(0.0, -d0))
    hi = min((dhi - d0) / 2, (1 - d0) / 2)
    if lo > hi:
        return GAMMA

    def prob(pw):
        return float(np.exp(log_trinomial(n, Wm, Bm, pw, max(pw + d0, 0.0))).sum())

    grid = np.linspace(lo, hi, 801)
    vals = np.array([prob(p) for p in grid])
    i = int(vals.argmax())
    best = vals[i]
    a, c = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    if c > a:
        res = optimize.minimize_scalar(lambda p: -prob(p), bounds=(a, c), method="bounded",
                                       options={"xatol": 1e-13})
        best = max(best, -res.fun)
    return min(best + GAMMA, 1.0)


def exact_lower(n, w, b):
    tables = all_tables(n)
    est = (b - w) / n

    def rejected(d0):
        return p_above(n, w, b, d0, tables) <= ALPHA

    if est <= -1 or not rejected(-1 + 1e-9):
        return -1.0
    lo, hi = -1 + 1e-9, est
    while hi - lo > 1e-7:
        mid = (lo + hi) / 2
        if rejected(mid):
            lo = mid
        else:
            hi = mid
    return lo


def exact_interval(n, w, b):
    return exact_lower(n, w, b), -exact_lower(n, b, w)


def betting_rejects(d, m):
    """Does the capital betting against H0: E d <= m ever reach 1/alpha?"""
    n = len(d)
    scale = 2 * math.log(1 / ALPHA) / n
    cap = 0.75 / (1 + m)
    capital = 1.0
    # Running variance: one prior pseudo-case at 0 with variance 1, then the cases so far:
    # var_i = (1 + sum of squared deviations of {0, d_1..d_(i-1)} from their mean) / i.
    total, squares = 0.0, 0.0
    for i, x in enumerate(d):
        k = i + 1  # values so far, the prior included
        mean = total / k
        ss = 1.0 + squares - k * mean * mean
        var = ss / k
        lam = min(math.sqrt(scale / var), cap)
        capital *= 1 + lam * (x - m)
        if capital >= 1 / ALPHA:
            return True
        total += x
        squares += x * x
    return False


def betting_lower(d):
    mean = sum(d) / len(d)
    lo, hi = -1.0 + 1e-12, mean
    if not betting_rejects(d, lo):
        return -1.0
    while hi - lo > 1e-7:
        mid = (lo + hi) / 2
        if betting_rejects(d, mid):
            lo = mid
        else:
            hi = mid
    return lo


TABLES = [
    (4, 0, 0), (4, 4, 0), (4, 1, 0), (10, 2, 1), (20, 3, 1), (20, 0, 0), (20, 10, 10),
    (30, 0, 5), (50, 5, 0), (60, 7, 3), (97, 2, 0), (100, 0, 0), (100, 2, 0), (100, 6, 2),
    (120, 0, 0), (120, 3, 3), (120, 15, 5), (160, 20, 40),
]

DIFFS = {
    "agree-50": [0.0] * 50,
    "agree-400": [0.0] * 400,
    "flaky-200": [[0.0, 0.0, 0.2, -0.2, 0.0, -0.4, 0.0, 0.2][i % 8] for i in range(200)],
    "mixed-120": [[-1.0, 0.0, 0.0, 0.5, 0.0, -0.5, 1.0, 0.0, -0.25, 0.0][i % 10] for i in range(120)],
}


def main():
    # The closed form used for ordering agrees with the numerical maximum.
    for (n, w, b) in TABLES:
        for d0 in (-0.3, -0.02, 0.0, 0.05, 0.4):
            cf = float(closed_form_pw(n, float(w), float(b), d0))
            nm = constrained_pw(n, w, b, d0)
            assert abs(cf - nm) < 1e-6, (n, w, b, d0, cf, nm)

    out = {"tango": [], "exact": [], "betting": []}
    for (n, w, b) in TABLES:
        lo, hi = tango_interval(n, w, b)
        out["tango"].append({"n": n, "worse": w, "better": b, "lower": lo, "upper": hi})
        lo, hi = exact_interval(n, w, b)
        out["exact"].append({"n": n, "worse": w, "better": b, "lower": lo, "upper": hi})
        print(f"table {n} {w} {b} done", file=sys.stderr)
    for name, d in DIFFS.items():
        lo = betting_lower(d)
        hi = -betting_lower([-x for x in d])
        out["betting"].append({"name": name, "values": d, "lower": lo, "upper": hi})
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
