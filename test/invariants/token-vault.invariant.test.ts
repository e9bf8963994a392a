import hre from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import { WEEK } from "../helpers/fixtures";
import { TokenVaultHandler, actionArb, invariantFixture, type Action } from "../helpers/invariants";

/**
 * Invariants of PRODUCT.md for the token and the issuance vault, under random sequences of time jumps,
 * releases (authorised or not), transfers, burns and delegations. Every run starts from a fresh fixture.
 *
 * FUZZ_RUNS (default 60; 8 under solidity-coverage, whose tracing makes every call ~50x slower) sets the number
 * of runs, FUZZ_STEPS (default 25) the longest sequence, and FUZZ_SEED replays a run that fast-check reported (it
 * prints the seed and the shrunk counterexample on failure).
 */
const COVERAGE = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? (COVERAGE ? 8 : 60));
const FUZZ_STEPS = Number(process.env.FUZZ_STEPS ?? 25);
const FUZZ_SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

async function runSequence(actions: Action[]): Promise<TokenVaultHandler> {
  const handler = new TokenVaultHandler(await loadFixture(invariantFixture));
  await handler.init();
  await handler.checkInvariants();
  for (const action of actions) {
    await handler.run(action);
    await handler.checkInvariants();
  }
  return handler;
}

describe("token and vault invariants", function () {
  it("hold after every step of random action sequences", async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: FUZZ_STEPS, size: "max" }), async (actions) => {
        await runSequence(actions);
      }),
      { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
    );
  });

  it("hold through a hand-written sequence over week and schedule boundaries", async function () {
    const handler = await runSequence([
      { kind: "release" }, // before genesis: nothing to release
      { kind: "warpToBoundary", weeksAhead: 1, offset: -1 }, // last second of week 0
      { kind: "release" }, // still nothing
      { kind: "release" }, // first second after week 0: week 0
      { kind: "release" }, // same week again: nothing
      { kind: "releaseByIntruder", who: "guardian" },
      { kind: "delegate", from: 0, to: 1 },
      { kind: "transfer", from: 3, to: 0, bps: 5_000, overdraw: false }, // distributor passes half on
      { kind: "burn", from: 0, bps: 10_000, overdraw: false },
      { kind: "warp", seconds: 51 * WEEK },
      { kind: "release" }, // weeks 1..51 plus a few seconds: crosses nothing yet
      { kind: "warpToBoundary", weeksAhead: 1, offset: 0 }, // first second of week 53: year 1 starts paying
      { kind: "release" },
      { kind: "transfer", from: 1, to: 2, bps: 0, overdraw: true },
      { kind: "warp", seconds: 2_100 * WEEK }, // past the end of the schedule
      { kind: "release" }, // everything left, remainder included
      { kind: "release" }, // nothing after the end
      { kind: "burn", from: 3, bps: 10_000, overdraw: false },
    ]);
    if (handler.nextWeek !== 2_080) throw new Error(`expected the whole schedule released, got ${handler.nextWeek}`);
  });
});
