"""Measures the embeddings equivalence judge on the meaning corpus, through the binary.

Runs `promptdrift compare` over ../pairs.jsonl (two `exec` providers print the two answers of
each pair) with `drift.equivalence` naming an OpenAI-compatible embeddings server (for example
minilm_server.py), reads the cosine of every pair the judge was asked about from the reasons,
and prints, per threshold (one `compare` each; the embeddings come from the response cache
after the first), how many pairs of each label come out `equivalent`.

    python3 measure.py ../../../../target/debug/promptdrift http://127.0.0.1:8765/v1 all-minilm-l6-v2
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
BIN, BASE_URL, MODEL = sys.argv[1], sys.argv[2], sys.argv[3]
THRESHOLDS = [0.80, 0.85, 0.90, 0.95]

pairs = [json.loads(l) for l in open(os.path.join(HERE, "..", "pairs.jsonl"), encoding="utf-8") if l.strip()]
def suite(threshold):
    return f"""providers:
  - id: exec:a
    label: a
    config: {{ command: [printf, "%s", "{{{{ vars.a }}}}"] }}
  - id: exec:b
    label: b
    config: {{ command: [printf, "%s", "{{{{ vars.b }}}}"] }}
prompts: ["Answer the question."]
embedder:
  id: openai-compatible:{MODEL}
  label: local
  config: {{ base_url: "{BASE_URL}" }}
drift:
  equivalence:
    embeddings: local
    threshold: {threshold}
cases:
  - file://fixtures/pairs.jsonl
"""


def compare(d, threshold):
    with open(os.path.join(d, "suites", "meaning.yaml"), "w") as f:
        f.write(suite(threshold))
    r = subprocess.run(
        [BIN, "compare", "--baseline", "a", "--candidate", "b", "suites/meaning.yaml",
         "--bootstrap", "0", "-o", "cmp.json", "--cache-dir", "cache"],
        cwd=d, capture_output=True, text=True,
    )
    if r.returncode not in (0, 1):
        sys.exit(f"compare exited {r.returncode}:\n{r.stderr}")
    return json.load(open(os.path.join(d, "cmp.json"), encoding="utf-8"))


labels = ["meaning-changed", "paraphrase", "format-only"]
total = {l: sum(1 for p in pairs if p["label"] == l) for l in labels}
print(f"judge: {MODEL} at {BASE_URL}; pairs per label: {total}")
print("threshold  paraphrases equivalent  meaning-changed equivalent (missed)  precision / recall of 'changed'  judge")
with tempfile.TemporaryDirectory() as d:
    os.makedirs(os.path.join(d, "suites"))
    os.makedirs(os.path.join(d, "fixtures"))
    with open(os.path.join(d, "fixtures", "pairs.jsonl"), "w", encoding="utf-8") as f:
        for i, p in enumerate(pairs):
            f.write(json.dumps({"__id": f"pair-{i:04}", "a": p["a"], "b": p["b"]}, ensure_ascii=False) + "\n")
    for t in THRESHOLDS:
        doc = compare(d, t)
        cmp = doc["comparisons"][0]
        same = {l: 0 for l in labels}
        missed_cats = {}
        for c in cmp["cases"]:
            p = pairs[int(c["case_id"][len("pair-"):])]
            if c["class"] in ("equivalent", "unchanged"):
                same[p["label"]] += 1
                if p["label"] == "meaning-changed":
                    missed_cats[p["category"]] = missed_cats.get(p["category"], 0) + 1
        flagged_mc = total["meaning-changed"] - same["meaning-changed"]
        flagged_same = total["paraphrase"] + total["format-only"] - same["paraphrase"] - same["format-only"]
        prec = flagged_mc / max(1, flagged_mc + flagged_same)
        rec = flagged_mc / total["meaning-changed"]
        j = cmp["equivalence"]
        print(f"  {t:.2f}     {same['paraphrase']:>3}/{total['paraphrase']} ({100*same['paraphrase']/total['paraphrase']:.1f}%)"
              f"            {same['meaning-changed']:>3}/{total['meaning-changed']} ({100*same['meaning-changed']/total['meaning-changed']:.1f}%)"
              f"                  {prec:.3f} / {rec:.3f}"
              f"                  asked {j['asked']}, {j['requests']} requests ({j['from_cache']} cached)"
              f"  missed by category: {missed_cats}")
