import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import fc from "fast-check";
import type { IssuanceSchedule } from "../typechain-types/contracts/test/IssuanceScheduleHarness";
import {
  DEFAULT_SCHEDULE_PARAMS,
  WEEK_SECONDS,
  amountOfWeeks,
  scheduleFromParams,
  scheduleTotal,
  totalWeeks,
  weeklyAmounts,
  weeklyOfYear,
  weeksEnded,
  yearlyWeeklyAmounts,
  type Schedule,
  type ScheduleParams,
} from "../lib/issuance";
import { DIMO, POOL } from "./helpers/fixtures";

/**
 * Under solidity-coverage every EVM step is traced in JavaScript: deriving the schedule takes ~0.7 s instead of
 * ~8 ms and reading one week ~80 ms instead of ~0.7 ms. There the year-by-year and week-by-week comparisons
 * check a sample (the first and last week of every year, the last week, years 0-2 and 37-39) and the properties
 * run fewer cases; `npx hardhat test` runs them in full.
 */
const COVERAGE = (hre as unknown as { __SOLIDITY_COVERAGE_RUNNING?: boolean }).__SOLIDITY_COVERAGE_RUNNING === true;
const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? (COVERAGE ? 10 : 100));
const FUZZ_SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);

const FIXED_FIRST_WEEKLY_PARAMS: ScheduleParams = {
  ...DEFAULT_SCHEDULE_PARAMS,
  pool: 0n,
  firstWeekly: DIMO(1_105_000),
};

const ALL_WEEKS = Array.from({ length: 2_080 }, (_, w) => w);
const ALL_YEARS = Array.from({ length: 40 }, (_, y) => y);
/** Weeks and years compared one by one: all of them, or a sample under coverage (see above). */
const WEEKS_COMPARED = COVERAGE ? ALL_WEEKS.filter((w) => w % 52 === 0 || w % 52 === 51) : ALL_WEEKS;
const YEARS_COMPARED = COVERAGE ? [0, 1, 2, 37, 38, 39] : ALL_YEARS;

/** The Solidity `Params` struct for TS schedule parameters (a fixed first weekly amount means no pool). */
function solidityParams(p: ScheduleParams): IssuanceSchedule.ParamsStruct {
  return {
    pool: p.firstWeekly === undefined ? p.pool : 0n,
    firstWeekly: p.firstWeekly ?? 0n,
    weeksPerYear: BigInt(p.weeksPerYear),
    yearCount: BigInt(p.years),
    decayBps: BigInt(p.decayBps),
  };
}

function expectSameSchedule(sol: IssuanceSchedule.ScheduleStructOutput, ts: Schedule): void {
  expect({
    firstWeekly: sol.firstWeekly,
    remainder: sol.remainder,
    weeksPerYear: sol.weeksPerYear,
    yearCount: sol.yearCount,
    decayBps: sol.decayBps,
  }).to.deep.equal({
    firstWeekly: ts.firstWeekly,
    remainder: ts.remainder,
    weeksPerYear: BigInt(ts.weeksPerYear),
    yearCount: BigInt(ts.years),
    decayBps: BigInt(ts.decayBps),
  });
}

async function harnessFixture() {
  const harness = await ethers.deployContract("IssuanceScheduleHarness");
  return { harness };
}

/**
 * Vaults built on chain from the default and the fixed-first-weekly parameters. They run the same library
 * code as the harness but keep the derived schedule in immutables, so reading all 2,080 weeks one by one
 * costs ~47k gas per week instead of re-deriving the schedule (~140k gas) for every week, and a single
 * `weeklyAmounts` call over 2,080 weeks does not fit the 2^24 gas cap of an eth_call.
 */
async function scheduleVaultsFixture() {
  const [deployer] = await ethers.getSigners();
  const someToken = ethers.Wallet.createRandom().address; // the schedule views never touch the token
  const byPool = await ethers.deployContract("IssuanceVault", [
    someToken,
    0,
    solidityParams(DEFAULT_SCHEDULE_PARAMS),
    deployer.address,
  ]);
  const byFirstWeekly = await ethers.deployContract("IssuanceVault", [
    someToken,
    0,
    solidityParams(FIXED_FIRST_WEEKLY_PARAMS),
    deployer.address,
  ]);
  return { byPool, byFirstWeekly };
}

