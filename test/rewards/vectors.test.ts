/**
 * The rewards test vectors (docs/rewards-vectors/, the contract with outside implementations — docs/rewards-spec.md):
 * each vector is a folder with a policy, one folder of inputs per week and the expected distribution and tree files;
 * this test recomputes every week from the input files and requires the same bytes and root, then checks the rule
 * the vector is about.
 *
 * `REWARDS_VECTORS_WRITE=1 npx hardhat test test/rewards/vectors.test.ts` rewrites the folders from SCENARIOS below
 * (the inputs and the expected files): a change to a vector is a change to the protocol, reviewed as such.
 */
import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { getAddress } from "ethers";
import { computeWeek } from "../../lib/rewards/compute";
import { type Distribution, readDistribution, writeDistribution } from "../../lib/rewards/distribution";
import { readWeekInputs } from "../../lib/rewards/inputs";

const DIR = path.join(__dirname, "../../docs/rewards-vectors");
const DEFAULT_POLICY = JSON.parse(fs.readFileSync(path.join(__dirname, "../../config/rewards-policy.json"), "utf8"));
const CHAIN = { chainId: 31337, network: "vectors" };
const WRITE = process.env.REWARDS_VECTORS_WRITE === "1";

const A = getAddress("0x00000000000000000000000000000000000000a1");
const B = getAddress("0x00000000000000000000000000000000000000b2");
const C = getAddress("0x00000000000000000000000000000000000000c3");
const R = getAddress("0x00000000000000000000000000000000000000d4"); // a referrer owning no vehicle

/** A vehicle row: id, owner, powertrain, paired device (or null), connection kinds. */
type Car = [number, string, "ICE" | "HEV" | "PHEV" | "BEV", number | null, ("software" | "oem")[]];
interface Week {
  cars: Car[];
  /** Activity rows without the header: `vehicle_id,active,km_driven,data_types,referral_code`. */
  rows: string[];
  credits?: string[];
  /** Referral budget in DIMO (total funded so far). */
  budget?: string;
}
interface Scenario {
  name: string;
  rule: string;
  policy?: Record<string, unknown>;
  weeks: Week[];
  check: (weeks: Distribution[]) => void;
}

/** Short levels so that streak rules show in a few weeks: 0–1 → 0, 2–3 → 1000, 4–5 → 2000, 6+ → 3000. */
const SHORT = {
  ...DEFAULT_POLICY,
  streak: {
    levels: [
      { minWeeks: 0, points: 0 },
      { minWeeks: 2, points: 1000 },
      { minWeeks: 4, points: 2000 },
      { minWeeks: 6, points: 3000 },
    ],
    missedWeeksToDrop: 3,
  },
  referral: { rewardPerSide: "50", requiredStreak: 2 },
};
/** 7 wei a week: the split and the per-vehicle rounding show in single wei. */
const TINY = {
  ...DEFAULT_POLICY,
  issuance: { firstWeekly: "0.000000000000000007", weeksPerYear: 52, years: 1, decayBps: 0 },
};

const acct = (d: Distribution, who: string) => d.accounts.find((a) => a.account === who);
const state = (d: Distribution, id: string) => d.vehicles.find((v) => v.vehicleId === id)!;
const repeat = (n: number, w: Week) => Array.from({ length: n }, () => w);

