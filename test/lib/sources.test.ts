/**
 * Earnings by source (lib/rewards/sources.ts, docs/rewards-spec.md §8 "Earnings by source"): the split of the core
 * amount into baseline and streak and its rounding, referrals on either side, both credit kinds, the refusals.
 */
import { expect } from "chai";
import fc from "fast-check";
import { getAddress } from "ethers";
import { compensationCredits } from "../../lib/rewards/compensation";
import { dataUseReason } from "../../lib/rewards/data-use";
import type { VehicleEarning } from "../../lib/rewards/distribution";
import { InputError } from "../../lib/errors";
import { creditSource, earningsBySource, SOURCES, splitCore, type SourcesEntry } from "../../lib/rewards/sources";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED);

const NO_POINTS = { connection: 0, streak: 0, dataTypes: 0, green: 0 };

function vehicle(v: Partial<VehicleEarning>): VehicleEarning {
  return { vehicleId: "1", core: 0n, green: 0n, points: NO_POINTS, ...v };
}

/** weekWei as rewards:compute sums it (lib/rewards/compute.ts, step 6). */
function weekWeiOf(e: Omit<SourcesEntry, "weekWei">): bigint {
  let s = 0n;
  for (const v of e.vehicles) s += v.core + v.green + (v.referral?.amountWei ?? 0n);
  for (const c of e.credits ?? []) s += c.amountWei;
  return s;
}

function entry(e: Omit<SourcesEntry, "weekWei">): SourcesEntry {
  return { ...e, weekWei: weekWeiOf(e) };
}

function problemOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).to.be.instanceOf(InputError);
    return (e as Error).message;
  }
  throw new Error("expected an InputError");
}

