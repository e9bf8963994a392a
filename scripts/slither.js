#!/usr/bin/env node
/**
 * Slither gate: runs Slither (crytic-compile's Hardhat support on the artifacts of `npx hardhat compile`,
 * settings in slither.config.json: our contracts only, not contracts/test/ nor node_modules/) and fails on
 * any finding that neither a `// slither-disable-next-line <detector> — reason` comment in the source
 * nor an entry of slither.triage.json (detector, optional file and description fragment, reason) accepts.
 *
 *   node scripts/slither.js            (SLITHER=path/to/slither, default .venv-slither/bin/slither)
 *
 * Prints every finding with its triage reason, the untriaged ones last, and the counts. A triage entry
 * that no longer matches anything is reported, so stale reasons do not pile up.
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const slither = process.env.SLITHER ?? path.join(root, ".venv-slither/bin/slither");
const triageFile = path.join(root, "slither.triage.json");

function fail(message) {
  console.error(`slither: ${message}`);
  process.exit(1);
}

if (!fs.existsSync(slither)) fail(`${slither} not found (.ci/run installs it: pip install slither-analyzer)`);
const { triaged } = JSON.parse(fs.readFileSync(triageFile, "utf8"));
triaged.forEach((t, i) => {
  if (typeof t.detector !== "string" || typeof t.reason !== "string" || t.reason.length === 0) {
    fail(`${path.basename(triageFile)}: triaged[${i}] needs a detector and a reason`);
  }
});

// crytic-compile reads every build-info; one left from an earlier compile would analyse old sources too.
const buildInfo = path.join(root, "artifacts/build-info");
const builds = fs.existsSync(buildInfo) ? fs.readdirSync(buildInfo).filter((f) => f.endsWith(".json")) : [];
if (builds.length !== 1) {
  fail(
    `artifacts/build-info holds ${builds.length} builds, expected 1: run \`npx hardhat clean && npx hardhat compile\``,
  );
}

const run = spawnSync(slither, [".", "--config-file", "slither.config.json", "--json", "-"], {
  cwd: root,
  encoding: "utf8",
  maxBuffer: 256 * 1024 * 1024,
});
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  process.stderr.write(run.stderr);
  fail(`no JSON report (exit ${run.status})`);
}
if (!report.success) {
  process.stderr.write(run.stderr);
  fail(`Slither failed: ${report.error}`);
}

const findings = report.results?.detectors ?? [];
const used = new Set();
const untriaged = [];
for (const f of findings) {
  const located = f.elements.find((e) => e.source_mapping?.filename_relative);
  const file = located?.source_mapping.filename_relative ?? "?";
  const line = located?.source_mapping.lines?.[0] ?? "?";
  const summary = f.description.split("\n")[0];
  const i = triaged.findIndex(
    (t) =>
      t.detector === f.check &&
      (t.file === undefined || t.file === file) &&
      (t.match === undefined || f.description.includes(t.match)),
  );
  if (i < 0) {
    untriaged.push(`  ${f.check} (${f.impact}) ${file}:${line}\n    ${summary}`);
    continue;
  }
  used.add(i);
  console.log(`triaged: ${f.check} ${file}:${line}: ${triaged[i].reason}`);
}
triaged.forEach((t, i) => {
  if (!used.has(i))
    console.log(`slither: triage entry ${i} (${t.detector}${t.file ? ` in ${t.file}` : ""}) matched nothing`);
});
console.log(
  `slither: ${findings.length} findings, ${findings.length - untriaged.length} triaged, ${untriaged.length} untriaged`,
);
if (untriaged.length > 0) {
  console.error(`slither: untriaged findings (fix them, or triage each with a reason):\n${untriaged.join("\n")}`);
  process.exit(1);
}