const SCENARIOS: Scenario[] = [
  {
    name: "01-points",
    rule: "§5 points: hardware, OEM and software connections, data types, one week",
    weeks: [
      {
        cars: [
          [1, A, "ICE", 1, []],
          [2, B, "ICE", null, ["oem"]],
          [3, C, "HEV", null, ["software"]],
        ],
        rows: ["1,true,10,location;odometer,", "2,true,10,dtc,", "3,true,10,,"],
      },
    ],
    check: ([w]) => {
      expect(acct(w, A)!.vehicles[0].points).to.deep.equal({ connection: 6000, streak: 0, dataTypes: 1000, green: 0 });
      expect(acct(w, B)!.vehicles[0].points.connection).to.equal(4000);
      expect(acct(w, C)!.vehicles[0].points.connection).to.equal(1000);
    },
  },
  {
    name: "02-stacked-connections",
    rule: "§5 connections stack: a device, an OEM and two software connections on one vehicle",
    weeks: [
      {
        cars: [
          [1, A, "ICE", 1, ["oem", "software", "software"]],
          [2, B, "ICE", null, ["software"]],
        ],
        rows: ["1,true,1,,", "2,true,1,,"],
      },
    ],
    check: ([w]) => expect(acct(w, A)!.vehicles[0].points.connection).to.equal(6000 + 4000 + 2000),
  },
  {
    name: "03-eligibility",
    rule: "§3 an active row of a vehicle without any connection counts as inactive; no row is inactive",
    weeks: [
      {
        cars: [
          [1, A, "BEV", null, []],
          [2, B, "ICE", 2, []],
          [3, C, "ICE", null, ["software"]],
        ],
        rows: ["1,true,50,location,", "2,true,5,,"],
      },
    ],
    check: ([w]) => {
      expect(acct(w, A)).to.equal(undefined);
      expect([state(w, "1").missed, state(w, "3").missed, state(w, "2").streak]).to.deep.equal([1, 1, 1]);
    },
  },
  {
    name: "04-green",
    rule: "§5 green points: BEV and PHEV from exactly 16 km, not below; ICE and HEV never",
    weeks: [
      {
        cars: [
          [1, A, "BEV", 1, []],
          [2, A, "BEV", 2, []],
          [3, B, "PHEV", 3, []],
          [4, C, "HEV", 4, []],
        ],
        rows: ["1,true,16,,", "2,true,15.999,,", "3,true,16.5,,", "4,true,300,,"],
      },
    ],
    check: ([w]) => {
      expect(acct(w, A)!.vehicles.map((v) => v.points.green)).to.deep.equal([5000, 0]);
      expect(acct(w, B)!.vehicles[0].points.green).to.equal(3000);
      expect(acct(w, C)!.vehicles[0].points.green).to.equal(0);
    },
  },
  {
    name: "05-odd-wei",
    rule: "§6 7 wei a week: core 3, green 4 (the odd wei); per-vehicle floor; remainders carried per pool",
    policy: TINY,
    weeks: repeat(2, {
      cars: [
        [1, A, "BEV", null, ["software"]],
        [2, B, "BEV", null, ["software"]],
        [3, C, "ICE", null, ["software"]],
      ],
      rows: ["1,true,20,,", "2,true,20,,", "3,true,20,,"],
    }),
    check: ([w0, w1]) => {
      expect(w0.issuance).to.deep.equal({ weekWei: 7n, coreWei: 3n, greenWei: 4n });
      expect(w0.pools.green).to.deep.include({ paidWei: 4n, carryOutWei: 0n }); // 2 + 2
      expect(w0.pools.core).to.deep.include({ paidWei: 3n, carryOutWei: 0n }); // 1 + 1 + 1
      expect(w1.pools.core.carryInWei).to.equal(w0.pools.core.carryOutWei);
    },
  },
  {
    name: "06-remainder-carried",
    rule: "§6 uneven points: each pool's floor remainder is carried into the same pool next week",
    policy: TINY,
    weeks: repeat(3, {
      cars: [
        [1, A, "BEV", 1, []],
        [2, B, "ICE", null, ["software"]],
      ],
      rows: ["1,true,20,location,", "2,true,1,,"],
    }),
    check: (ws) => {
      for (let i = 1; i < ws.length; i++) {
        expect(ws[i].pools.core.carryInWei).to.equal(ws[i - 1].pools.core.carryOutWei);
        expect(ws[i].pools.green.carryInWei).to.equal(ws[i - 1].pools.green.carryOutWei);
      }
      expect(ws.some((w) => w.pools.core.carryOutWei > 0n)).to.equal(true);
    },
  },
  {
    name: "07-streak-drop",
    rule: "§4 streak grows, two missed weeks pause it, three drop it to the bottom of the level below",
    policy: SHORT,
    weeks: [
      ...repeat(5, { cars: [[1, A, "ICE", 1, []]], rows: ["1,true,1,,"] }), // streak 5 (level 4–5)
      ...repeat(2, { cars: [[1, A, "ICE", 1, []]], rows: ["1,false,0,,"] }), // paused at 5
      { cars: [[1, A, "ICE", 1, []]], rows: ["1,true,1,,"] }, // 6: consecutive despite the gap
      ...repeat(3, { cars: [[1, A, "ICE", 1, []]], rows: [] }), // dropped: level 6+ → 4
      { cars: [[1, A, "ICE", 1, []]], rows: ["1,true,1,,"] }, // 5
    ],
    check: (ws) => {
      expect(ws.map((w) => state(w, "1").streak)).to.deep.equal([1, 2, 3, 4, 5, 5, 5, 6, 6, 6, 4, 5]);
      expect(ws.map((w) => state(w, "1").missed)).to.deep.equal([0, 0, 0, 0, 0, 1, 2, 0, 1, 2, 0, 0]);
      expect(acct(ws[7], A)!.vehicles[0].points.streak).to.equal(3000); // the level after the update
      expect(state(ws[11], "1").best).to.equal(6);
    },
  },
  {
    name: "08-referral-paid",
    rule: "§7 a referral paid to both sides when the vehicle first reaches the required streak; self-referral rejected",
    policy: SHORT,
    weeks: repeat(2, {
      cars: [
        [1, A, "ICE", 1, []],
        [2, B, "ICE", 2, []],
      ],
      rows: [`1,true,1,,${R}`, `2,true,1,,${B}`],
      budget: "1000",
    }),
    check: ([w0, w1]) => {
      expect(w0.referrals.rejected.map((r) => [r.vehicleId, r.reason])).to.deep.equal([["2", "self-referral"]]);
      expect(w1.referrals.paid.map((p) => [p.vehicleId, p.referrer, p.driver])).to.deep.equal([["1", R, A]]);
      expect(acct(w1, R)!.weekWei).to.equal(50n * 10n ** 18n);
    },
  },
  {
    name: "09-referral-budget-short",
    rule: "§7 budget for one payout of two: the older is paid, the other waits; topped up, it is paid next week",
    policy: SHORT,
    weeks: [
      ...repeat(2, {
        cars: [
          [1, A, "ICE", 1, []],
          [2, B, "ICE", 2, []],
        ],
        rows: [`1,true,1,,${R}`, `2,true,1,,${R}`],
        budget: "100",
      }),
      {
        cars: [
          [1, A, "ICE", 1, []],
          [2, B, "ICE", 2, []],
        ],
        rows: ["1,true,1,,", "2,true,1,,"],
        budget: "200",
      },
    ],
    check: ([, w1, w2]) => {
      expect(w1.referrals.paid.map((p) => p.vehicleId)).to.deep.equal(["1"]);
      expect(w1.referrals.pending.map((p) => p.vehicleId)).to.deep.equal(["2"]);
      expect(w2.referrals.paid.map((p) => p.vehicleId)).to.deep.equal(["2"]);
      expect(w2.referrals.paidTotalWei).to.equal(200n * 10n ** 18n);
    },
  },
  {
    name: "10-credits",
    rule: "§2/§8 credits are added to the week's amounts of their accounts, even without a vehicle",
    weeks: [
      {
        cars: [[1, A, "ICE", 1, []]],
        rows: ["1,true,1,,"],
        credits: [`${A},1000,slash:1`, `${C},7500000000000000000000,slash:1`],
      },
    ],
    check: ([w]) => {
      expect(acct(w, C)!.weekWei).to.equal(7500n * 10n ** 18n);
      expect(w.credits).to.deep.equal({ count: 2, totalWei: 7500n * 10n ** 18n + 1000n });
    },
  },
  {
    name: "11-sale-during-week",
    rule: "§6/§7 a vehicle sold during the week earns the week for its end-of-week owner; the seller keeps its past",
    policy: SHORT,
    weeks: [
      { cars: [[1, A, "ICE", 1, []]], rows: [`1,true,1,,${R}`], budget: "100" },
      { cars: [[1, B, "ICE", 1, []]], rows: ["1,true,1,,"], budget: "100" },
    ],
    check: ([w0, w1]) => {
      expect(acct(w1, A)!.weekWei).to.equal(0n);
      expect(acct(w1, A)!.cumulativeWei).to.equal(acct(w0, A)!.cumulativeWei);
      expect(acct(w1, B)!.vehicles.map((v) => v.vehicleId)).to.deep.equal(["1"]);
      expect(w1.referrals.paid[0].driver).to.equal(B); // the driver is the owner in the week it qualifies
    },
  },
  {
    name: "12-multi-week",
    rule: "all rules over six weeks: a vehicle joins, one leaves the activity, accounts never fall",
    weeks: [
      {
        cars: [
          [1, A, "BEV", 1, ["software"]],
          [2, B, "ICE", null, ["oem"]],
        ],
        rows: ["1,true,40,location,", "2,true,3,,"],
      },
      {
        cars: [
          [1, A, "BEV", 1, ["software"]],
          [2, B, "ICE", null, ["oem"]],
        ],
        rows: ["1,true,10,location,", "2,true,3,,"],
      },
      {
        cars: [
          [1, A, "BEV", 1, ["software"]],
          [2, B, "ICE", null, ["oem"]],
          [3, C, "PHEV", 3, []],
        ],
        rows: ["1,true,17,location;odometer,", "3,true,30,,"],
      },
      {
        cars: [
          [1, A, "BEV", 1, ["software"]],
          [2, B, "ICE", null, ["oem"]],
          [3, C, "PHEV", 3, []],
        ],
        rows: ["1,true,17,,", "2,false,0,,", "3,true,30,,"],
      },
      {
        cars: [
          [1, A, "BEV", 1, ["software"]],
          [2, B, "ICE", null, ["oem"]],
          [3, C, "PHEV", 3, []],
        ],
        rows: ["1,true,17,,", "3,true,30,,"],
      },
      {
        cars: [
          [1, A, "BEV", 1, ["software"]],
          [2, B, "ICE", null, ["oem"]],
          [3, C, "PHEV", 3, []],
        ],
        rows: ["1,true,17,,", "2,true,1,,", "3,true,30,,"],
      },
    ],
    check: (ws) => {
      for (let i = 1; i < ws.length; i++) {
        for (const p of ws[i - 1].accounts)
          expect(acct(ws[i], p.account)!.cumulativeWei >= p.cumulativeWei).to.equal(true);
        expect(ws[i].cumulativeTotalWei).to.equal(ws[i - 1].cumulativeTotalWei + ws[i].totals.weekWei);
      }
      expect(state(ws[4], "2")).to.deep.include({ streak: 0, missed: 0 }); // three missed weeks at level 0
    },
  },
];

