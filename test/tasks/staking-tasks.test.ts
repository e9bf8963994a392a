import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";
import { isoOf } from "../../lib/registry-args";
import { mintVehicle, permissionsOf, vehicleInfo, vinCommitment } from "../registry/fixtures";
import { expectTaskFails, runHardhatCli, runTask as run, useTaskDeployment } from "../helpers/tasks";
import type { ConsumerStaking, DataAccess, DimoToken, VehicleRegistry } from "../../typechain-types";

const DIMO = (n: number | string) => ethers.parseEther(String(n));
const DAY = 86_400;
/** config/deploy/hardhat.json: requiredStake(n) = 10,000 + 10·n DIMO, 14-day unbonding, 21-day freeze. */
const UNBONDING = 14 * DAY;
const FREEZE = 21 * DAY;

/** Fails with a one-line plugin error matching `pattern`, mining nothing; `from`'s nonce, if given, does not move. */
const fails = (name: string, args: Record<string, unknown>, pattern: RegExp, from?: string) =>
  expectTaskFails(name, args, pattern, { oneLinePluginError: true, nonces: from === undefined ? [] : [from] });

describe("staking tasks", function () {
  const deployment = useTaskDeployment("dimo-staking-tasks-");
  let signers: HardhatEthersSigner[];
  let guardian: HardhatEthersSigner;
  let consumer: HardhatEthersSigner;
  let driver: HardhatEthersSigner;
  let token: DimoToken;
  let staking: ConsumerStaking;
  let vehicles: VehicleRegistry;
  let access: DataAccess;
  let stakingAddress: string;
  let vehicleIds: bigint[];

  /** The driver grants the consumer a year's access to the first `n` vehicles. */
  async function grant(n: number): Promise<void> {
    const expiresAt = BigInt((await time.latest()) + 365 * DAY);
    // The consumer accepts the driver's grants on chain (its acceptance rule; offers: registry-tasks.test.ts).
    if (!(await access.acceptsOwner(consumer.address, driver.address))) {
      await access.connect(consumer).setOwnerAcceptance(driver.address, true);
    }
    for (const id of vehicleIds.slice(0, n)) {
      await access.connect(driver).grant(id, consumer.address, permissionsOf(0, 1), expiresAt);
    }
  }

  async function stake(amount: bigint): Promise<void> {
    await token.connect(consumer).approve(stakingAddress, amount);
    await staking.connect(consumer).stake(amount);
  }

  before(async function () {
    const { record } = deployment;
    signers = await ethers.getSigners();
    [, guardian] = signers;
    consumer = signers[8];
    driver = signers[11];
    token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    staking = await ethers.getContractAt("ConsumerStaking", record.contracts.ConsumerStaking.address);
    vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    access = await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
    stakingAddress = record.contracts.ConsumerStaking.address;
    await token.connect(signers[2]).transfer(consumer.address, DIMO(100_000));
    vehicleIds = [];
    for (let i = 0; i < 4; i++) {
      vehicleIds.push(
        await mintVehicle(vehicles, driver, { ...vehicleInfo(), vinCommitment: vinCommitment(`STAKING-TASK-${i}`) }),
      );
    }
  });

  describe("staking:stake", function () {
    it("approves then stakes, printing each transaction's hash and gas", async function () {
      const { result, out } = await run("staking:stake", { amount: "12000", from: "8" });
      expect(result.txHashes).to.have.length(2);
      expect(out).to.match(/approve: tx 0x[0-9a-f]{64} \(block \d+, gas \d+, from/);
      expect(out).to.match(/stake: tx 0x[0-9a-f]{64} \(block \d+, gas \d+, from/);
      expect(out).to.include("covering 200 vehicles");
      expect((await staking.position(consumer.address)).staked).to.equal(DIMO(12_000));
      expect(result.staked).to.equal(DIMO(12_000));
    });

    it("stakes in one stakeWithPermit transaction with a permit signed locally", async function () {
      const nonce = await ethers.provider.getTransactionCount(consumer.address);
      const { result, out } = await run("staking:stake", { amount: "0.5", from: consumer.address, permit: true });
      expect(result.txHashes).to.have.length(1);
      expect(out).to.match(/stakeWithPermit: tx 0x/);
      expect(await ethers.provider.getTransactionCount(consumer.address)).to.equal(nonce + 1);
      expect((await staking.position(consumer.address)).staked).to.equal(DIMO("0.5"));
      expect(await token.allowance(consumer.address, stakingAddress)).to.equal(0n);
      expect(await token.nonces(consumer.address)).to.equal(1n);
    });

    it("skips the approval when the allowance already covers the amount", async function () {
      await token.connect(consumer).approve(stakingAddress, DIMO(20_000));
      const { result } = await run("staking:stake", { amount: "12000", from: "8" });
      expect(result.txHashes).to.have.length(1);
      expect((await staking.position(consumer.address)).staked).to.equal(DIMO(12_000));
    });

    it("--dry-run checks and prints but sends nothing", async function () {
      const nonce = await ethers.provider.getTransactionCount(consumer.address);
      const { result, out } = await run("staking:stake", { amount: "12000", from: "8", dryRun: true });
      expect(result.dryRun).to.equal(true);
      expect(out).to.include("Dry run: would send approve + stake. Nothing was sent.");
      expect(await ethers.provider.getTransactionCount(consumer.address)).to.equal(nonce);
    });

    it("refuses a bad, zero or unaffordable amount, naming --amount", async function () {
      await fails("staking:stake", { amount: "12,000", from: "8" }, /^staking:stake --amount: expected a non-negative/);
      await fails("staking:stake", { amount: "0", from: "8" }, /^staking:stake --amount: must be more than 0$/);
      await fails(
        "staking:stake",
        { amount: "100001", from: "8" },
        /^staking:stake --amount: 100,001 DIMO is more than account 8 \(0x[0-9a-fA-F]{40}\) holds \(100,000 DIMO\)$/,
        consumer.address,
      );
    });

    it("refuses a bad or unknown --from", async function () {
      await fails("staking:stake", { amount: "1", from: "0x1234" }, /^staking:stake --from: expected a 0x address/);
      await fails("staking:stake", { amount: "1", from: "99" }, /^staking:stake --from: account 99 does not exist/);
      await fails(
        "staking:stake",
        { amount: "1", from: "0x000000000000000000000000000000000000dEaD" },
        /--from: 0x000000000000000000000000000000000000dEaD is not a local account/,
      );
    });

    it("on the command line, a bad amount prints one error line and exits 1", function () {
      this.timeout(120_000);
      const cli = runHardhatCli(["staking:stake", "--amount", "0"], deployment.dir);
      expect(cli.status).to.equal(1);
      expect(cli.stderr).to.contain("Error in plugin dimo-staking: staking:stake --amount: must be more than 0");
    });

    it("names the missing deployment record and the deploy command; without --network, says a node is needed", async function () {
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-no-record-"));
      process.env[DEPLOYMENTS_DIR_ENV] = empty;
      const saved = hre.network.name;
      try {
        await fails(
          "staking:stake",
          { amount: "1", from: "8" },
          /^tasks need a running network: start one with `npx hardhat node --hostname 127\.0\.0\.1`/,
        );
        // A network that outlives the command (its name is all the record lookup uses).
        Object.defineProperty(hre.network, "name", { value: "localhost", configurable: true });
        await fails(
          "staking:stake",
          { amount: "1", from: "8" },
          /^no .*localhost\.json: run `npx hardhat deploy --network localhost` first$/,
        );
      } finally {
        Object.defineProperty(hre.network, "name", { value: saved, configurable: true });
        process.env[DEPLOYMENTS_DIR_ENV] = deployment.dir;
        fs.rmSync(empty, { recursive: true, force: true });
      }
    });
  });

  describe("staking:unstake", function () {
    beforeEach(async function () {
      await stake(DIMO(12_000));
      await grant(3);
    });

    it("refuses before sending when what remains would not cover the current grants", async function () {
      await fails(
        "staking:unstake",
        { amount: "2000", from: "8" },
        /^staking:unstake --amount: what would remain \(10,000 DIMO\) does not cover the current grants: 3 vehicles require 10,030 DIMO; at most 1,970 DIMO can be unstaked now \(or have grants revoked first\) \(expired or stale grants count until pruned: access:prune --consumer 0x[0-9a-fA-F]{40}\)$/,
        consumer.address,
      );
    });

    it("moves what the grants leave into unbonding until now + the unbonding period", async function () {
      const { result, out } = await run("staking:unstake", { amount: "1970", from: "8" });
      const mined = (await ethers.provider.getBlock("latest"))!.timestamp;
      expect(result.releaseAt).to.equal(BigInt(mined + UNBONDING));
      const p = await staking.position(consumer.address);
      expect([p.staked, p.unbonding, p.releaseAt]).to.deep.equal([
        DIMO(10_030),
        DIMO(1_970),
        BigInt(mined + UNBONDING),
      ]);
      expect(out).to.match(/requestUnstake: tx 0x[0-9a-f]{64} .*gas \d+/);
      expect(out).to.include(`1,970 DIMO unbonding until ${isoOf(mined + UNBONDING)}`);
    });

    it("warns that what already unbonds is released with the new request", async function () {
      await run("staking:unstake", { amount: "970", from: "8" });
      const { out } = await run("staking:unstake", { amount: "1000", from: "8" });
      expect(out).to.match(/note: the 970 DIMO already unbonding \(until .*\) will be released with it/);
      expect((await staking.position(consumer.address)).unbonding).to.equal(DIMO(1_970));
    });

    it("refuses more than the active stake", async function () {
      await fails(
        "staking:unstake",
        { amount: "12001", from: "8" },
        /^staking:unstake --amount: only 12,000 DIMO is staked \(0 DIMO already unbonding\)$/,
        consumer.address,
      );
    });
  });

  describe("staking:withdraw", function () {
    it("refuses when nothing is unbonding", async function () {
      await stake(DIMO(12_000));
      await fails("staking:withdraw", { from: "8" }, /^staking:withdraw: account 8 .*: nothing is unbonding/);
    });

    it("refuses before releaseAt: unbonding until <ISO time>", async function () {
      await stake(DIMO(12_000));
      await staking.connect(consumer).requestUnstake(DIMO(2_000));
      const { releaseAt } = await staking.position(consumer.address);
      await time.increaseTo(releaseAt - 1n);
      await fails(
        "staking:withdraw",
        { from: "8" },
        new RegExp(`: 2,000 DIMO is unbonding until ${isoOf(releaseAt)}$`),
        consumer.address,
      );
    });

    it("refuses while frozen: frozen until <ISO time>", async function () {
      await stake(DIMO(12_000));
      await staking.connect(consumer).requestUnstake(DIMO(2_000));
      await staking.connect(guardian).freeze(consumer.address);
      const { releaseAt, frozenUntil } = await staking.position(consumer.address);
      expect(frozenUntil - releaseAt).to.equal(BigInt(FREEZE - UNBONDING) + 1n);
      await time.increaseTo(releaseAt);
      await fails(
        "staking:withdraw",
        { from: "8" },
        new RegExp(`: the stake is frozen until ${isoOf(frozenUntil)}$`),
        consumer.address,
      );
    });

    it("withdraws once the period has ended and the freeze is over", async function () {
      await stake(DIMO(12_000));
      await staking.connect(consumer).requestUnstake(DIMO(2_000));
      await staking.connect(guardian).freeze(consumer.address);
      await time.increaseTo((await staking.position(consumer.address)).frozenUntil);
      const dry = await run("staking:withdraw", { from: "8", dryRun: true });
      expect(dry.result).to.deep.equal({ dryRun: true, amount: DIMO(2_000) });
      const before = await token.balanceOf(consumer.address);
      const { result, out } = await run("staking:withdraw", { from: "8" });
      expect(result.amount).to.equal(DIMO(2_000));
      expect(out).to.match(/withdraw: tx 0x[0-9a-f]{64}/);
      expect(await token.balanceOf(consumer.address)).to.equal(before + DIMO(2_000));
      expect((await staking.position(consumer.address)).unbonding).to.equal(0n);
    });
  });

  describe("staking:status", function () {
    it("shows the position, what its grants require, the totals, parameters and governance cycle", async function () {
      await stake(DIMO(10_035));
      await grant(3);
      await staking.connect(consumer).requestUnstake(DIMO(5));
      const { releaseAt } = await staking.position(consumer.address);
      const { result, out } = await run("staking:status", { consumer: "8" });
      expect(result.position).to.deep.include({
        staked: DIMO(10_030),
        unbonding: DIMO(5),
        releaseAt,
        frozenUntil: 0n,
        frozenAt: 0n,
        vehiclesAccessed: 3n,
      });
      expect(result.requiredStake).to.equal(DIMO(10_030));
      expect(result.requiredStakeOneMore).to.equal(DIMO(10_040));
      expect(result.coversOneMore).to.equal(false);
      expect(result.coversGrants).to.equal(true);
      expect(result.totals).to.deep.equal({ staked: DIMO(10_030), unbonding: DIMO(5) });
      expect(result.governanceCycle.total).to.equal(BigInt(10 * DAY));
      for (const line of [
        /staked\s+10,030 DIMO/,
        /unbonding\s+5 DIMO/,
        new RegExp(`releaseAt\\s+${isoOf(releaseAt)}`),
        /vehicles accessed\s+3/,
        /required for 3\s+10,030 DIMO/,
        /covers its grants\s+yes/,
        /required for 4\s+10,040 DIMO/,
        /covers one more\s+no \(short by 10 DIMO\)/,
        /total staked\s+10,030 DIMO/,
        /required stake\s+10,000 DIMO \+ 10 DIMO per vehicle/,
        /unbonding period\s+14 d configured, 14 d for a request now/,
        /guardian freeze\s+21 d/,
        /governance cycle\s+10 d \(voting delay 1 d \+ voting period 7 d \+ timelock 2 d\)/,
      ]) {
        expect(out).to.match(line);
      }
    });

    it("shows a frozen consumer given by address", async function () {
      await stake(DIMO(12_000));
      await staking.connect(guardian).freeze(consumer.address);
      const { frozenUntil } = await staking.position(consumer.address);
      const { result, out } = await run("staking:status", { consumer: consumer.address });
      expect(result.coversOneMore).to.equal(false);
      expect(out).to.match(new RegExp(`frozenUntil\\s+${isoOf(frozenUntil)} \\(frozen\\)`));
      expect(out).to.match(/covers one more\s+no \(frozen\)/);
      expect(out).to.match(/guardian freeze spent\s+yes/);
      expect(out).to.match(/required for 0\s+nothing \(no grants\)/);
    });

    it("refuses a bad --consumer", async function () {
      await fails("staking:status", { consumer: "0xZZ" }, /^staking:status --consumer: expected a 0x address/);
    });
  });
});
