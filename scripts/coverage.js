#!/usr/bin/env node
/**
 * `npm run coverage`: Solidity coverage of contracts/ from the tests that exercise contracts, then the floor
 * check (scripts/check-coverage.js). A test file counts when it reaches the Hardhat network (imports
 * hardhat, its network helpers, or the shared test helpers and fixtures); pure TypeScript tests (lib/ code
 * without a chain) add nothing to contract coverage and run in `npm test` only. EXCLUDED lists the
 * chain tests left out on purpose, each with its reason.
 *
 *   npm run coverage [-- --all]      (--all: every test file, as before)
 */
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..");
const EXCLUDED = {
  // Drives the claim page in Chromium: its contract calls (claim, claimTo, activateRoot) are the distributor
  // tests' own, and instrumented contracts make each browser step slower.
  "test/app/claim-page.test.ts": "browser test over distributor calls covered by test/rewards/",
  // These spawn commands that compile (`npm run demo`/`npm run app`, `hardhat deploy`) in child processes.
  // solidity-coverage keeps its instrumented artifacts in Hardhat's default artifacts/ and cache/ folders, so
  // such a child recompiles the plain contracts over them, and every test after it runs uninstrumented code
  // (measured: contract line coverage fell to 71%). Their contract paths are the deploy and demo tests' own.
  "test/demo/demo-cli.test.ts": "spawns npm run demo/app, whose compile would replace the instrumented artifacts",
  "test/deploy/deploy.test.ts": "spawns hardhat deploy, whose compile would replace the instrumented artifacts",
  // Kills and restarts real node processes against the in-process chain; instrumented contracts slow its
  // fixture past the test's time bound, and its contract calls (mint, pair) are the registry tests' own.
  "test/node/kill-restart.test.ts": "process kill/restart test of the node; no contract path of its own",
  // fast-check sequences over the Hardhat network (about 5,000 steps): the contract paths they take are the
  // unit tests'; the same invariants are fuzzed a million calls deep by `npm run fuzz` (test/forge/).
  "test/invariants/access.invariant.test.ts": "random sequences; invariants fuzzed by npm run fuzz",
  "test/invariants/distributor.invariant.test.ts": "random sequences; invariants fuzzed by npm run fuzz",
  "test/invariants/staking.invariant.test.ts": "random sequences; invariants fuzzed by npm run fuzz",
  "test/invariants/token-vault.invariant.test.ts": "random sequences; invariants fuzzed by npm run fuzz",
};
// Whole folders of chain tests whose subject is off-chain code: the telemetry node and its registry index, the consent
// index and SIWE, the tasks' arguments and output. Their contract calls are the unit tests' own; under
// instrumented contracts their spawned tasks and servers took about a third of coverage's time (400 s beside the
// fuzzing in CI). Measured 2026-12-03: without them the per-contract figures were the same except one DataCredits
// branch, now pinned by its own unit tests in test/data/credits.test.ts (constructor zero addresses, a partial and
// an emptied withdrawal).
const EXCLUDED_DIRS = {
  "test/node/": "the telemetry node (ingest, reads, registry index); contract paths of the registry tests",
  "test/telemetry/": "telemetry derivation and verification; contract paths of the registry and rewards tests",
  "test/consent/": "consent index, SIWE and the access log; contract paths of the access and staking tests",
  "test/tasks/": "task arguments and output; contract paths of the unit tests",
};
const CHAIN = /from "hardhat"|require\("hardhat"\)|hardhat-network-helpers|from "(\.\.\/)+(helpers\/|.*fixtures)/;

function testFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const file = path.join(dir, e.name);
    if (e.isDirectory()) return testFiles(file);
    return e.name.endsWith(".test.ts") ? [path.relative(root, file)] : [];
  });
}

const all = process.argv.includes("--all");
const files = testFiles(path.join(root, "test"))
  .sort()
  .filter(
    (f) =>
      all ||
      (!(f in EXCLUDED) &&
        !Object.keys(EXCLUDED_DIRS).some((d) => f.startsWith(d)) &&
        CHAIN.test(fs.readFileSync(path.join(root, f), "utf8"))),
  );
console.log(`coverage: ${files.length} test files${all ? " (all)" : " that exercise contracts"}`);
if (!all) {
  for (const [d, why] of Object.entries(EXCLUDED_DIRS)) console.log(`coverage: without ${d} (${why})`);
  for (const [f, why] of Object.entries(EXCLUDED)) console.log(`coverage: without ${f} (${why})`);
}
const npx = process.platform === "win32" ? "npx.cmd" : "npx";
const cover = spawnSync(npx, ["hardhat", "coverage", "--testfiles", `{${files.join(",")}}`], {
  cwd: root,
  stdio: "inherit",
});
if (cover.status !== 0) process.exit(cover.status ?? 1);
const check = spawnSync(process.execPath, [path.join(__dirname, "check-coverage.js")], { cwd: root, stdio: "inherit" });
process.exit(check.status ?? 1);
