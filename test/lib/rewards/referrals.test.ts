import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { getAddress } from "ethers";
import { InputError } from "../../../lib/errors";
import type { ActivityRow, SnapshotVehicle } from "../../../lib/rewards/activity";
import { computeWeek } from "../../../lib/rewards/compute";
import { readDistribution, writeDistribution, type Distribution } from "../../../lib/rewards/distribution";
import { parsePolicy } from "../../../lib/rewards/policy";
import { payReferrals, recordReferral, type ReferralPayout } from "../../../lib/rewards/referrals";

const POLICY = parsePolicy(
  fs.readFileSync(path.join(__dirname, "../../../config/rewards-policy.json"), "utf8"),
  "rewards-policy.json",
);
const DIMO = 10n ** 18n;
const REWARD = 50n * DIMO;
const addr = (n: number) => getAddress(`0x${n.toString(16).padStart(40, "0")}`);
const [ALICE, BOB, CAROL, DAVE, ERIN] = [0xa11ce, 0xb0b, 0xca401, 0xda7e, 0xe41a].map(addr);

const payout = (vehicleId: string, dueWeek: number): ReferralPayout => ({
  vehicleId,
  referrer: BOB,
  driver: ALICE,
  amountPerSideWei: REWARD,
  dueWeek,
});