const snapshotCsv = (cars: Car[]) =>
  [
    "vehicle_id,owner,powertrain,make,model,year,paired_device,connection_kinds",
    ...cars.map(
      ([id, owner, pt, dev, kinds]) =>
        `${id},${owner},${pt},Make,Model,2020,${dev ?? ""},${[...kinds].sort().join(";")}`,
    ),
  ].join("\n") + "\n";

function writeInputs(s: Scenario): void {
  const dir = path.join(DIR, s.name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "policy.json"), JSON.stringify(s.policy ?? DEFAULT_POLICY, null, 2) + "\n");
  fs.writeFileSync(path.join(dir, "RULE.txt"), s.rule + "\n");
  s.weeks.forEach((w, n) => {
    const wd = path.join(dir, `week-${n}`);
    fs.mkdirSync(wd);
    fs.writeFileSync(path.join(wd, "snapshot.csv"), snapshotCsv(w.cars));
    fs.writeFileSync(
      path.join(wd, "activity.csv"),
      ["vehicle_id,active,km_driven,data_types,referral_code", ...w.rows].join("\n") + "\n",
    );
    if (w.credits)
      fs.writeFileSync(path.join(wd, "credits.csv"), ["account,amount_wei,reason", ...w.credits].join("\n") + "\n");
    fs.writeFileSync(path.join(wd, "referral-budget.txt"), (w.budget ?? "0") + "\n");
  });
}

