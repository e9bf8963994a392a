import { expect } from "chai";
import fc from "fast-check";
import { allocatePool, splitIssuance } from "../../../lib/rewards/allocation";

const wei = fc.bigInt({ min: 0n, max: 10n ** 27n });
const pointsList = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50_000 })), { maxLength: 300 });

describe("lib/rewards/allocation", function () {
  describe("splitIssuance", function () {
    it("gives core the rounded-down share and green the rest, exactly", function () {
      fc.assert(
        fc.property(wei, fc.integer({ min: 0, max: 10_000 }), (issuance, coreBps) => {
          const { coreWei, greenWei } = splitIssuance(issuance, coreBps);
          expect(coreWei).to.equal((issuance * BigInt(coreBps)) / 10_000n);
          expect(coreWei + greenWei).to.equal(issuance);
        }),
      );
      expect(splitIssuance(11n, 5000)).to.deep.equal({ coreWei: 5n, greenWei: 6n });
    });
  });

  describe("allocatePool", function () {
    it("never loses or over-issues a wei: Σ paid + carry out == share + carry in", function () {
      fc.assert(
        fc.property(wei, wei, pointsList, (share, carryIn, points) => {
          const { totals, amounts } = allocatePool(share, carryIn, points);
          const paid = amounts.reduce((s, a) => s + a, 0n);
          expect(totals.availableWei).to.equal(share + carryIn);
          expect(totals.paidWei).to.equal(paid);
          expect(paid + totals.carryOutWei).to.equal(share + carryIn);
          expect(totals.carryOutWei >= 0n).to.equal(true);
        }),
        { numRuns: 300 },
      );
    });

    it("pays nobody more than their pro-rata share, and less by under one wei", function () {
      fc.assert(
        fc.property(wei, pointsList, (available, points) => {
          const { totals, amounts } = allocatePool(available, 0n, points);
          amounts.forEach((a, i) => {
            const exact = available * BigInt(points[i]); // pro rata × total points
            expect(a * totals.points <= exact).to.equal(true);
            if (totals.points > 0n) expect((a + 1n) * totals.points > exact).to.equal(true);
          });
          // the rounding remainder is below one wei per entry with points
          const withPoints = BigInt(points.filter((p) => p > 0).length);
          if (withPoints > 0n) expect(totals.carryOutWei < withPoints).to.equal(true);
          else expect(totals.carryOutWei).to.equal(available);
        }),
        { numRuns: 300 },
      );
    });

    it("carries everything when the pool has no points", function () {
      const { totals, amounts } = allocatePool(1000n, 7n, [0, 0, 0]);
      expect(amounts).to.deep.equal([0n, 0n, 0n]);
      expect(totals).to.deep.include({ availableWei: 1007n, paidWei: 0n, carryOutWei: 1007n, points: 0n });
      expect(allocatePool(5n, 0n, []).totals.carryOutWei).to.equal(5n);
    });

    it("splits pro rata with the remainder carried", function () {
      const { totals, amounts } = allocatePool(100n, 1n, [1, 1, 1]);
      expect(amounts).to.deep.equal([33n, 33n, 33n]);
      expect(totals.carryOutWei).to.equal(2n);
    });

    it("refuses negative or fractional points", function () {
      expect(() => allocatePool(1n, 0n, [-1])).to.throw(RangeError);
      expect(() => allocatePool(1n, 0n, [1.5])).to.throw(RangeError);
    });
  });
});
