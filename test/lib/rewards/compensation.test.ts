import { expect } from "chai";
import fc from "fast-check";
import { compensationCredits, creditsCsv } from "../../../lib/rewards/compensation";
import { parseCredits } from "../../../lib/rewards/inputs";

const A = "0x00000000000000000000000000000000000000Aa";
const B = "0x00000000000000000000000000000000000000bB";
const C = "0x00000000000000000000000000000000000000cc";

describe("lib/rewards/compensation", function () {
  it("splits equally per affected vehicle, merges per owner and gives the remainder to the lowest vehicle id", function () {
    const credits = compensationCredits({ slashId: 3n, compensationWei: 1000n }, [
      { vehicleId: 9n, owner: B },
      { vehicleId: 2n, owner: A },
      { vehicleId: 5n, owner: B },
    ]);
    expect(credits).to.deep.equal([
      { account: A, amountWei: 334n, reason: "slash:3" }, // 333 + the 1 wei remainder (vehicle 2)
      { account: B, amountWei: 666n, reason: "slash:3" },
    ]);
  });

  it("credits nothing without an affected vehicle or without compensation", function () {
    expect(compensationCredits({ slashId: 1n, compensationWei: 10n }, [])).to.deep.equal([]);
    expect(compensationCredits({ slashId: 1n, compensationWei: 0n }, [{ vehicleId: 1n, owner: A }])).to.deep.equal([]);
  });

  it("refuses a vehicle listed twice", function () {
    expect(() =>
      compensationCredits({ slashId: 1n, compensationWei: 10n }, [
        { vehicleId: 1n, owner: A },
        { vehicleId: 1n, owner: B },
      ]),
    ).to.throw(RangeError, /listed twice/);
  });

  it("always pays exactly the compensation (property)", function () {
    const owners = [A, B, C];
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 27n }),
        fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 50 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 50, maxLength: 50 }),
        (comp, ids, ownerOf) => {
          const credits = compensationCredits(
            { slashId: 7n, compensationWei: comp },
            ids.map((id, i) => ({ vehicleId: BigInt(id), owner: owners[ownerOf[i]] })),
          );
          expect(credits.reduce((s, c) => s + c.amountWei, 0n)).to.equal(comp);
        },
      ),
    );
  });

  it("writes a credits CSV that rewards:compute reads back", function () {
    const credits = compensationCredits({ slashId: 2n, compensationWei: 7n }, [
      { vehicleId: 1n, owner: A },
      { vehicleId: 2n, owner: C },
    ]);
    expect(parseCredits(creditsCsv(credits), "credits.csv")).to.deep.equal(credits);
  });
});
