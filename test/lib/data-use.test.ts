/**
 * Data-use rewards (lib/rewards/data-use.ts, docs/rewards-spec.md §9): the allocation rule, the derivation from
 * receipts and a disclosed access log, and every refusal of a file that does not hold together.
 */
import { expect } from "chai";
import fc from "fast-check";
import { getAddress, ZeroHash } from "ethers";
import { appendEntry, type AccessLogEntry, type AccessRead, EMPTY_HEAD, headOf } from "../../lib/consent/access-log";
import {
  allocateDataUse,
  buildDataUseFile,
  type DataUseFile,
  DataUseError,
  dataUseCredits,
  dataUseWeekOf,
  deriveDataUse,
  formatDataUseFile,
  parseDataUseFile,
  type RedeemedLog,
  receiptsOfWeek,
  type Settlement,
  settlementSplit,
  summarizeDataUseFees,
} from "../../lib/rewards/data-use";
import fs from "node:fs";
import { InputError } from "../../lib/errors";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED);

const addr = (n: number) => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const NODE = addr(0x70de);
const C1 = addr(0xc1);
const C2 = addr(0xc2);
const ALICE = addr(0xa11ce);
const BOB = addr(0xb0b);
const PRICE = 1_000n;

function read(consumer: string, vehicleId: string, owner: string, resultSize: number, at = 1_000): AccessRead {
  return {
    at,
    consumer,
    vehicleId,
    signals: ["odometer"],
    from: 0,
    to: at,
    resultSize,
    grant: { owner, epoch: 0, permissions: "2", expiresAt: 10_000_000, grantedAt: 1 },
  };
}

function logOf(reads: AccessRead[]): AccessLogEntry[] {
  const out: AccessLogEntry[] = [];
  let head = EMPTY_HEAD;
  for (const r of reads) {
    const e = appendEntry(head, r);
    out.push(e);
    head = headOf(out);
  }
  return out;
}

let logIndex = 0;
function redeemed(consumer: string, sequence: number, cumulative: bigint, credits: bigint, week = 3): RedeemedLog {
  return {
    consumer,
    node: NODE,
    week,
    sequence,
    cumulativeCredits: cumulative,
    credits,
    pricePerCredit: PRICE,
    charge: credits * PRICE,
    block: 100 + logIndex,
    logIndex: logIndex++,
    txHash: `0x${(logIndex + 1).toString(16).padStart(64, "0")}`,
  };
}

function settlement(charged: bigint, burnBps = 5_000n, treasuryBps = 2_500n): Settlement {
  const burned = (charged * burnBps) / 10_000n;
  const toTreasury = (charged * treasuryBps) / 10_000n;
  return {
    charged,
    burned,
    toTreasury,
    toDrivers: charged - burned - toTreasury,
    block: 999,
    txHash: `0x${"ab".repeat(32)}`,
  };
}

/**
 * C1 reads Alice's vehicle 1 (3 credits), Bob's vehicle 2 (2), vehicle 1 again after it passed to Bob (5); C2
 * reads vehicle 2 (4). C1's receipt at read 1 was redeemed in week 2; in week 3 C1 redeems reads 2..3, C2 read 1.
 */
function scenario() {
  const log = logOf([
    read(C1, "1", ALICE, 3),
    read(C2, "2", BOB, 4),
    read(C1, "2", BOB, 2),
    read(C1, "1", BOB, 5), // vehicle 1 was transferred: the read pays the owner then, Bob
  ]);
  const logs = [redeemed(C1, 1, 3n, 3n, 2), redeemed(C1, 3, 10n, 7n), redeemed(C2, 1, 4n, 4n)];
  const receipts = receiptsOfWeek(logs, 3);
  const charged = (7n + 4n) * PRICE;
  return { log, receipts, s: settlement(charged) };
}

function build(over: Partial<Parameters<typeof buildDataUseFile>[0]> = {}): DataUseFile {
  const { log, receipts, s } = scenario();
  return buildDataUseFile({
    chainId: 31337,
    dataCredits: addr(0xdc),
    week: 3,
    settlement: s,
    receipts,
    logs: new Map([[NODE, log]]),
    ...over,
  });
}

function problemOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof DataUseError || e instanceof InputError) return e.message;
    throw e;
  }
  expect.fail("expected a refusal");
}

