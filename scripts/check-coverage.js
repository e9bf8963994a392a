// Fails when Solidity coverage of contracts/ drops under the floor (lines and branches).
const fs = require("node:fs");
const FLOOR = Number(process.env.COVERAGE_FLOOR ?? 95);
const file = "coverage/coverage-summary.json";
if (!fs.existsSync(file)) {
  console.error(`${file} not found: run \`npm run coverage\` first`);
  process.exit(1);
}
const { total } = JSON.parse(fs.readFileSync(file, "utf8"));
let ok = true;
for (const metric of ["lines", "branches", "statements", "functions"]) {
  const pct = total[metric].pct;
  const enforced = metric === "lines" || metric === "branches";
  const pass = !enforced || pct >= FLOOR;
  ok &&= pass;
  console.log(
    `coverage ${metric}: ${pct}%${enforced ? ` (floor ${FLOOR}%)` : ""}${pass ? "" : "  <-- below the floor"}`,
  );
}
process.exit(ok ? 0 : 1);
