#!/usr/bin/env node
/**
 * `npm run fuzz`: runs the forge suites under test/forge/ (handler-based invariant campaigns and the
 * regression tests replaying shrunk failing sequences), prints the calls forge reports for every
 * invariant campaign and their total, and fails when a test fails or the total is under MIN_CALLS.
 *
 *   npm run fuzz [-- forge test options]        e.g. npm run fuzz -- --match-contract StakingInvariants
 *
 * FUZZ_MIN_CALLS overrides the floor (a local quick run: FOUNDRY_INVARIANT_RUNS=4 FUZZ_MIN_CALLS=0).
 * Forge keeps each shrunk failing sequence in cache/forge/cache/invariant/failures/ and replays it first on
 * the next run; a sequence worth keeping is copied into test/forge/regression/ as a plain test.
 */
"use strict";

const { spawn } = require("node:child_process");
const path = require("node:path");

const MIN_CALLS = Number(process.env.FUZZ_MIN_CALLS ?? 1_000_000);
const root = path.resolve(__dirname, "../..");
const forge = path.join(root, "node_modules/.bin/forge");

const started = Date.now();
const child = spawn(forge, ["test", "--root", root, ...process.argv.slice(2)], {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
});
let output = "";
child.stdout.on("data", (chunk) => {
  output += chunk;
  process.stdout.write(chunk);
});
child.on("close", (code) => {
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  // forge: "[PASS] invariant_staking() (runs: 512, calls: 512000, reverts: 0)"; a failing campaign prints its
  // "[FAIL: reason]" and shrunk sequence first, then the same "invariant_x() (runs: …)" line, and repeats
  // both in its closing summary: each campaign is counted once.
  const campaigns = new Map();
  for (const m of output.matchAll(/(invariant\w*)\(\) \(runs: (\d+), calls: (\d+), reverts: \d+\)/g)) {
    if (!campaigns.has(m[1])) campaigns.set(m[1], { runs: Number(m[2]), calls: Number(m[3]) });
  }
  const total = [...campaigns.values()].reduce((sum, c) => sum + c.calls, 0);
  console.log("\nfuzz: invariant campaigns");
  for (const [name, c] of campaigns) console.log(`  ${name}: ${c.runs} runs, ${c.calls} calls`);
  console.log(`fuzz: ${total} calls in ${campaigns.size} campaigns, ${seconds} s (floor ${MIN_CALLS})`);
  // forge 1.7.1 can exit 0 after a failed invariant campaign: its own failure lines are checked too.
  const failed = /^\[FAIL/m.test(output) || /^Suite result: FAILED/m.test(output);
  if (code !== 0 || failed) {
    console.error(`fuzz: forge test failed (exit ${code}); the shrunk sequence is printed above`);
    process.exit(code || 1);
  }
  if (total < MIN_CALLS) {
    console.error(`fuzz: ${total} calls is under the floor of ${MIN_CALLS}`);
    process.exit(1);
  }
});
