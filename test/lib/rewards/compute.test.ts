import { expect } from "chai";
import fc from "fast-check";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { getAddress } from "ethers";
import { InputError } from "../../../lib/errors";
import { amountOfWeek } from "../../../lib/issuance";
import type { ActivityRow, SnapshotVehicle } from "../../../lib/rewards/activity";
import {
  addressOrder,
  computeAndWriteWeek,
  computeWeek,
  type Credit,
  type WeekInputs,
} from "../../../lib/rewards/compute";
import {
  distributionPaths,
  inputFileHash,
  readDistribution,
  verifyDistribution,
  writeDistribution,
  type Distribution,
} from "../../../lib/rewards/distribution";
import { parsePolicy } from "../../../lib/rewards/policy";
import { prng, syntheticWeek } from "../../../bench/rewards";

const POLICY_FILE = path.join(__dirname, "../../../config/rewards-policy.json");
const POLICY = parsePolicy(fs.readFileSync(POLICY_FILE, "utf8"), "rewards-policy.json");
const DIMO = 10n ** 18n;
const addr = (n: number) => getAddress(`0x${n.toString(16).padStart(40, "0")}`);

async function asyncErrorOf(f: () => Promise<unknown>): Promise<InputError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

/**
 * A deterministic multi-week scenario over a synthetic fleet: activity changes every week, a few
 * vehicles change owner, new vehicles join in week 2, week 0 carries referral codes and week 3 a
 * compensation credit.
 */
async function scenario(weeks: number, vehicles = 3000): Promise<Omit<WeekInputs, "previous" | "inputFiles">[]> {
  const base = await syntheticWeek(vehicles, 11);
  const out: Omit<WeekInputs, "previous" | "inputFiles">[] = [];
  for (let w = 0; w < weeks; w++) {
    const rnd = prng(100 + w);
    const count = w >= 2 ? vehicles : vehicles - Math.floor(vehicles / 15); // some vehicles join in week 2
    const snapshot: SnapshotVehicle[] = base.snapshot.slice(0, count).map((v, i) => ({
      ...v,
      owner: rnd() < 0.01 * w ? base.snapshot[(i * 7 + w) % count].owner : v.owner, // some transfers
    }));
    const activity: ActivityRow[] = [];
    for (const v of snapshot) {
      if (rnd() < 0.1) continue; // no row: inactive
      const referral = w === 0 && rnd() < 0.05 ? base.snapshot[Math.floor(rnd() * count)].owner : null;
      activity.push({
        vehicleId: String(v.vehicleId),
        active: rnd() < 0.8,
        kmMeters: Math.floor(rnd() * 40_000),
        dataTypes: rnd() < 0.5 ? ["location", "odometer"] : ["dtc"],
        referralCode: referral,
        line: activity.length + 2,
      });
    }
    const credits: Credit[] = w === 3 ? [{ account: addr(0xc0ffee), amountWei: 123n * DIMO, reason: "slash #1" }] : [];
    out.push({
      chainId: 31337,
      network: "hardhat",
      week: w,
      policy: POLICY,
      snapshot,
      activity,
      referralBudgetWei: 1000n * DIMO,
      credits,
    });
  }
  return out;
}

/** Computes and writes every week into `root`, reading each previous week back from its file. */
async function runInto(root: string, weeks: Omit<WeekInputs, "previous" | "inputFiles">[]): Promise<Distribution[]> {
  const out: Distribution[] = [];
  let previous: Distribution | null = null;
  for (const w of weeks) {
    const prevPaths = previous && distributionPaths(root, w.network, w.week - 1);
    const { distribution, tree } = await computeWeek({
      ...w,
      previous,
      inputFiles: prevPaths ? { policy: inputFileHash(POLICY_FILE), previous: inputFileHash(prevPaths.json) } : {},
    });
    const { jsonPath } = writeDistribution(
      path.dirname(distributionPaths(root, w.network, w.week).json),
      distribution,
      tree,
    );
    previous = readDistribution(jsonPath);
    out.push(previous);
  }
  return out;
}