describe("lib/rewards/referrals", function () {
  describe("recordReferral", function () {
    const args = { vehicleId: "1", referrer: BOB, owner: ALICE, bestStreakBefore: 0, week: 2 };

    it("records the first code of a vehicle", function () {
      expect(recordReferral(undefined, args, 4)).to.deep.equal({
        referral: { referrer: BOB, status: "recorded", week: 2 },
      });
    });

    it("rejects a self-referral (any address case) with its reason", function () {
      const r = recordReferral(undefined, { ...args, referrer: ALICE.toLowerCase() }, 4);
      expect(r.referral.status).to.equal("rejected");
      expect(r.rejected).to.deep.equal({
        vehicleId: "1",
        referrer: ALICE.toLowerCase(),
        owner: ALICE,
        reason: "self-referral",
      });
    });

    it("rejects a code for a vehicle that already reached the required streak", function () {
      expect(recordReferral(undefined, { ...args, bestStreakBefore: 4 }, 4).rejected?.reason).to.equal(
        "already-qualified",
      );
    });

    it("keeps a vehicle's first referral: later codes change nothing", function () {
      const first = { referrer: BOB, status: "recorded" as const, week: 0 };
      expect(recordReferral(first, { ...args, referrer: CAROL }, 4)).to.deep.equal({ referral: first });
      const rejected = { referrer: ALICE, status: "rejected" as const, week: 0, reason: "self-referral" as const };
      expect(recordReferral(rejected, { ...args, referrer: CAROL }, 4)).to.deep.equal({ referral: rejected });
    });
  });

  describe("payReferrals", function () {
    const base = { budgetSource: "budget", paidTotalBeforeWei: 0n };

    it("pays oldest first and stops at the first payout the budget cannot cover", function () {
      const r = payReferrals({
        ...base,
        pending: [payout("9", 1), payout("3", 2)],
        due: [payout("5", 4), payout("2", 4)],
        budgetWei: 3n * 2n * REWARD + REWARD, // three pairs and a half
      });
      expect(r.paid.map((p) => p.vehicleId)).to.deep.equal(["9", "3", "2"]);
      expect(r.pending.map((p) => p.vehicleId)).to.deep.equal(["5"]);
      expect(r.paidThisWeekWei).to.equal(6n * REWARD);
      expect(r.paidTotalWei).to.equal(6n * REWARD);
    });

    it("keeps everything pending when nothing is left of the budget", function () {
      const r = payReferrals({
        ...base,
        pending: [payout("1", 0)],
        due: [],
        budgetWei: 2n * REWARD,
        paidTotalBeforeWei: 2n * REWARD,
      });
      expect(r.paid).to.deep.equal([]);
      expect(r.pending).to.have.length(1);
    });

    it("refuses a budget below what was already paid", function () {
      expect(() => payReferrals({ ...base, pending: [], due: [], budgetWei: 1n, paidTotalBeforeWei: 2n })).to.throw(
        InputError,
        "budget referralBudgetWei: the referral budget 1 is below the 2 wei already paid",
      );
    });
  });

  describe("through the weekly pipeline", function () {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "referrals-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    type Week = { snapshot: SnapshotVehicle[]; activity: Omit<ActivityRow, "line">[]; budget?: bigint };
    const car = (id: number, owner: string): SnapshotVehicle => ({
      vehicleId: id,
      owner,
      powertrain: "ICE",
      pairedDevice: id,
      connectionKinds: [],
    });
    const row = (id: number, active = true, referralCode: string | null = null): Omit<ActivityRow, "line"> => ({
      vehicleId: String(id),
      active,
      kmMeters: 0,
      dataTypes: [],
      referralCode,
    });

    /** Runs the weeks through files (each week reads the previous one back); returns every week's file. */
    async function run(weeks: Week[]): Promise<Distribution[]> {
      const out: Distribution[] = [];
      let previous: Distribution | null = null;
      for (let w = 0; w < weeks.length; w++) {
        const { distribution, tree } = await computeWeek({
          chainId: 31337,
          network: "hardhat",
          week: w,
          policy: POLICY,
          snapshot: weeks[w].snapshot,
          activity: weeks[w].activity.map((r, i) => ({ ...r, line: i + 2 })),
          previous,
          referralBudgetWei: weeks[w].budget ?? 1000n * DIMO,
        });
        const { jsonPath } = writeDistribution(dir, distribution, tree);
        previous = readDistribution(jsonPath);
        out.push(previous);
      }
      return out;
    }
    const referralOf = (d: Distribution, account: string, vehicleId: string) =>
      d.accounts.find((a) => a.account === account)?.vehicles.find((v) => v.vehicleId === vehicleId)?.referral;

    it("pays 50 DIMO to the referrer and to the driver in the week the vehicle first reaches a 4-week streak", async function () {
      const snapshot = [car(1, ALICE)];
      const files = await run([
        { snapshot, activity: [row(1, true, BOB)] },
        { snapshot, activity: [row(1)] },
        { snapshot, activity: [row(1)] },
        { snapshot, activity: [row(1)] }, // streak 4
        { snapshot, activity: [row(1)] }, // streak 5: nothing more
      ]);
      expect(files.slice(0, 3).map((f) => f.referrals.paidThisWeekWei)).to.deep.equal([0n, 0n, 0n]);
      expect(files[0].vehicles[0].referral).to.deep.equal({ referrer: BOB, status: "recorded", week: 0 });
      expect(referralOf(files[3], BOB, "1")).to.deep.equal({ role: "referrer", amountWei: REWARD });
      expect(referralOf(files[3], ALICE, "1")).to.deep.equal({ role: "driver", amountWei: REWARD });
      expect(files[3].referrals.paid).to.deep.equal([
        { vehicleId: "1", referrer: BOB, driver: ALICE, amountPerSideWei: REWARD, dueWeek: 3 },
      ]);
      expect(files[3].vehicles[0].referral?.status).to.equal("paid");
      expect(files[4].referrals.paidThisWeekWei).to.equal(0n);
      expect(files[4].referrals.paidTotalWei).to.equal(2n * REWARD);
      expect(files[4].accounts.find((a) => a.account === BOB)!.cumulativeWei).to.equal(REWARD);
    });

    it("rejects a self-referral and lists it with its reason; the vehicle's one referral is used up", async function () {
      const snapshot = [car(1, ALICE)];
      const files = await run([
        { snapshot, activity: [row(1, true, ALICE)] },
        { snapshot, activity: [row(1, true, BOB)] },
        { snapshot, activity: [row(1)] },
        { snapshot, activity: [row(1)] },
      ]);
      expect(files[0].referrals.rejected).to.deep.equal([
        { vehicleId: "1", referrer: ALICE, owner: ALICE, reason: "self-referral" },
      ]);
      expect(files[1].referrals.rejected).to.deep.equal([]);
      expect(files[3].vehicles[0].referral).to.deep.equal({
        referrer: ALICE,
        status: "rejected",
        week: 0,
        reason: "self-referral",
      });
      expect(files[3].referrals.paidTotalWei).to.equal(0n);
    });

    it("records a vehicle's referral once: a later, different code is ignored", async function () {
      const snapshot = [car(1, ALICE)];
      const files = await run([
        { snapshot, activity: [row(1, true, BOB)] },
        { snapshot, activity: [row(1, true, CAROL)] },
        { snapshot, activity: [row(1, true, CAROL)] },
        { snapshot, activity: [row(1, true, CAROL)] },
      ]);
      expect(files[3].referrals.paid.map((p) => p.referrer)).to.deep.equal([BOB]);
      expect(files[3].accounts.map((a) => a.account)).not.to.include(CAROL);
    });

    it("pays when the streak first reaches 4 even after a drop; never twice", async function () {
      const snapshot = [car(1, ALICE)];
      const weeks: Week[] = [{ snapshot, activity: [row(1, true, BOB)] }];
      for (let i = 0; i < 2; i++) weeks.push({ snapshot, activity: [row(1)] }); // streak 3
      for (let i = 0; i < 3; i++) weeks.push({ snapshot, activity: [] }); // dropped to 0
      for (let i = 0; i < 4; i++) weeks.push({ snapshot, activity: [row(1)] }); // streak 4 in week 9
      for (let i = 0; i < 3; i++) weeks.push({ snapshot, activity: [] }); // dropped to 0
      for (let i = 0; i < 4; i++) weeks.push({ snapshot, activity: [row(1)] }); // streak 4 again in week 16
      const files = await run(weeks);
      expect(files[5].vehicles[0]).to.deep.include({ streak: 0, best: 3 });
      const paidWeeks = files.filter((f) => f.referrals.paidThisWeekWei > 0n).map((f) => f.week);
      expect(paidWeeks).to.deep.equal([9]);
      expect(files[16].vehicles[0]).to.deep.include({ streak: 4 });
    });

    it("rejects a code for a vehicle that already had a 4-week streak", async function () {
      const snapshot = [car(1, ALICE)];
      const weeks: Week[] = Array.from({ length: 4 }, () => ({ snapshot, activity: [row(1)] }));
      weeks.push({ snapshot, activity: [row(1, true, BOB)] });
      const files = await run(weeks);
      expect(files[4].referrals.rejected).to.deep.equal([
        { vehicleId: "1", referrer: BOB, owner: ALICE, reason: "already-qualified" },
      ]);
    });

    it("keeps payouts pending while the budget is short and pays them oldest first once funded", async function () {
      const snapshot = [car(1, ALICE), car(2, CAROL), car(3, ERIN)];
      const weeks: Week[] = [
        { snapshot, activity: [row(1, true, BOB), row(2, true, DAVE)], budget: 2n * REWARD },
        { snapshot, activity: [row(1), row(2), row(3, true, BOB)], budget: 2n * REWARD },
        { snapshot, activity: [row(1), row(2), row(3)], budget: 2n * REWARD },
        { snapshot, activity: [row(1), row(2), row(3)], budget: 2n * REWARD }, // 1 and 2 due: one pair of budget
        { snapshot, activity: [row(1), row(2), row(3)], budget: 2n * REWARD }, // 3 due, nothing left
        { snapshot, activity: [row(1), row(2), row(3)], budget: 4n * REWARD }, // one more pair: vehicle 2 (oldest)
        { snapshot, activity: [row(1), row(2), row(3)], budget: 10n * REWARD }, // vehicle 3
      ];
      const files = await run(weeks);
      const paid = (w: number) => files[w].referrals.paid.map((p) => p.vehicleId);
      const pending = (w: number) => files[w].referrals.pending.map((p) => p.vehicleId);
      expect([paid(3), pending(3)]).to.deep.equal([["1"], ["2"]]);
      expect([paid(4), pending(4)]).to.deep.equal([[], ["2", "3"]]);
      expect(files[4].vehicles.map((v) => v.referral?.status)).to.deep.equal(["paid", "pending", "pending"]);
      expect([paid(5), pending(5)]).to.deep.equal([["2"], ["3"]]);
      expect(files[5].referrals.paid[0]).to.deep.include({ driver: CAROL, referrer: DAVE, dueWeek: 3 });
      expect([paid(6), pending(6)]).to.deep.equal([["3"], []]);
      expect(files[6].referrals.paidTotalWei).to.equal(6n * REWARD);
      // referral payouts come from the budget, never from issuance
      for (const f of files) {
        expect(f.totals.weekWei).to.equal(
          f.pools.core.paidWei + f.pools.green.paidWei + f.referrals.paidThisWeekWei + f.credits.totalWei,
        );
      }
    });

    it("refuses a budget below what earlier weeks paid", async function () {
      const snapshot = [car(1, ALICE)];
      const weeks: Week[] = [{ snapshot, activity: [row(1, true, BOB)] }];
      for (let i = 0; i < 3; i++) weeks.push({ snapshot, activity: [row(1)] });
      weeks.push({ snapshot, activity: [row(1)], budget: REWARD });
      let error: unknown;
      await run(weeks).catch((e) => (error = e));
      expect(error).to.be.instanceOf(InputError);
      expect((error as InputError).field).to.equal("referralBudgetWei");
    });
  });
});