describe("IssuanceSchedule", function () {
  describe("fromParams", function () {
    describe("with the default pool parameters (450M DIMO, 40 years of 52 weeks, 15% decay)", function () {
      const ts = scheduleFromParams(DEFAULT_SCHEDULE_PARAMS);

      it("derives the same first weekly amount and remainder as lib/issuance.ts", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expectSameSchedule(await harness.fromParams(solidityParams(DEFAULT_SCHEDULE_PARAMS)), ts);
      });

      it("starts at about 1.3 million DIMO a week", async function () {
        expect(ts.firstWeekly).to.equal(1_300_029_959_710_292_160_200_586n);
      });

      it("leaves a rounding remainder smaller than one wei per week (8 wei)", async function () {
        expect(ts.remainder).to.be.lessThan(2_080n);
        expect(ts.remainder).to.equal(8n);
      });

      it("picks the largest first weekly amount whose years fit in the pool", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const plusOne = scheduleFromParams({ ...DEFAULT_SCHEDULE_PARAMS, firstWeekly: ts.firstWeekly + 1n, pool: 0n });
        expect(scheduleTotal(plusOne)).to.be.greaterThan(POOL);
        expect(
          await harness.total(solidityParams({ ...DEFAULT_SCHEDULE_PARAMS, firstWeekly: ts.firstWeekly + 1n })),
        ).to.equal(scheduleTotal(plusOne));
      });

      it("totals exactly the pool in Solidity and in TypeScript", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.total(solidityParams(DEFAULT_SCHEDULE_PARAMS))).to.equal(POOL);
        expect(weeklyAmounts(ts).reduce((a, b) => a + b, 0n)).to.equal(POOL);
      });

      it("agrees with lib/issuance.ts on the weekly amount of each of the 40 years", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = solidityParams(DEFAULT_SCHEDULE_PARAMS);
        const sol: bigint[] = [];
        for (const y of YEARS_COMPARED) sol.push(await harness.weeklyOfYear(p, y));
        expect(sol).to.deep.equal(YEARS_COMPARED.map((y) => yearlyWeeklyAmounts(ts)[y]));
      });

      it("decays each year's weekly amount to 85% of the previous one, rounded down", async function () {
        const years = yearlyWeeklyAmounts(ts);
        for (let y = 1; y < years.length; y++) expect(years[y]).to.equal((years[y - 1] * 8_500n) / 10_000n);
      });

      it("agrees with lib/issuance.ts on the sum of every year and every prefix of whole years", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = solidityParams(DEFAULT_SCHEDULE_PARAMS);
        for (const y of YEARS_COMPARED) {
          expect(await harness.amountOfWeeks(p, y * 52, (y + 1) * 52)).to.equal(
            amountOfWeeks(ts, y * 52, (y + 1) * 52),
          );
          expect(await harness.amountOfWeeks(p, 0, (y + 1) * 52)).to.equal(amountOfWeeks(ts, 0, (y + 1) * 52));
        }
      });

      it("agrees with lib/issuance.ts on the weeks around every year boundary", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = solidityParams(DEFAULT_SCHEDULE_PARAMS);
        for (const y of YEARS_COMPARED.filter((year) => year > 0)) {
          const boundary = y * 52;
          expect(await harness.amountOfWeeks(p, boundary - 1, boundary + 1)).to.equal(
            amountOfWeeks(ts, boundary - 1, boundary + 1),
          );
        }
      });

      it("agrees with lib/issuance.ts on every one of the 2,080 week amounts", async function () {
        const { byPool } = await loadFixture(scheduleVaultsFixture);
        const expected = weeklyAmounts(ts);
        expect(expected).to.have.length(2_080);
        const sol: bigint[] = [];
        for (const w of WEEKS_COMPARED) sol.push(await byPool.weekAmount(w));
        expect(sol).to.deep.equal(WEEKS_COMPARED.map((w) => expected[w]));
      });

      it("pays the remainder with the last week only", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = solidityParams(DEFAULT_SCHEDULE_PARAMS);
        const lastYearWeekly = yearlyWeeklyAmounts(ts)[39];
        expect(await harness.amountOfWeeks(p, 2_078, 2_079)).to.equal(lastYearWeekly);
        expect(await harness.amountOfWeeks(p, 2_079, 2_080)).to.equal(lastYearWeekly + ts.remainder);
      });
    });

    describe("with a fixed first weekly amount of 1,105,000 DIMO", function () {
      const ts = scheduleFromParams(FIXED_FIRST_WEEKLY_PARAMS);

      it("keeps the first weekly amount and has no remainder", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const sol = await harness.fromParams(solidityParams(FIXED_FIRST_WEEKLY_PARAMS));
        expectSameSchedule(sol, ts);
        expect(sol.firstWeekly).to.equal(DIMO(1_105_000));
        expect(sol.remainder).to.equal(0n);
      });

      it("agrees with lib/issuance.ts on the total", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const total = await harness.total(solidityParams(FIXED_FIRST_WEEKLY_PARAMS));
        expect(total).to.equal(scheduleTotal(ts));
        expect(total).to.equal(weeklyAmounts(ts).reduce((a, b) => a + b, 0n));
        expect(total).to.be.lessThan(POOL);
      });

      it("agrees with lib/issuance.ts on the weekly amount of each of the 40 years", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = solidityParams(FIXED_FIRST_WEEKLY_PARAMS);
        const sol: bigint[] = [];
        for (const y of YEARS_COMPARED) sol.push(await harness.weeklyOfYear(p, y));
        expect(sol).to.deep.equal(YEARS_COMPARED.map((y) => yearlyWeeklyAmounts(ts)[y]));
      });

      it("agrees with lib/issuance.ts on every one of the 2,080 week amounts", async function () {
        const { byFirstWeekly } = await loadFixture(scheduleVaultsFixture);
        const expected = weeklyAmounts(ts);
        const sol: bigint[] = [];
        for (const w of WEEKS_COMPARED) sol.push(await byFirstWeekly.weekAmount(w));
        expect(sol).to.deep.equal(WEEKS_COMPARED.map((w) => expected[w]));
      });
    });

    describe("with a pool smaller than one wei for each week of the first year", function () {
      it("pays the whole pool as remainder in the last week", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = { ...DEFAULT_SCHEDULE_PARAMS, pool: 51n };
        const sol = await harness.fromParams(solidityParams(p));
        expectSameSchedule(sol, scheduleFromParams(p));
        expect([sol.firstWeekly, sol.remainder]).to.deep.equal([0n, 51n]);
        expect(await harness.amountOfWeeks(solidityParams(p), 0, 2_079)).to.equal(0n);
        expect(await harness.amountOfWeeks(solidityParams(p), 2_079, 2_080)).to.equal(51n);
      });
    });

    describe("with a zero pool", function () {
      it("is an all-zero schedule", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = { ...DEFAULT_SCHEDULE_PARAMS, pool: 0n };
        const sol = await harness.fromParams(solidityParams(p));
        expect([sol.firstWeekly, sol.remainder]).to.deep.equal([0n, 0n]);
        expect(await harness.total(solidityParams(p))).to.equal(0n);
      });
    });

    describe("with no decay", function () {
      it("pays the same amount every week and the remainder last", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = { pool: 1_000_003n, weeksPerYear: 10, years: 10, decayBps: 0 };
        const sol = await harness.fromParams(solidityParams(p));
        expect([sol.firstWeekly, sol.remainder]).to.deep.equal([10_000n, 3n]);
        expect(await harness.weeklyOfYear(solidityParams(p), 9)).to.equal(10_000n);
        expect(await harness.total(solidityParams(p))).to.equal(1_000_003n);
      });
    });

    describe("with a pool so large that the fixed-point estimate overshoots it", function () {
      it("corrects the estimate down and still agrees with lib/issuance.ts", async function () {
        const { harness } = await loadFixture(harnessFixture);
        // 1e40 wei: the 1e36-scaled decay factors are rounded down, so the first estimate is too high.
        const p = { ...DEFAULT_SCHEDULE_PARAMS, pool: 10n ** 40n };
        const ts = scheduleFromParams(p);
        expectSameSchedule(await harness.fromParams(solidityParams(p)), ts);
        expect(await harness.total(solidityParams(p))).to.equal(10n ** 40n);
      });
    });

    describe("when both a pool and a first weekly amount are given", function () {
      it("reverts with IssuanceAmbiguousParameters(pool, firstWeekly)", async function () {
        const { harness } = await loadFixture(harnessFixture);
        await expect(harness.fromParams({ ...solidityParams(DEFAULT_SCHEDULE_PARAMS), firstWeekly: 1n }))
          .to.be.revertedWithCustomError(harness, "IssuanceAmbiguousParameters")
          .withArgs(POOL, 1n);
      });
    });

    for (const [label, variant] of [
      ["from a pool", DEFAULT_SCHEDULE_PARAMS],
      ["from a fixed first weekly amount", FIXED_FIRST_WEEKLY_PARAMS],
    ] as const) {
      describe(`when building ${label}`, function () {
        describe("when weeksPerYear is zero", function () {
          it("reverts with IssuanceInvalidParameters(weeksPerYear, yearCount, decayBps)", async function () {
            const { harness } = await loadFixture(harnessFixture);
            await expect(harness.fromParams({ ...solidityParams(variant), weeksPerYear: 0n }))
              .to.be.revertedWithCustomError(harness, "IssuanceInvalidParameters")
              .withArgs(0n, 40n, 1_500n);
          });
        });

        describe("when yearCount is zero", function () {
          it("reverts with IssuanceInvalidParameters(weeksPerYear, yearCount, decayBps)", async function () {
            const { harness } = await loadFixture(harnessFixture);
            await expect(harness.fromParams({ ...solidityParams(variant), yearCount: 0n }))
              .to.be.revertedWithCustomError(harness, "IssuanceInvalidParameters")
              .withArgs(52n, 0n, 1_500n);
          });
        });

        describe("when decayBps is 10,000 or more", function () {
          it("reverts with IssuanceInvalidParameters(weeksPerYear, yearCount, decayBps)", async function () {
            const { harness } = await loadFixture(harnessFixture);
            await expect(harness.fromParams({ ...solidityParams(variant), decayBps: 10_000n }))
              .to.be.revertedWithCustomError(harness, "IssuanceInvalidParameters")
              .withArgs(52n, 40n, 10_000n);
            await expect(harness.fromParams({ ...solidityParams(variant), decayBps: 10_001n }))
              .to.be.revertedWithCustomError(harness, "IssuanceInvalidParameters")
              .withArgs(52n, 40n, 10_001n);
          });
        });

        describe("when decayBps is 9,999", function () {
          it("is accepted", async function () {
            const { harness } = await loadFixture(harnessFixture);
            const p = { ...variant, decayBps: 9_999 };
            expectSameSchedule(await harness.fromParams(solidityParams(p)), scheduleFromParams(p));
          });
        });
      });
    }

    describe("for random parameters (property)", function () {
      it("agrees with lib/issuance.ts scheduleFromParams and amountOfWeeks", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const paramsArb = fc.record({
          pool: fc.oneof(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.constantFrom(0n, 1n, POOL, 10n ** 30n)),
          firstWeekly: fc.option(fc.bigInt({ min: 1n, max: 10n ** 27n }), { nil: undefined, freq: 3 }),
          weeksPerYear: fc.integer({ min: 1, max: 60 }),
          years: fc.integer({ min: 1, max: 60 }),
          decayBps: fc.oneof(fc.integer({ min: 0, max: 9_999 }), fc.constantFrom(0, 1_500, 9_999)),
        });
        const caseArb = paramsArb.chain((p) => {
          const weeks = p.weeksPerYear * p.years;
          return fc.tuple(
            fc.constant(p),
            fc.integer({ min: 0, max: weeks + 3 }),
            fc.integer({ min: 0, max: weeks + 3 }),
          );
        });
        await fc.assert(
          fc.asyncProperty(caseArb, async ([p, from, to]) => {
            const params: ScheduleParams = p.firstWeekly === undefined ? p : { ...p, pool: 0n };
            const ts = scheduleFromParams(params);
            const sol = solidityParams(params);
            expectSameSchedule(await harness.fromParams(sol), ts);
            expect(await harness.amountOfWeeks(sol, from, to)).to.equal(amountOfWeeks(ts, from, to));
            if (params.firstWeekly === undefined) expect(scheduleTotal(ts)).to.equal(params.pool);
          }),
          { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
        );
      });
    });
  });

  describe("weeklyOfYear", function () {
    describe("when the year is past the last one", function () {
      it("returns zero", async function () {
        const { harness } = await loadFixture(harnessFixture);
        const p = solidityParams(DEFAULT_SCHEDULE_PARAMS);
        expect(await harness.weeklyOfYear(p, 40)).to.equal(0n);
        expect(await harness.weeklyOfYear(p, ethers.MaxUint256)).to.equal(0n);
        expect(weeklyOfYear(scheduleFromParams(DEFAULT_SCHEDULE_PARAMS), 40)).to.equal(0n);
      });
    });

    it("returns the first weekly amount for year 0", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.weeklyOfYear(solidityParams(DEFAULT_SCHEDULE_PARAMS), 0)).to.equal(
        scheduleFromParams(DEFAULT_SCHEDULE_PARAMS).firstWeekly,
      );
    });
  });

  describe("amountOfWeeks", function () {
    const ts = scheduleFromParams(DEFAULT_SCHEDULE_PARAMS);
    const p = solidityParams(DEFAULT_SCHEDULE_PARAMS);

    it("sums all 2,080 weeks to the pool", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.amountOfWeeks(p, 0, 2_080)).to.equal(POOL);
    });

    describe("when the range ends past the schedule", function () {
      it("clips it to the last week, remainder included", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.amountOfWeeks(p, 2_000, 5_000)).to.equal(amountOfWeeks(ts, 2_000, 2_080));
        expect(await harness.amountOfWeeks(p, 0, ethers.MaxUint256)).to.equal(POOL);
      });
    });

    describe("when the range is empty or reversed", function () {
      it("returns zero", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.amountOfWeeks(p, 7, 7)).to.equal(0n);
        expect(await harness.amountOfWeeks(p, 8, 7)).to.equal(0n);
      });
    });

    describe("when the range starts at or after the end of the schedule", function () {
      it("returns zero, without the remainder", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.amountOfWeeks(p, 2_080, 2_081)).to.equal(0n);
        expect(await harness.amountOfWeeks(p, 3_000, 4_000)).to.equal(0n);
      });
    });

    describe("when the range lies inside one year", function () {
      it("is the number of weeks times that year's weekly amount", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.amountOfWeeks(p, 60, 70)).to.equal(10n * yearlyWeeklyAmounts(ts)[1]);
      });
    });
  });

  describe("weeksEnded", function () {
    const genesis = 1_796_014_800; // a Monday 05:00 UTC

    describe("when the timestamp is before genesis", function () {
      it("returns zero", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.weeksEnded(genesis, genesis - 1)).to.equal(0n);
        expect(await harness.weeksEnded(genesis, 0)).to.equal(0n);
      });
    });

    describe("when the timestamp is inside week 0", function () {
      it("returns zero from genesis to the last second of the week", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.weeksEnded(genesis, genesis)).to.equal(0n);
        expect(await harness.weeksEnded(genesis, genesis + WEEK_SECONDS - 1)).to.equal(0n);
      });
    });

    describe("when the timestamp is the first second of week 1", function () {
      it("returns one", async function () {
        const { harness } = await loadFixture(harnessFixture);
        expect(await harness.weeksEnded(genesis, genesis + WEEK_SECONDS)).to.equal(1n);
      });
    });

    it("counts week w as ended from genesis + (w + 1) weeks on", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.weeksEnded(genesis, genesis + 2_080 * WEEK_SECONDS - 1)).to.equal(2_079n);
      expect(await harness.weeksEnded(genesis, genesis + 2_080 * WEEK_SECONDS)).to.equal(2_080n);
    });

    it("agrees with lib/issuance.ts for random timestamps (property)", async function () {
      const { harness } = await loadFixture(harnessFixture);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }), async (g, t) => {
          expect(await harness.weeksEnded(g, t)).to.equal(BigInt(weeksEnded(g, t)));
        }),
        { numRuns: FUZZ_RUNS, seed: FUZZ_SEED },
      );
    });
  });

  describe("weekStart", function () {
    it("is genesis plus w weeks", async function () {
      const { harness } = await loadFixture(harnessFixture);
      expect(await harness.weekStart(1_000, 0)).to.equal(1_000n);
      expect(await harness.weekStart(1_000, 3)).to.equal(1_000n + 3n * 604_800n);
    });
  });

  describe("totalWeeks (TypeScript)", function () {
    it("is weeksPerYear times years", function () {
      expect(totalWeeks(scheduleFromParams(DEFAULT_SCHEDULE_PARAMS))).to.equal(2_080);
    });
  });
});
