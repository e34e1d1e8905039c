// Writes the rule groups of the PrometheusRule in a rendered overlay as a
// Prometheus rules file, for promtool.
//   node extract-rules.mjs RENDERED.yaml OUT.rules.yaml
import { readFileSync, writeFileSync } from "node:fs";
import { parseAllDocuments, stringify } from "yaml";

const [rendered, out] = process.argv.slice(2);
const rules = parseAllDocuments(readFileSync(rendered, "utf8"))
  .map((d) => d.toJS())
  .filter((o) => o?.kind === "PrometheusRule");
if (rules.length !== 1) {
  console.error(`want one PrometheusRule in ${rendered}, found ${rules.length}`);
  process.exit(1);
}
writeFileSync(out, stringify({ groups: rules[0].spec.groups }));