/** Computes every week of a vector folder from its input files into `out`; returns the distributions. */
async function computeVector(dir: string, out: string): Promise<Distribution[]> {
  const weeks = fs.readdirSync(dir).filter((f) => /^week-\d+$/.test(f)).length;
  const result: Distribution[] = [];
  for (let n = 0; n < weeks; n++) {
    const wd = path.join(dir, `week-${n}`);
    const credits = path.join(wd, "credits.csv");
    const inputs = readWeekInputs(
      {
        week: n,
        snapshot: path.join(wd, "snapshot.csv"),
        activity: path.join(wd, "activity.csv"),
        policy: path.join(dir, "policy.json"),
        previous: n === 0 ? undefined : path.join(out, `week-${n - 1}.json`),
        credits: fs.existsSync(credits) ? credits : undefined,
        referralBudget: fs.readFileSync(path.join(wd, "referral-budget.txt"), "utf8").trim(),
      },
      CHAIN,
    );
    const { distribution, tree } = await computeWeek(inputs);
    writeDistribution(out, distribution, tree);
    fs.writeFileSync(path.join(out, `week-${n}.root`), distribution.root + "\n");
    result.push(readDistribution(path.join(out, `week-${n}.json`)));
  }
  return result;
}

describe("rewards test vectors (docs/rewards-vectors)", function () {
  this.timeout(120_000);

  it("has a dozen vectors, each folder made from this file's scenarios", function () {
    expect(SCENARIOS.length).to.be.at.least(12);
    if (!WRITE) {
      const folders = fs.readdirSync(DIR).filter((f) => fs.statSync(path.join(DIR, f)).isDirectory());
      expect(folders.sort()).to.deep.equal(SCENARIOS.map((s) => s.name).sort());
    }
  });

  for (const s of SCENARIOS) {
    it(`${s.name}: ${s.rule}`, async function () {
      const dir = path.join(DIR, s.name);
      if (WRITE) {
        writeInputs(s);
        await computeVector(dir, path.join(dir, "expected"));
      }
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-vectors-"));
      try {
        const weeks = await computeVector(dir, tmp);
        expect(weeks.length).to.equal(s.weeks.length);
        for (const f of fs.readdirSync(path.join(dir, "expected")).sort()) {
          const same = fs.readFileSync(path.join(tmp, f)).equals(fs.readFileSync(path.join(dir, "expected", f)));
          expect(same, `${s.name}/expected/${f} differs from the recomputed one`).to.equal(true);
        }
        expect(fs.readdirSync(tmp).sort()).to.deep.equal(fs.readdirSync(path.join(dir, "expected")).sort());
        s.check(weeks);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  }
});
