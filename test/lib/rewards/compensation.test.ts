import { expect } from "chai";
import fc from "fast-check";
import {
  affectedVehicles,
  type CandidateVehicle,
  compensationCredits,
  creditsCsv,
} from "../../../lib/rewards/compensation";
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

  describe("affectedVehicles (which vehicles could really have been read)", function () {
    const CONSUMER = "0x00000000000000000000000000000000000000Dd";
    const AS_OF = 1_000_000n;
    const AGE = 7n * 86_400n;
    const rule = { consumer: CONSUMER, affectedAsOf: AS_OF, minGrantAge: AGE };
    const base: CandidateVehicle = {
      vehicleId: 1n,
      owner: A,
      grantCounted: true,
      grantedAt: AS_OF - AGE,
      paired: true,
      liveConnections: 0,
    };

    it("keeps a paired vehicle granted exactly minGrantAge before the freeze", function () {
      expect(affectedVehicles([base], rule)).to.deep.equal({ affected: [{ vehicleId: 1n, owner: A }], excluded: [] });
    });

    it("keeps a vehicle with only a live connection (no device)", function () {
      const v = { ...base, paired: false, liveConnections: 1 };
      expect(affectedVehicles([v], rule).affected).to.deep.equal([{ vehicleId: 1n, owner: A }]);
    });

    const cases: [string, Partial<CandidateVehicle>, string][] = [
      ["granted one second too late", { grantedAt: AS_OF - AGE + 1n }, "granted-too-late"],
      ["neither paired nor connected by an integration holding its role", { paired: false }, "not-readable"],
      ["owned by the consumer (any letter case)", { owner: CONSUMER.toLowerCase() }, "owned-by-consumer"],
      ["whose grant did not count at the as-of time", { grantCounted: false }, "grant-not-counting"],
    ];
    for (const [what, change, reason] of cases) {
      it(`excludes a vehicle ${what}`, function () {
        const { affected, excluded } = affectedVehicles([{ ...base, ...change }], rule);
        expect(affected).to.deep.equal([]);
        expect(excluded).to.deep.equal([{ vehicleId: 1n, reason }]);
      });
    }

    it("refuses a negative minGrantAge", function () {
      expect(() => affectedVehicles([base], { ...rule, minGrantAge: -1n })).to.throw(RangeError, /minGrantAge/);
    });

    it("pays the real drivers the whole compensation in the issue's sybil scenario (7,500 each, 0 to 20 sybils)", function () {
      const SYBIL = "0x00000000000000000000000000000000000000Ee";
      const real = [
        { ...base, vehicleId: 1n, owner: A },
        { ...base, vehicleId: 2n, owner: B, paired: false, liveConnections: 1 },
      ];
      // Minted and granted the day before the freeze: no device, no connection, too young.
      const sybils = Array.from({ length: 20 }, (_, i) => ({
        ...base,
        vehicleId: BigInt(3 + i),
        owner: SYBIL,
        paired: false,
        grantedAt: AS_OF - 86_400n,
      }));
      const { affected } = affectedVehicles([...real, ...sybils], rule);
      const credits = compensationCredits({ slashId: 1n, compensationWei: 15_000n * 10n ** 18n }, affected);
      expect(credits).to.deep.equal([
        { account: A, amountWei: 7_500n * 10n ** 18n, reason: "slash:1" },
        { account: B, amountWei: 7_500n * 10n ** 18n, reason: "slash:1" },
      ]);
    });
  });
});
