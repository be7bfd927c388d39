// Checks docs/suite.schema.json with a validator we did not write: ajv (draft 2020-12), reading
// the YAML with the `yaml` package (the parser yaml-language-server uses). Every suite in
// tests/fixtures/valid and suites/ must be accepted; every file named in
// tests/fixtures/invalid/schema-rejects.txt must be rejected. Run from the repository root:
//   npm ci --prefix .ci/schema && node .ci/schema/check.mjs
// The output of a run is committed as .ci/schema/RESULTS.txt.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { parse } from "yaml";

const schema = JSON.parse(readFileSync("docs/suite.schema.json", "utf8"));
// `format: uint32` and `patternErrorMessage` are annotations for other tools: not errors.
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
const validate = ajv.compile(schema);

const yamlFiles = (dir) =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(dir, f));
const accept = [...yamlFiles("tests/fixtures/valid"), ...yamlFiles("suites")];
const reject = readFileSync("tests/fixtures/invalid/schema-rejects.txt", "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"))
  .map((n) => join("tests/fixtures/invalid", `${n}.yaml`));

let failures = 0;
const check = (file, wantValid) => {
  const doc = parse(readFileSync(file, "utf8"));
  const valid = validate(doc);
  // The most specific error: the deepest instance path, a wrong type last (an "id or
  // mapping" item fails its string branch too).
  const rank = (e) => e.instancePath.split("/").length * 2 - (e.keyword === "type" ? 1 : 0);
  const errors = (validate.errors ?? []).filter((e) => !["anyOf", "if", "oneOf"].includes(e.keyword));
  const best = errors.reduce((a, e) => (a === undefined || rank(e) > rank(a) ? e : a), undefined);
  const detail = best?.params?.additionalProperty ? ` \`${best.params.additionalProperty}\`` : "";
  const why = best ? ` (${best.instancePath || "/"} ${best.message}${detail})` : "";
  if (valid === wantValid) {
    console.log(`ok   ${wantValid ? "accepts" : "rejects"} ${file}${wantValid ? "" : why}`);
  } else {
    failures += 1;
    console.log(`FAIL ${wantValid ? "rejects" : "accepts"} ${file}${why}`);
  }
};
accept.forEach((f) => check(f, true));
reject.forEach((f) => check(f, false));
console.log(`${accept.length} accepted, ${reject.length} rejected expected; ${failures} failure(s)`);
process.exit(failures === 0 ? 0 : 1);