describe("earnings by source (lib/rewards/sources.ts)", function () {
  describe("splitCore", function () {
    it("gives the streak its share of the core amount, rounded down, and the rest to the baseline", function () {
      // 1,000 wei over 6,000 connection + 1,000 streak + 1,000 data-type points: 1/8 is the streak's.
      expect(splitCore(1000n, { connection: 6000, streak: 1000, dataTypes: 1000 })).to.deep.equal({
        baseline: 875n,
        streak: 125n,
      });
    });

    it("rounds at the boundary: an exact third stays exact, one wei less rounds the streak down", function () {
      const thirds = { connection: 1, streak: 1, dataTypes: 1 };
      expect(splitCore(9n, thirds)).to.deep.equal({ baseline: 6n, streak: 3n });
      expect(splitCore(8n, thirds)).to.deep.equal({ baseline: 6n, streak: 2n }); // 8/3 = 2.67 → 2
      expect(splitCore(7n, thirds)).to.deep.equal({ baseline: 5n, streak: 2n }); // 7/3 = 2.33 → 2
      expect(splitCore(2n, thirds)).to.deep.equal({ baseline: 2n, streak: 0n }); // 2/3 → 0
    });

    it("is exact beyond 2^53 wei (bigint, not a double)", function () {
      const core = 10n ** 24n + 1n;
      const s = splitCore(core, { connection: 6000, streak: 3000, dataTypes: 1500 });
      expect(s.streak).to.equal((core * 3000n) / 10500n);
      expect(s.baseline + s.streak).to.equal(core);
    });

    it("with no core points (a referral-only entry) everything is baseline", function () {
      expect(splitCore(0n, NO_POINTS)).to.deep.equal({ baseline: 0n, streak: 0n });
      expect(splitCore(5n, NO_POINTS)).to.deep.equal({ baseline: 5n, streak: 0n });
    });

    it("with no streak points the whole core amount is baseline", function () {
      expect(splitCore(999n, { connection: 6000, streak: 0, dataTypes: 500 })).to.deep.equal({
        baseline: 999n,
        streak: 0n,
      });
    });
  });

  describe("earningsBySource", function () {
    it("sums the vehicles' baseline, streak and green, each vehicle split on its own points", function () {
      const e = entry({
        vehicles: [
          vehicle({
            vehicleId: "1",
            core: 800n,
            green: 50n,
            points: { connection: 6000, streak: 1000, dataTypes: 1000, green: 5000 },
          }),
          vehicle({
            vehicleId: "2",
            core: 7n,
            green: 0n,
            points: { connection: 1, streak: 1, dataTypes: 1, green: 0 },
          }),
        ],
      });
      expect(earningsBySource(e)).to.deep.equal({
        baseline: 700n + 5n,
        streak: 100n + 2n,
        green: 50n,
        referrals: 0n,
        compensation: 0n,
        dataUse: 0n,
      });
    });

    it("counts a referral as the referrer (a referral-only vehicle) and as the driver (beside its earnings)", function () {
      const asReferrer = entry({
        vehicles: [vehicle({ vehicleId: "9", referral: { role: "referrer", amountWei: 10n ** 20n } })],
      });
      expect(earningsBySource(asReferrer)).to.deep.equal({
        baseline: 0n,
        streak: 0n,
        green: 0n,
        referrals: 10n ** 20n,
        compensation: 0n,
        dataUse: 0n,
      });
      const asDriver = entry({
        vehicles: [
          vehicle({
            vehicleId: "4",
            core: 12n,
            points: { connection: 1000, streak: 1000, dataTypes: 1000, green: 0 },
            referral: { role: "driver", amountWei: 3n },
          }),
        ],
      });
      expect(earningsBySource(asDriver)).to.deep.equal({
        baseline: 8n,
        streak: 4n,
        green: 0n,
        referrals: 3n,
        compensation: 0n,
        dataUse: 0n,
      });
    });

    it("puts slash:<id> credits under compensation and data-use:<week> credits under data use", function () {
      const e = entry({
        vehicles: [],
        credits: [
          { amountWei: 40n, reason: "slash:1" },
          { amountWei: 2n, reason: "slash:12" },
          { amountWei: 7n, reason: "data-use:2" },
        ],
      });
      expect(earningsBySource(e)).to.deep.equal({
        baseline: 0n,
        streak: 0n,
        green: 0n,
        referrals: 0n,
        compensation: 42n,
        dataUse: 7n,
      });
    });

    it("recognises the reasons the compensation and data-use modules write", function () {
      const owner = getAddress(`0x${"ab".repeat(20)}`);
      const [slash] = compensationCredits({ slashId: 3n, compensationWei: 10n }, [{ vehicleId: 1n, owner }]);
      expect(creditSource(slash.reason)).to.equal("compensation");
      expect(creditSource(dataUseReason(0))).to.equal("dataUse");
      expect(creditSource(dataUseReason(15))).to.equal("dataUse");
      for (const r of ["slash:", "slash:01", "slash:x", "data-use:", "data-use:-1", "Slash:1", "bonus:1", " slash:1"])
        expect(creditSource(r), r).to.equal(undefined);
    });

    it("refuses a credit reason it does not know, naming the credit and the reason", function () {
      const e = {
        index: 5,
        ...entry({
          vehicles: [],
          credits: [
            { amountWei: 1n, reason: "slash:1" },
            { amountWei: 9n, reason: "bonus:xmas" },
          ],
        }),
      };
      expect(problemOf(() => earningsBySource(e, "week-2.json"))).to.equal(
        'week-2.json accounts[5].credits[1].reason: unknown credit reason "bonus:xmas" (expected slash:<id> or data-use:<week>)',
      );
    });

    it("refuses an entry whose weekWei is not the sum of its vehicles and credits", function () {
      const e = entry({
        vehicles: [vehicle({ core: 10n, points: { connection: 1, streak: 1, dataTypes: 0, green: 0 } })],
      });
      expect(problemOf(() => earningsBySource({ ...e, weekWei: 11n }))).to.equal(
        "distribution account.weekWei: is 11 wei but its vehicles and credits sum to 10 wei",
      );
    });

    it("an entry with nothing this week is all zero", function () {
      expect(earningsBySource({ weekWei: 0n, vehicles: [] })).to.deep.equal({
        baseline: 0n,
        streak: 0n,
        green: 0n,
        referrals: 0n,
        compensation: 0n,
        dataUse: 0n,
      });
    });

    it(`the sources sum to weekWei, each non-negative, the streak within a wei of its share (fast-check seed ${SEED})`, function () {
      console.log(`      fast-check seed ${SEED} (FUZZ_SEED=${SEED} to replay), ${RUNS} runs`);
      const pts = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 1_000_000 }));
      const wei = fc.oneof(fc.constant(0n), fc.bigInt(0n, 10n ** 27n));
      const arbVehicle = fc.record({
        vehicleId: fc.constant("1"),
        core: wei,
        green: wei,
        points: fc.record({ connection: pts, streak: pts, dataTypes: pts, green: pts }),
        referral: fc.option(
          fc.record({ role: fc.constantFrom("referrer" as const, "driver" as const), amountWei: wei }),
          { nil: undefined },
        ),
      });
      const arbCredit = fc.record({
        amountWei: fc.bigInt(1n, 10n ** 24n),
        reason: fc.oneof(
          fc.nat(1000).map((n) => `slash:${n}`),
          fc.nat(1000).map((n) => dataUseReason(n)),
        ),
      });
      fc.assert(
        fc.property(
          fc.array(arbVehicle, { maxLength: 20 }),
          fc.option(fc.array(arbCredit, { maxLength: 5 }), { nil: undefined }),
          (vehicles, credits) => {
            const e = entry({ vehicles, credits });
            const s = earningsBySource(e);
            expect(SOURCES.reduce((sum, k) => sum + s[k], 0n)).to.equal(e.weekWei);
            for (const k of SOURCES) expect(s[k] >= 0n, k).to.equal(true);
            for (const v of vehicles) {
              const { streak } = splitCore(v.core, v.points);
              const total = BigInt(v.points.connection + v.points.streak + v.points.dataTypes);
              if (total === 0n) continue;
              const exact = v.core * BigInt(v.points.streak); // streak × total ≤ exact < (streak + 1) × total
              expect(streak * total <= exact && exact < (streak + 1n) * total).to.equal(true);
            }
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );
    });
  });
});