describe("lib/rewards/compute", function () {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "rewards-compute-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe("a multi-week run", function () {
    it("gives byte-identical files for the same inputs, with no path or time inside", async function () {
      const weeks = await scenario(4);
      await runInto(path.join(dir, "a"), weeks);
      await runInto(path.join(dir, "b"), await scenario(4));
      for (let w = 0; w < 4; w++) {
        for (const kind of ["json", "tree"] as const) {
          const a = fs.readFileSync(distributionPaths(path.join(dir, "a"), "hardhat", w)[kind]);
          const b = fs.readFileSync(distributionPaths(path.join(dir, "b"), "hardhat", w)[kind]);
          expect(a.equals(b), `week ${w} ${kind}`).to.equal(true);
        }
        const text = fs.readFileSync(distributionPaths(path.join(dir, "a"), "hardhat", w).json, "utf8");
        expect(text).not.to.include(dir);
        expect(text).not.to.include(os.tmpdir());
        expect(text).not.to.match(/20\d\d-\d\d-\d\dT/);
      }
    });

    it("balances to the wei every week: pools, referrals, credits and cumulative totals", async function () {
      const files = await runInto(dir, await scenario(5));
      let previous: Distribution | null = null;
      for (const f of files) {
        const issuance = amountOfWeek(POLICY.schedule, f.week);
        expect(f.issuance.weekWei).to.equal(issuance);
        expect(f.pools.core.shareWei + f.pools.green.shareWei).to.equal(issuance);
        expect(f.pools.core.shareWei).to.equal((issuance * 5000n) / 10000n);
        for (const pool of ["core", "green"] as const) {
          const p = f.pools[pool];
          expect(p.paidWei + p.carryOutWei).to.equal(p.shareWei + p.carryInWei);
          expect(p.carryInWei).to.equal(previous ? previous.pools[pool].carryOutWei : 0n);
        }
        expect(f.totals.weekWei).to.equal(
          f.pools.core.paidWei + f.pools.green.paidWei + f.referrals.paidThisWeekWei + f.credits.totalWei,
        );
        expect(f.cumulativeTotalWei).to.equal((previous?.cumulativeTotalWei ?? 0n) + f.totals.weekWei);
        expect(await verifyDistribution(f)).to.equal(f.root);
        if (previous) {
          // every account stays, and grows by exactly its week amount (one assertion: chai is slow)
          const now = new Map(f.accounts.map((a) => [a.account.toLowerCase(), a]));
          const wrong = previous.accounts.filter((a) => {
            const b = now.get(a.account.toLowerCase());
            return !b || b.cumulativeWei - a.cumulativeWei !== b.weekWei;
          });
          expect(wrong.map((a) => a.account)).to.deep.equal([]);
        }
        previous = f;
      }
      expect(files[3].credits).to.deep.equal({ count: 1, totalWei: 123n * DIMO });
      const credited = files[3].accounts.find((a) => a.account === addr(0xc0ffee))!;
      expect(credited.credits).to.deep.equal([{ amountWei: 123n * DIMO, reason: "slash #1" }]);
      expect(files[4].accounts.find((a) => a.account === addr(0xc0ffee))!.cumulativeWei).to.equal(123n * DIMO);
      expect(files.some((f) => f.referrals.paidThisWeekWei > 0n)).to.equal(true);
    });

    it("writes the same bytes when the tree is hashed in a worker thread while the JSON is written", async function () {
      const weeks = await scenario(2, 2000);
      await runInto(path.join(dir, "a"), weeks);
      let previous: Distribution | null = null;
      for (const w of weeks) {
        const out = path.join(dir, "b", w.network);
        const prevPaths = previous && distributionPaths(path.join(dir, "b"), w.network, w.week - 1);
        const written = await computeAndWriteWeek(
          {
            ...w,
            previous,
            inputFiles: prevPaths
              ? { policy: inputFileHash(POLICY_FILE), previous: inputFileHash(prevPaths.json) }
              : {},
          },
          out,
          { workerFrom: 1 },
        );
        expect(written.contentHash).to.equal(readDistribution(written.jsonPath).contentHash);
        previous = readDistribution(written.jsonPath, { keepEarnings: false });
        expect(previous.accounts.every((a) => a.vehicles.length === 0)).to.equal(true);
      }
      for (let w = 0; w < 2; w++) {
        for (const kind of ["json", "tree"] as const) {
          const a = fs.readFileSync(distributionPaths(path.join(dir, "a"), "hardhat", w)[kind]);
          const b = fs.readFileSync(distributionPaths(path.join(dir, "b"), "hardhat", w)[kind]);
          expect(a.equals(b), `week ${w} ${kind}`).to.equal(true);
        }
      }
      expect(fs.readdirSync(path.join(dir, "b", "hardhat")).sort()).to.deep.equal([
        "week-0.json",
        "week-0.tree",
        "week-1.json",
        "week-1.tree",
      ]);
    });

    it("handles a fleet owner whose line is longer than the reader's buffer", async function () {
      const FLEET = addr(0xf1ee7);
      const snapshot: SnapshotVehicle[] = Array.from({ length: 30_000 }, (_, i) => ({
        vehicleId: i + 1,
        owner: i % 1000 === 0 ? addr(i + 1) : FLEET,
        powertrain: "BEV",
        pairedDevice: i,
        connectionKinds: ["oem"],
      }));
      const activity: ActivityRow[] = snapshot.map((v, i) => ({
        vehicleId: String(v.vehicleId),
        active: true,
        kmMeters: 20_000,
        dataTypes: ["location"],
        referralCode: null,
        line: i + 2,
      }));
      const { distribution, tree } = await computeWeek({
        chainId: 31337,
        network: "hardhat",
        week: 0,
        policy: POLICY,
        snapshot,
        activity,
        previous: null,
        referralBudgetWei: 0n,
      });
      const { jsonPath } = writeDistribution(dir, distribution, tree);
      const longest = Math.max(
        ...fs
          .readFileSync(jsonPath, "utf8")
          .split("\n")
          .map((l) => l.length),
      );
      expect(longest).to.be.above(4 << 20);
      const back = readDistribution(jsonPath);
      expect(back.accounts.find((a) => a.account === FLEET)!.vehicles).to.have.length(29_970);
      expect(await verifyDistribution(back)).to.equal(distribution.root);
    });

    it("records the hashes of the input files it was given, by name", async function () {
      const files = await runInto(dir, await scenario(2, 200));
      const policySha = files[1].inputs.policy.sha256;
      expect(files[1].inputs.policy.file).to.equal("rewards-policy.json");
      expect(policySha).to.match(/^0x[0-9a-f]{64}$/);
      expect(files[1].inputs.previous.sha256).to.equal(
        readDistribution(distributionPaths(dir, "hardhat", 0).json).contentHash,
      );
    });
  });

  describe("addressOrder", function () {
    it("orders addresses by lowercase hex, ties in input order, whatever their case or shared prefixes", function () {
      const hex = fc.stringMatching(/^[0-9a-fA-F]{40}$/);
      // few distinct 8-digit prefixes, so that runs of equal prefixes (and equal addresses) are common
      const address = fc
        .tuple(fc.constantFrom("00000000", "0000000F", "ffffffff", "12345678"), hex, fc.boolean())
        .map(([p, rest, upper]) => `0x${upper ? p.toUpperCase() : p}${rest.slice(8)}`);
      fc.assert(
        fc.property(
          fc.array(
            fc.oneof(
              address,
              address.map((a) => a.toLowerCase()),
            ),
            { maxLength: 200 },
          ),
          (list) => {
            const expected = list
              .map((a, i) => ({ a: a.toLowerCase(), i }))
              .sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : x.i - y.i))
              .map((x) => x.i);
            expect(Array.from(addressOrder(list))).to.deep.equal(expected);
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe("rules", function () {
    const ALICE = addr(0xa11ce);
    const BOB = addr(0xb0b);
    const car = (id: number, owner: string, powertrain: SnapshotVehicle["powertrain"] = "ICE"): SnapshotVehicle => ({
      vehicleId: id,
      owner,
      powertrain,
      pairedDevice: 1,
      connectionKinds: [],
    });
    const row = (id: number, active = true, km = 0): ActivityRow => ({
      vehicleId: String(id),
      active,
      kmMeters: km,
      dataTypes: [],
      referralCode: null,
      line: id + 1,
    });
    const inputs = (
      snapshot: SnapshotVehicle[],
      activity: ActivityRow[],
      previous: Distribution | null = null,
    ): WeekInputs => ({
      chainId: 31337,
      network: "hardhat",
      week: previous ? previous.week + 1 : 0,
      policy: POLICY,
      snapshot,
      activity,
      previous,
      referralBudgetWei: 0n,
    });

    it("pays each week's share to the owner at the end of the week", async function () {
      const w0 = await computeWeek(inputs([car(1, ALICE), car(2, BOB)], [row(1), row(2)]));
      const w1 = await computeWeek(inputs([car(1, BOB), car(2, BOB)], [row(1), row(2)], w0.distribution));
      const alice = w1.distribution.accounts.find((a) => a.account === ALICE)!;
      const bob = w1.distribution.accounts.find((a) => a.account === BOB)!;
      expect(alice.weekWei).to.equal(0n);
      expect(bob.vehicles.map((v) => v.vehicleId)).to.deep.equal(["1", "2"]);
      expect(alice.cumulativeWei).to.equal(w0.distribution.accounts.find((a) => a.account === ALICE)!.cumulativeWei);
    });

    it("pays only active vehicles", async function () {
      const { distribution } = await computeWeek(inputs([car(1, ALICE), car(2, BOB)], [row(1), row(2, false)]));
      expect(distribution.accounts.map((a) => a.account)).to.deep.equal([ALICE]);
      expect(distribution.vehicles.map((v) => [v.vehicleId, v.streak, v.missed])).to.deep.equal([
        ["1", 1, 0],
        ["2", 0, 1],
      ]);
    });

    it("counts an active row of a vehicle without a connection as inactive, and one connection is enough", async function () {
      const bare = { ...car(2, BOB), pairedDevice: null };
      const software = { ...car(3, BOB), pairedDevice: null, connectionKinds: ["software" as const] };
      const { distribution } = await computeWeek(
        inputs([car(1, ALICE), bare, software], [row(1), row(2), { ...row(3), dataTypes: ["location"] }]),
      );
      expect(distribution.vehicles.map((v) => [v.vehicleId, v.streak, v.missed])).to.deep.equal([
        ["1", 1, 0],
        ["2", 0, 1],
        ["3", 1, 0],
      ]);
      const bob = distribution.accounts.find((a) => a.account === BOB)!;
      expect(bob.vehicles.map((v) => [v.vehicleId, v.points.connection, v.points.dataTypes])).to.deep.equal([
        ["3", 1000, 500],
      ]);
      expect(distribution.totals.earningVehicles).to.equal(2);
    });

    it("carries the whole green pool when no vehicle earned green points", async function () {
      const w0 = await computeWeek(inputs([car(1, ALICE, "BEV")], [row(1, true, 15_999)]));
      const g0 = w0.distribution.pools.green;
      expect(g0).to.deep.include({ points: 0n, paidWei: 0n, carryOutWei: g0.shareWei });
      const w1 = await computeWeek(inputs([car(1, ALICE, "BEV")], [row(1, true, 16_000)], w0.distribution));
      const g1 = w1.distribution.pools.green;
      expect(g1.carryInWei).to.equal(g0.shareWei);
      expect(g1.paidWei).to.equal(g1.shareWei + g0.shareWei); // a single vehicle takes all of it
    });

    it("adds extra credits to the week's amounts", async function () {
      const { distribution } = await computeWeek({
        ...inputs([car(1, ALICE)], [row(1)]),
        credits: [
          { account: BOB.toLowerCase(), amountWei: 5n, reason: "compensation" },
          { account: BOB, amountWei: 7n, reason: "compensation 2" },
        ],
      });
      const bob = distribution.accounts.find((a) => a.account === BOB)!;
      expect(bob.weekWei).to.equal(12n);
      expect(distribution.credits.totalWei).to.equal(12n);
    });

    it("refuses a malformed credit, naming it", async function () {
      const e = await asyncErrorOf(() =>
        computeWeek({
          ...inputs([car(1, ALICE)], [row(1)]),
          credits: [{ account: BOB, amountWei: 0n, reason: "x" }],
          sources: { credits: "credits.json" },
        }),
      );
      expect(e.message).to.equal("credits.json credits[0].amountWei: must be a positive amount, got 0");
    });

    it("refuses an activity row of a vehicle that is not in the snapshot", async function () {
      const e = await asyncErrorOf(() =>
        computeWeek({ ...inputs([car(1, ALICE)], [row(1), row(5)]), sources: { activity: "activity.csv" } }),
      );
      expect(e.message).to.equal("activity.csv:6 vehicle_id: vehicle 5 is not in the registry snapshot");
    });

    it("refuses a snapshot listing a vehicle twice", async function () {
      const e = await asyncErrorOf(() => computeWeek(inputs([car(1, ALICE), car(1, BOB)], [row(1)])));
      expect(e.problem).to.equal("duplicate vehicle 1");
    });
  });

  describe("the previous week's file", function () {
    let week0: string;
    beforeEach(async function () {
      const [w0] = await scenario(1, 100);
      const { distribution, tree } = await computeWeek({ ...w0, previous: null });
      week0 = writeDistribution(dir, distribution, tree).jsonPath;
    });
    const week1 = async () => (await scenario(2, 100))[1];

    it("refuses a file from another chain", async function () {
      const w1 = await week1();
      const e = await asyncErrorOf(async () => computeWeek({ ...w1, chainId: 1, previous: readDistribution(week0) }));
      expect(e.message).to.equal("week-0.json chainId: is 31337 but this run is for chain 1");
    });

    it("refuses a file of another week", async function () {
      const w1 = await week1();
      const e = await asyncErrorOf(async () => computeWeek({ ...w1, week: 2, previous: readDistribution(week0) }));
      expect(e.message).to.equal("week-0.json week: is 0, expected 1");
    });

    it("refuses a file of another network", async function () {
      const w1 = await week1();
      const e = await asyncErrorOf(async () =>
        computeWeek({ ...w1, network: "sepolia", previous: readDistribution(week0) }),
      );
      expect(e.field).to.equal("network");
    });

    it("is required after week 0 and refused for week 0", async function () {
      const w1 = await week1();
      expect((await asyncErrorOf(() => computeWeek({ ...w1, previous: null }))).message).to.equal(
        "previous distribution week: week 1 needs the distribution of week 0 (none given)",
      );
      const [w0] = await scenario(1, 100);
      expect((await asyncErrorOf(() => computeWeek({ ...w0, previous: readDistribution(week0) }))).field).to.equal(
        "week",
      );
    });
  });
});