describe("lib/rewards/data-use", function () {
  describe("allocateDataUse", function () {
    it("floors each share and gives the remainder to the largest remainders, ties by lower-case address", function () {
      // 10 wei over charges 1:1:1 → 3 each, one left: the three remainders tie, the lowest address takes it.
      const a = allocateDataUse(
        10n,
        new Map([
          [BOB, 5n],
          [ALICE, 5n],
          [addr(0xc0ffee), 5n],
        ]),
      );
      expect(a.map((x) => [x.account, x.amountWei])).to.deep.equal([
        [addr(0xb0b), 4n],
        [addr(0xa11ce), 3n],
        [addr(0xc0ffee), 3n],
      ]);
      // 7 wei over 10:20 → 2.33 and 4.67: floors 2 and 4, the wei left goes to the larger remainder (4.67).
      expect(
        allocateDataUse(
          7n,
          new Map([
            [ALICE, 10n],
            [BOB, 20n],
          ]),
        ).map((x) => [x.account, x.amountWei]),
      ).to.deep.equal([
        [BOB, 5n],
        [ALICE, 2n],
      ]);
    });

    it("leaves out owners whose share is zero and pays nothing when nothing was charged", function () {
      expect(
        allocateDataUse(
          1n,
          new Map([
            [ALICE, 1n],
            [BOB, 3n],
          ]),
        ),
      ).to.deep.equal([{ account: BOB, chargedWei: 3n, amountWei: 1n }]);
      expect(allocateDataUse(0n, new Map())).to.deep.equal([]);
      expect(problemOf(() => allocateDataUse(5n, new Map()))).to.equal(
        "settlement.toDrivers: 5 wei to pay but no charge",
      );
      expect(problemOf(() => allocateDataUse(5n, new Map([[ALICE, 4n]])))).to.equal(
        "settlement.toDrivers: 5 wei is more than the 4 wei charged",
      );
    });

    it(`sums to toDrivers exactly and stays within one wei of the exact share (fast-check seed ${SEED})`, function () {
      console.log(`      fast-check seed ${SEED} (FUZZ_SEED=${SEED} to replay), ${RUNS} runs`);
      fc.assert(
        fc.property(
          fc.array(fc.bigInt(1n, 10n ** 24n), { minLength: 1, maxLength: 30 }),
          fc.integer({ min: 0, max: 10_000 }),
          (charges, bps) => {
            const m = new Map(charges.map((c, i) => [addr(i + 1), c]));
            const charged = charges.reduce((s, c) => s + c, 0n);
            const toDrivers = (charged * BigInt(bps)) / 10_000n;
            const a = allocateDataUse(toDrivers, m);
            expect(a.reduce((s, x) => s + x.amountWei, 0n)).to.equal(toDrivers);
            for (const x of a) {
              const exact = toDrivers * m.get(x.account)!;
              expect(x.amountWei * charged >= exact - charged && x.amountWei * charged <= exact + charged).to.equal(
                true,
              );
            }
          },
        ),
        { numRuns: RUNS, seed: SEED },
      );
    });
  });

  describe("receiptsOfWeek", function () {
    it("gives each receipt the sequence its channel had before it, from any earlier week", function () {
      const { receipts } = scenario();
      expect(receipts.map((r) => [r.consumer, r.previousSequence, r.sequence])).to.deep.equal([
        [C1, 1, 3],
        [C2, 0, 1],
      ]);
    });
  });

  describe("deriving a week", function () {
    it("pays each read's charge to the grant's owner at the read (a transferred vehicle's reads split)", function () {
      const f = build();
      // Charged: Bob's vehicle 2 (2 + 4 credits) and vehicle 1 after its transfer (5) → Bob 11 credits; Alice's
      // read 1 was redeemed in week 2, not this week.
      const toDrivers = f.settlement.toDrivers;
      expect(f.allocations).to.deep.equal([{ account: BOB, chargedWei: 11n * PRICE, amountWei: toDrivers }]);
      expect(f.disclosures[0].consumers).to.deep.equal([C1, C2]);
      expect(f.disclosures[0].entries.map((e) => e.seq)).to.deep.equal([0, 1, 2, 3]);
      expect(dataUseCredits(f)).to.deep.equal([{ account: BOB, amountWei: toDrivers, reason: "data-use:3" }]);
    });

    it("week 2 (only read 1 of C1) pays Alice", function () {
      const { log } = scenario();
      const logs = [redeemed(C1, 1, 3n, 3n, 2)];
      const f = buildDataUseFile({
        chainId: 31337,
        dataCredits: addr(0xdc),
        week: 2,
        settlement: settlement(3n * PRICE),
        receipts: receiptsOfWeek(logs, 2),
        logs: new Map([[NODE, log]]),
      });
      expect(f.allocations.map((a) => [a.account, a.chargedWei])).to.deep.equal([[ALICE, 3n * PRICE]]);
    });

    it("discloses only the paying consumers' entries", function () {
      const log = logOf([read(C1, "1", ALICE, 3), read(C2, "2", BOB, 4)]);
      const f = buildDataUseFile({
        chainId: 31337,
        dataCredits: addr(0xdc),
        week: 3,
        settlement: settlement(3n * PRICE),
        receipts: receiptsOfWeek([redeemed(C1, 1, 3n, 3n)], 3),
        logs: new Map([[NODE, log]]),
      });
      expect(f.disclosures[0].entries.map((e) => e.consumer)).to.deep.equal([C1]);
      expect(f.disclosures[0].contentHashes).to.have.length(2);
    });

    it("round-trips through its bytes, and the bytes do not depend on key order", function () {
      const f = build();
      const text = formatDataUseFile(f);
      expect(formatDataUseFile(parseDataUseFile(text, "data-use-week-3.json"))).to.equal(text);
    });

    const refusals: [string, (f: DataUseFile) => void, string][] = [
      [
        "a charge above the receipts' (settlement.charged)",
        (f) => {
          f.settlement.charged += 1n;
          f.settlement.toDrivers += 1n;
        },
        "settlement.charged: 11001 wei, but the week's receipts charge 11000 wei",
      ],
      [
        "a split that does not add up",
        (f) => {
          f.settlement.burned += 1n;
        },
        "settlement: burned + toTreasury + toDrivers is not charged (11000 wei)",
      ],
      [
        "a receipt charging more credits than its reads hold",
        (f) => {
          f.receipts[0].credits += 1n;
          f.receipts[0].cumulativeCredits += 1n;
          f.receipts[0].charge += PRICE;
        },
        `receipts[0].credits: reads 2…3 of ${C1} hold 7 credits, the receipt charges 8`,
      ],
      [
        "a charge that is not credits × price",
        (f) => {
          f.receipts[1].charge += 1n;
        },
        "receipts[1].charge: 4001 wei is not credits × pricePerCredit",
      ],
      [
        "a receipt beyond the disclosed reads",
        (f) => {
          f.receipts[1].sequence = 2;
        },
        `receipts[1].sequence: read 2 of ${C2} is not in node ${NODE}'s disclosed log (1 reads)`,
      ],
      [
        "a shifted previous sequence (reads paid twice)",
        (f) => {
          f.receipts[0].previousSequence = 0;
        },
        "receipts[0].credits: the reads before 1 make 0 credits, the receipt starts after 3",
      ],
      [
        "a disclosure with an entry edited (another owner paid)",
        (f) => {
          f.disclosures[0].entries[2].grant.owner = ALICE;
        },
        "disclosures[0]: LOG_TAMPERED: entry 2 does not match the chain",
      ],
      [
        "a disclosure with a paying consumer's entry hidden",
        (f) => {
          f.disclosures[0].entries.splice(2, 1);
        },
        `receipts[0].sequence: read 3 of ${C1} is not in node ${NODE}'s disclosed log (2 reads)`,
      ],
      [
        "a disclosure whose content hashes do not make its head",
        (f) => {
          f.disclosures[0].contentHashes[0] = ZeroHash;
        },
        "disclosures[0]: LOG_TAMPERED: the content hashes chain to",
      ],
      [
        "a receipt without a disclosure of its node's log",
        (f) => {
          f.disclosures = [];
        },
        "receipts[0]: no disclosure of node",
      ],
    ];
    for (const [name, edit, message] of refusals) {
      it(`refuses ${name}`, function () {
        const f = structuredClone(build());
        edit(f);
        expect(problemOf(() => deriveDataUse(f))).to.include(message);
        // And a file with those bytes is refused when read, naming the file.
        expect(problemOf(() => parseDataUseFile(formatDataUseFile(f), "data-use-week-3.json"))).to.include(
          `data-use-week-3.json`,
        );
      });
    }

    it("refuses a file whose allocations are not what its reads give", function () {
      const f = build();
      f.allocations[0].amountWei -= 1n;
      expect(problemOf(() => parseDataUseFile(formatDataUseFile(f), "x.json"))).to.match(
        /^x\.json allocations\[0\]: 0x0+B0b \d+ wei \(charged 11000\), the reads give 0x0+B0b \d+ wei/,
      );
      const g = build();
      g.allocations.push({ account: ALICE, chargedWei: 1n, amountWei: 1n });
      expect(problemOf(() => parseDataUseFile(formatDataUseFile(g), "x.json"))).to.include(
        `allocations[1]: ${ALICE} is paid but its reads give nothing`,
      );
    });

    it("refuses a malformed file naming the field", function () {
      const text = formatDataUseFile(build()).replace('"pricePerCredit": "1000"', '"pricePerCredit": "-1"');
      expect(problemOf(() => parseDataUseFile(text, "x.json"))).to.equal(
        "x.json receipts.0.pricePerCredit: not a decimal integer (wei)",
      );
      expect(problemOf(() => parseDataUseFile("{", "x.json"))).to.match(/^x\.json \(json\): /);
    });

    it("building refuses a redeeming node whose log is missing or not its published head", function () {
      expect(problemOf(() => build({ logs: new Map() }))).to.match(/^logs: node 0x0+70de redeemed receipts in week 3/i);
      const { log } = scenario();
      expect(problemOf(() => build({ heads: new Map([[NODE, { count: 9, hash: log[3].hash }]]) }))).to.include(
        "LOG_TRUNCATED",
      );
    });
  });

  describe("docs/rewards-vectors/data-use.json (docs/rewards-spec.md §15)", function () {
    const vectors = JSON.parse(fs.readFileSync("docs/rewards-vectors/data-use.json", "utf8")) as {
      splits: Record<string, string | number>[];
      allocations: {
        name: string;
        toDrivers: string;
        charges: Record<string, string>;
        expected: { account: string; chargedWei: string; amountWei: string }[];
      }[];
    };
    for (const v of vectors.splits) {
      it(`split of ${v.charged} wei at ${v.burnBps}/${v.treasuryBps} bps`, function () {
        const s = settlementSplit(BigInt(v.charged), BigInt(v.burnBps), BigInt(v.treasuryBps));
        expect([s.burned, s.toTreasury, s.toDrivers].map(String)).to.deep.equal([v.burned, v.toTreasury, v.toDrivers]);
      });
    }
    for (const v of vectors.allocations) {
      it(`allocation: ${v.name}`, function () {
        const charges = new Map(Object.entries(v.charges).map(([a, c]) => [a, BigInt(c)]));
        const got = allocateDataUse(BigInt(v.toDrivers), charges).map((a) => ({
          account: a.account,
          chargedWei: a.chargedWei.toString(),
          amountWei: a.amountWei.toString(),
        }));
        expect(got).to.deep.equal(v.expected);
      });
    }
  });

  it("dataUseWeekOf reads the credit reason", function () {
    expect(dataUseWeekOf("data-use:0")).to.equal(0);
    expect(dataUseWeekOf("data-use:12")).to.equal(12);
    expect(dataUseWeekOf("data-use:012")).to.equal(undefined);
    expect(dataUseWeekOf("slash:1")).to.equal(undefined);
  });

  describe("summarizeDataUseFees (rewards:status)", function () {
    const w = (week: number, charged: bigint) => {
      const { burned, toTreasury, toDrivers } = settlementSplit(charged, 5000n, 1000n);
      return { week, charged, burned, toTreasury, toDrivers };
    };

    it("sums the settled weeks in week order and keeps what is charged but not settled apart", function () {
      const fees = summarizeDataUseFees([w(5, 1_001n), w(2, 333n)], 77n);
      expect(fees.weeks.map((x) => x.week)).to.deep.equal([2, 5]);
      expect(fees.charged).to.equal(1_334n);
      expect(fees.burned).to.equal(500n + 166n);
      expect(fees.toTreasury).to.equal(100n + 33n);
      expect(fees.toDrivers).to.equal(401n + 134n);
      expect(fees.burned + fees.toTreasury + fees.toDrivers).to.equal(fees.charged);
      expect(fees.unsettled).to.equal(77n);
    });

    it("is all zero with no settlement", function () {
      expect(summarizeDataUseFees([], 0n)).to.deep.equal({
        weeks: [],
        charged: 0n,
        burned: 0n,
        toTreasury: 0n,
        toDrivers: 0n,
        unsettled: 0n,
      });
    });

    it("refuses a week whose shares do not add up to its charge, by 1 wei", function () {
      const bad = { ...w(3, 1_000n), toDrivers: w(3, 1_000n).toDrivers + 1n };
      expect(() => summarizeDataUseFees([bad], 0n)).to.throw(
        DataUseError,
        /^settlements: week 3: burned 500 \+ treasury 100 \+ drivers 401 is not the 1000 charged$/,
      );
    });

    it("refuses a week settled twice", function () {
      expect(() => summarizeDataUseFees([w(4, 10n), w(4, 10n)], 0n)).to.throw(DataUseError, /week 4 is settled twice/);
    });
  });
});
