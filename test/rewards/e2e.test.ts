import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { deploySuite } from "../../scripts/deploy-suite";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";
import { readDistribution, type WeekAmounts, withTree, writeDistribution } from "../../lib/rewards/distribution";
import { buildTree } from "../../lib/rewards/merkle";
import type { DimoToken, IssuanceVault, RewardDistributor, VehicleRegistry } from "../../typechain-types";
import { rejects } from "../helpers/rejects";
import { runQuietly as run } from "../helpers/tasks";

const WEEK = 604_800;
const DAY = 86_400;

/** Runs a task in process with its printing silenced. */
describe("weekly rewards end to end (three weeks)", function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-rewards-e2e-"));
  const saved = process.env[DEPLOYMENTS_DIR_ENV];
  let snapshotId: string;
  let token: DimoToken;
  let vault: IssuanceVault;
  let distributor: RewardDistributor;
  let vehicles: VehicleRegistry;
  let genesis: number;
  let weekly: string; // claims every week
  let once: string; // claims once at the end
  let never: string; // never claims
  const files: string[] = [];

  before(async function () {
    snapshotId = await ethers.provider.send("evm_snapshot", []);
    process.env[DEPLOYMENTS_DIR_ENV] = dir;
    const { record } = await deploySuite(hre, {
      recordPath: path.join(dir, "hardhat.json"),
      reset: true,
      log: () => undefined,
    });
    token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    vault = await ethers.getContractAt("IssuanceVault", record.contracts.IssuanceVault.address);
    distributor = await ethers.getContractAt("RewardDistributor", record.contracts.RewardDistributor.address);
    vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    genesis = record.genesis;
    const signers = await ethers.getSigners();
    [weekly, once, never] = [signers[10].address, signers[11].address, signers[12].address];
    const fleet: [number, string, number][] = [
      [10, "Model 3", 3], // BEV
      [10, "Golf", 0], // ICE
      [11, "Outlander", 2], // PHEV
      [11, "Prius", 1], // HEV
      [12, "Leaf", 3], // BEV
    ];
    for (const [i, [who, model, powertrain]] of fleet.entries()) {
      await vehicles.connect(signers[who]).mintVehicle({
        make: "Make",
        model,
        year: 2022,
        powertrain,
        vinCommitment: ethers.id(`e2e-vin-${i}`),
      });
    }
    // Vehicle 5 gets a hardware device (key: local account 13), vehicle 3 a software connection.
    await run("device:mint", { key: signers[13].address, serial: "AP-1", hwRevision: "7", to: "12" });
    await run("device:pair", { vehicle: "5", device: "1", ownerAccount: "12", deviceAccount: "13" });
    await run("connection:attest", { vehicle: "3", ownerAccount: "11" });
    // Only connected vehicles earn (docs/rewards-spec.md, "Eligibility"): vehicles 1, 2 and 4 get software ones.
    await run("connection:attest", { vehicle: "1", ownerAccount: "10" });
    await run("connection:attest", { vehicle: "2", ownerAccount: "10" });
    await run("connection:attest", { vehicle: "4", ownerAccount: "11" });
  });

  after(async function () {
    await ethers.provider.send("evm_revert", [snapshotId]);
    if (saved === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = saved;
  });

  const ACTIVITY = [
    // week 0: everyone active; vehicle 5 was referred by the weekly driver
    [
      "1,true,20,location;odometer,",
      "2,true,5,location,",
      "3,true,40,fuel_level,",
      "4,true,12,,",
      `5,true,30,location;dtc,WEEKLY`,
    ],
    // week 1: vehicle 2 stays home
    ["1,true,18,location;odometer,", "2,false,0,,", "3,true,8,fuel_level,", "4,true,50,,", "5,true,16,location;dtc,"],
    // week 2
    [
      "1,true,25,location;odometer;tire_pressure,",
      "2,true,3,location,",
      "3,true,16,fuel_level,",
      "4,true,9,,",
      "5,false,0,,",
    ],
  ];

  async function computeWeek(week: number): Promise<string> {
    await time.increaseTo(genesis + (week + 1) * WEEK + 60);
    const snapshot = path.join(dir, `vehicles-${week}.csv`);
    await run("registry:snapshot", { out: snapshot });
    const activity = path.join(dir, `activity-${week}.csv`);
    const rows = ACTIVITY[week].map((r) => r.replace("WEEKLY", weekly));
    fs.writeFileSync(activity, ["vehicle_id,active,km_driven,data_types,referral_code", ...rows].join("\n") + "\n");
    const out = path.join(dir, "distributions", `week-${week}.json`);
    const previous = week === 0 ? undefined : files[week - 1];
    await run("rewards:compute", { week: String(week), activity, snapshot, previous, out });
    await run("rewards:verify", { file: out, activity, snapshot, previous });
    files.push(out);
    return out;
  }

  async function publishAndActivate(week: number, file: string, layer?: string): Promise<void> {
    await run("rewards:publish", { week: String(week), file, yes: true, ...(layer ? { layer } : {}) });
    await rejects(run("rewards:claim", { file, account: weekly }), /still in its challenge window/);
    await time.increase(DAY);
    await run("rewards:activate", {});
  }

  it("computes, verifies, publishes and activates three weeks; drivers claim weekly or once", async function () {
    for (let week = 0; week < 3; week++) {
      const file = await computeWeek(week);
      // A dry run sends nothing.
      await run("rewards:publish", { week: String(week), file, yes: false });
      expect(await distributor.nextWeek()).to.equal(week);
      // Week 0 by the default (auto: no claims yet, so no layer), week 1 with the layer, week 2 without.
      await publishAndActivate(week, file, [undefined, "always", "never"][week]);
      const [store] = await distributor.cachedLayerStores(readDistribution(file).root);
      expect((await ethers.provider.getCode(store)) !== "0x").to.equal(week === 1);
      await rejects(run("rewards:publish", { week: String(week), file, yes: true }), /already published/);
      const d = readDistribution(file);
      const entry = d.accounts.find((a) => a.account === weekly)!;
      const before = await token.balanceOf(weekly);
      await run("rewards:claim", { file, account: weekly, from: 5 });
      expect((await token.balanceOf(weekly)) - before).to.equal(entry.weekWei);
      expect(await token.balanceOf(weekly)).to.equal(entry.cumulativeWei);
    }
    const last = readDistribution(files[2]);
    const onceEntry = last.accounts.find((a) => a.account === once)!;
    const perWeek = files.map((f) => readDistribution(f).accounts.find((a) => a.account === once)?.weekWei ?? 0n);
    await run("rewards:claim", { file: files[2], account: once });
    expect(await token.balanceOf(once)).to.equal(onceEntry.cumulativeWei);
    expect(onceEntry.cumulativeWei).to.equal(perWeek[0] + perWeek[1] + perWeek[2]);
    expect(perWeek.every((w) => w > 0n)).to.equal(true);
    // Claiming again pays nothing.
    expect(await run("rewards:claim", { file: files[2], account: once })).to.equal(0n);
  });

  it("reconciles issuance released, claimed, unclaimed and carried remainders to the wei", async function () {
    const issued = await vault.amountOfWeeks(0, 3);
    expect(await distributor.totalFunded()).to.equal(issued);
    expect(await vault.totalReleased()).to.equal(issued);
    const weeks = files.map((f) => readDistribution(f));
    let carriedIn = 0n;
    for (const d of weeks) {
      const { core, green } = d.pools;
      // Each week: what the pools paid plus what they carry out equals the week's issuance plus what came in.
      expect(core.paidWei + green.paidWei + core.carryOutWei + green.carryOutWei).to.equal(
        d.issuance.weekWei + carriedIn,
      );
      carriedIn = core.carryOutWei + green.carryOutWei;
    }
    const last = weeks[2];
    expect(last.cumulativeTotalWei + carriedIn).to.equal(issued); // no referral payouts or credits yet
    const claimed = (await token.balanceOf(weekly)) + (await token.balanceOf(once)) + (await token.balanceOf(never));
    expect(await token.balanceOf(distributor)).to.equal(issued - claimed);
    const unclaimed = last.accounts.reduce((s, a) => s + a.cumulativeWei, 0n) - claimed;
    expect(unclaimed).to.equal(last.accounts.find((a) => a.account === never)!.cumulativeWei);
    expect(await token.balanceOf(distributor)).to.equal(unclaimed + carriedIn);
    const status = (await run("rewards:status", {})) as { claimed: bigint; funded: bigint; balance: bigint };
    expect(status.claimed).to.equal(claimed);
    expect(status.funded - status.claimed).to.equal(status.balance);
  });

  /** The inputs of week `week` as rewards:verify takes them. */
  function inputsOf(week: number): Record<string, string | undefined> {
    return {
      activity: path.join(dir, `activity-${week}.csv`),
      snapshot: path.join(dir, `vehicles-${week}.csv`),
      previous: week === 0 ? undefined : files[week - 1],
    };
  }

  /** Runs rewards:verify expecting it to fail; returns the error message and every printed line. */
  async function verifyFails(args: Record<string, unknown>): Promise<{ message: string; out: string }> {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
    try {
      await hre.run("rewards:verify", args);
    } catch (e) {
      return { message: (e as Error).message, out: lines.join("\n") };
    } finally {
      console.log = log;
    }
    throw new Error("rewards:verify should have failed");
  }

  /** A copy of week `week`'s file (and tree) in its own folder, its text passed through `edit`. */
  function tamperedCopy(week: number, name: string, edit: (text: string) => string): string {
    const file = path.join(dir, name, `week-${week}.json`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.copyFileSync(files[week].replace(/\.json$/, ".tree"), file.replace(/\.json$/, ".tree"));
    fs.writeFileSync(file, edit(fs.readFileSync(files[week], "utf8")));
    return file;
  }

  it("verifies every honest week from its inputs and the chain", async function () {
    for (let week = 0; week < 3; week++) {
      expect(await run("rewards:verify", { file: files[week], ...inputsOf(week) })).to.equal(true);
    }
  });

  it("records in each week's file the registry snapshot's block: the last block before the week's end", async function () {
    for (let week = 0; week < 3; week++) {
      const block = JSON.parse(fs.readFileSync(files[week], "utf8")).snapshotBlock;
      expect(block, `week ${week}`).to.be.a("number");
      const end = await vault.weekStart(week + 1);
      expect(BigInt((await ethers.provider.getBlock(block))!.timestamp)).to.be.lessThan(end);
      expect(BigInt((await ethers.provider.getBlock(block + 1))!.timestamp)).to.be.at.least(end);
    }
  });

  it("never overwrites a week whose root is on chain", async function () {
    const before = fs.readFileSync(files[1]);
    await rejects(
      run("rewards:compute", { week: "1", ...inputsOf(1), out: files[1] }),
      /week-1\.json holds week 1's root 0x[0-9a-f]{64}, which is published on chain: a published week is never overwritten/,
    );
    expect(fs.readFileSync(files[1]).equals(before)).to.equal(true);
  });

  it("refuses to compute a week whose issuance is not the vault's (the policy's pool doubled)", async function () {
    const policy = JSON.parse(fs.readFileSync("config/rewards-policy.json", "utf8"));
    policy.issuance.pool = "900000000";
    const doubled = path.join(dir, "policy-doubled.json");
    fs.writeFileSync(doubled, JSON.stringify(policy));
    const out = path.join(dir, "doubled", "week-2.json");
    await rejects(
      run("rewards:compute", { week: "2", ...inputsOf(2), policy: doubled, out }),
      /--policy: week 2's issuance would be \d+ wei but the vault releases \d+ wei for it/,
    );
    expect(fs.existsSync(out)).to.equal(false);
  });

  it("reads earlier weeks' credits beside the file, not in the network's default folder", async function () {
    // A default folder holding a week that paid "slash:1" (another run's) must not affect a file elsewhere.
    const defaultDir = path.join(hre.config.paths.root, "distributions", hre.network.name);
    const stray = path.join(defaultDir, "week-0.json");
    const existed = fs.existsSync(stray);
    const madeDir = !fs.existsSync(path.join(hre.config.paths.root, "distributions"));
    const credits = path.join(dir, "credits-2.csv");
    fs.writeFileSync(credits, `account,amount_wei,reason\n${never},1000,slash:1\n`);
    const out = path.join(dir, "credited", "week-2.json");
    await run("rewards:compute", { week: "2", ...inputsOf(2), credits, out });
    if (!existed) {
      fs.mkdirSync(defaultDir, { recursive: true });
      const d = fs.readFileSync(out, "utf8").replace('"week": 2', '"week": 0');
      fs.writeFileSync(stray, d);
    }
    try {
      // Nothing about week 0's stray file: the one difference is that no slash 1 exists on this chain.
      const { message, out: printed } = await verifyFails({ file: out, ...inputsOf(2), credits });
      expect(message).to.match(/: 1 difference\(s\) from what the inputs and the chain give/);
      expect(message + printed).not.to.include("already paid");
      expect(printed).to.include(`${never} credits[slash:1]: expected (absent), found 1000`);
      expect(printed).to.include("no slash 1 on chain: the credit has no on-chain source");
    } finally {
      if (!existed) fs.rmSync(stray);
      if (madeDir) fs.rmSync(path.join(hre.config.paths.root, "distributions"), { recursive: true });
    }
    // A verify mismatch names the input that differs: credits recorded in the file but not given.
    const { message, out: printed } = await verifyFails({ file: out, ...inputsOf(2) });
    expect(message).to.match(/^week-2\.json \S+: \d+ difference\(s\) from what the inputs and the chain give/);
    expect(printed).to.include("the credits given are not the ones the published week was computed from");
    expect(printed).to.match(new RegExp(`${never} credits\\[slash:1\\]: expected \\(absent\\), found 1000`));
  });

  describe("rewards:verify catches each tampering", function () {
    it("carried state edited: a streak raised", async function () {
      const file = tamperedCopy(2, "streak", (t) =>
        t.replace('{"vehicleId":"1","streak":3', '{"vehicleId":"1","streak":9'),
      );
      const { out } = await verifyFails({ file, ...inputsOf(2) });
      expect(out).to.include("vehicle 1 streak: expected 3, found 9");
    });

    it("carried state edited: a fake pending referral payout", async function () {
      const file = tamperedCopy(2, "pending", (t) =>
        t.replace(
          '"pending": []',
          `"pending": [\n      {\n        "vehicleId": "2",\n        "referrer": "${weekly}",\n        "driver": "${weekly}",\n        "amountPerSideWei": "50000000000000000000",\n        "dueWeek": 3\n      }\n    ]`,
        ),
      );
      const { message, out } = await verifyFails({ file, ...inputsOf(2) });
      expect(message + out).to.match(/referrals\.pending/);
    });

    it("a previous file whose accounts no longer hash to its on-chain root", async function () {
      // Edited by hand: its own tree gives it away.
      const entry = readDistribution(files[1]).accounts.find((a) => a.account === never)!;
      const edited = tamperedCopy(1, "prev", (t) =>
        t.replace(`"cumulativeWei":"${entry.cumulativeWei}"`, `"cumulativeWei":"${entry.cumulativeWei + 5n}"`),
      );
      expect((await verifyFails({ file: files[2], ...inputsOf(2), previous: edited })).message).to.match(
        /^week-1\.json /,
      );
      // Rebuilt consistently (amounts moved between accounts, tree rebuilt): only the chain gives it away.
      const rebuilt = await forged(1, "prev-rebuilt", (d) => {
        d.accounts.find((a) => a.account === never)!.cumulativeWei -= 5n;
        d.accounts.find((a) => a.account === once)!.cumulativeWei += 5n;
      });
      const { out } = await verifyFails({ file: files[2], ...inputsOf(2), previous: rebuilt });
      expect(out).to.match(/week-1\.json root: expected a root published on chain, found 0x[0-9a-f]{64}/);
    });

    it("an activity file other than the one hashed", async function () {
      const other = path.join(dir, "activity-2-other.csv");
      fs.writeFileSync(other, fs.readFileSync(inputsOf(2).activity!, "utf8").replace("2,true,3,", "2,true,4,"));
      const { out } = await verifyFails({ file: files[2], ...inputsOf(2), activity: other });
      expect(out).to.include("the activity file given is not the one the published week was computed from");
    });

    it("a snapshot not at the week's end (taken after a vehicle joined)", async function () {
      const id = await ethers.provider.send("evm_snapshot", []);
      try {
        const [signer] = await ethers.getSigners();
        await vehicles.connect(signer).mintVehicle({
          make: "Make",
          model: "Late",
          year: 2022,
          powertrain: 0,
          vinCommitment: ethers.id("e2e-late"),
        });
        const late = path.join(dir, "vehicles-2-late.csv");
        await run("registry:snapshot", { out: late });
        const { out } = await verifyFails({ file: files[2], ...inputsOf(2), snapshot: late });
        expect(out).to.match(
          /vehicles-2-late\.csv \(bytes\): expected the registry at block \d+ \(the last before week 2's end\), found a difference at byte \d+ \(the snapshot is not the registry at the week's end\)/,
        );
      } finally {
        await ethers.provider.send("evm_revert", [id]);
      }
    });

    it("a registry snapshot block other than the week's end recorded, or none", async function () {
      const recorded = JSON.parse(fs.readFileSync(files[2], "utf8")).snapshotBlock as number;
      const later = tamperedCopy(2, "snapshot-block-later", (t) =>
        t.replace(`"snapshotBlock": ${recorded},`, `"snapshotBlock": ${recorded + 1},`),
      );
      expect(fs.readFileSync(later, "utf8")).to.include(`"snapshotBlock": ${recorded + 1},`);
      const { out } = await verifyFails({ file: later, ...inputsOf(2) });
      const hint = "(the file does not record the last block before the week's end as its snapshot block)";
      expect(out).to.include(`header snapshotBlock: expected ${recorded}, found ${recorded + 1} ${hint}`);
      const none = tamperedCopy(2, "snapshot-block-none", (t) => t.replace(`  "snapshotBlock": ${recorded},\n`, ""));
      expect(fs.readFileSync(none, "utf8")).not.to.include("snapshotBlock");
      const { out: printed } = await verifyFails({ file: none, ...inputsOf(2) });
      expect(printed).to.include(`header snapshotBlock: expected ${recorded}, found (absent) ${hint}`);
    });

    it("fabricated credits", async function () {
      const credits = path.join(dir, "credits-fake.csv");
      fs.writeFileSync(credits, `account,amount_wei,reason\n${once},7000,slash:9\n`);
      const { out } = await verifyFails({ file: files[2], ...inputsOf(2), credits });
      expect(out).to.include(`${once} credits[slash:9]: expected 7000, found (absent)`);
    });

    it("an inflated referral budget (in the inputs, or in a file computed with it)", async function () {
      const { out } = await verifyFails({ file: files[2], ...inputsOf(2), referralBudget: "1000" });
      expect(out).to.include("the referral budget given differs from the one used");
      // A week computed with an unfunded budget: it agrees with its inputs, not with the chain's Funded events.
      const inflated = path.join(dir, "inflated", "week-2.json");
      await run("rewards:compute", { week: "2", ...inputsOf(2), referralBudget: "1000", out: inflated });
      const chain = await verifyFails({ file: inflated, ...inputsOf(2), referralBudget: "1000" });
      expect(chain.out).to.include(`header referrals.budgetWei: expected 0 (Funded for "referrals" up to block`);
      expect(chain.out).to.include(`found ${10n ** 21n} (the referral budget is not what was funded on chain)`);
    });

    it("a changed policy", async function () {
      const policy = JSON.parse(fs.readFileSync("config/rewards-policy.json", "utf8"));
      policy.connectionPoints.software = 1001;
      const changed = path.join(dir, "policy-changed.json");
      fs.writeFileSync(changed, JSON.stringify(policy));
      const { out } = await verifyFails({ file: files[2], ...inputsOf(2), policy: changed });
      expect(out).to.include("the policy given differs from the one used");
    });

    /** A self-consistent forgery of week `week`: its amounts edited by `edit`, its tree rebuilt, its header kept. */
    async function forged(week: number, name: string, edit: (d: WeekAmounts) => void): Promise<string> {
      const { root: _root, tree: _tree, cachedLayer: _layer, ...amounts } = readDistribution(files[week]);
      edit(amounts);
      const tree = await buildTree(amounts.accounts);
      return writeDistribution(path.join(dir, name), withTree(amounts, tree), tree).jsonPath;
    }

    it("leaves that sum to more than the declared total", async function () {
      let declared = 0n;
      let sum = 0n;
      const file = await forged(2, "sum", (d) => {
        d.accounts.find((a) => a.account === weekly)!.cumulativeWei += 10n ** 18n;
        declared = d.cumulativeTotalWei;
        sum = d.accounts.reduce((s, a) => s + a.cumulativeWei, 0n);
      });
      const { message } = await verifyFails({ file, ...inputsOf(2) });
      expect(message).to.include(
        `week-2.json cumulativeTotalWei: is ${declared} but the accounts' cumulative amounts sum to ${sum}`,
      );
    });

    it("an account's cumulative amount below the previous root's (the total kept)", async function () {
      const previousOnce = readDistribution(files[1]).accounts.find((a) => a.account === once)!;
      let moved = 0n;
      const file = await forged(2, "fell", (d) => {
        const from = d.accounts.find((a) => a.account === once)!;
        const to = d.accounts.find((a) => a.account === weekly)!;
        moved = from.cumulativeWei - (previousOnce.cumulativeWei - 1n);
        from.cumulativeWei -= moved;
        to.cumulativeWei += moved;
      });
      const { out } = await verifyFails({ file, ...inputsOf(2) });
      expect(out).to.include(
        `${once} cumulativeWei: expected ≥ ${previousOnce.cumulativeWei} (week 1's), found ${previousOnce.cumulativeWei - 1n} (an account's cumulative amount fell below the previous root's)`,
      );
    });
  });

  it("refuses an unknown --layer before reading anything", async function () {
    await rejects(run("rewards:publish", { week: "3", file: files[2], layer: "sometimes", yes: false }), /--layer/);
  });

  it("refuses a tampered file at verify and at publish", async function () {
    const tampered = path.join(dir, "tampered", "week-2.json");
    fs.mkdirSync(path.dirname(tampered), { recursive: true });
    fs.copyFileSync(files[2].replace(/\.json$/, ".tree"), tampered.replace(/\.json$/, ".tree"));
    const text = fs.readFileSync(files[2], "utf8");
    const entry = readDistribution(files[2]).accounts.find((a) => a.account === never)!;
    fs.writeFileSync(tampered, text.replace(`"${entry.cumulativeWei}"`, `"${entry.cumulativeWei + 1n}"`));
    await rejects(run("rewards:publish", { week: "3", file: tampered, yes: false }), /week-2\.json/);
    await rejects(
      run("rewards:verify", {
        file: tampered,
        activity: path.join(dir, "activity-2.csv"),
        snapshot: path.join(dir, "vehicles-2.csv"),
        previous: files[1],
      }),
      /week-2\.json/,
    );
  });
});
