import { expect } from "chai";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { isoOf } from "../../lib/registry-args";
import { WEEK_SECONDS } from "../../lib/issuance";
import { mintVehicle, vehicleInfo, vinCommitment } from "../registry/fixtures";
import { expectTaskFails, runTask as run, useTaskDeployment } from "../helpers/tasks";
import type { ConsumerStaking, DataAccess, DimoGovernor, DimoToken, VehicleRegistry } from "../../typechain-types";

const DIMO = (n: number | string) => ethers.parseEther(String(n));
const DAY = 86_400;

const fails = (name: string, args: Record<string, unknown>, pattern: RegExp) =>
  expectTaskFails(name, args, pattern, { oneLinePluginError: true, nonces: "all" });

/** The tasks of item 6 and 3 of issue 17: chain:advance, token:transfer, staking:freeze, gov:propose-unfreeze,
 * vehicle:transfer, access:prune, and accounts given as a local index or an address. */
describe("user-story tasks", function () {
  const deployment = useTaskDeployment("dimo-story-tasks-");
  let signers: HardhatEthersSigner[];
  let token: DimoToken;
  let staking: ConsumerStaking;
  let governor: DimoGovernor;
  let vehicles: VehicleRegistry;
  let access: DataAccess;
  let genesis: number;
  let consumer: HardhatEthersSigner;
  let driver: HardhatEthersSigner;

  before(async function () {
    const { record } = deployment;
    signers = await ethers.getSigners();
    consumer = signers[8];
    driver = signers[11];
    token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
    staking = await ethers.getContractAt("ConsumerStaking", record.contracts.ConsumerStaking.address);
    governor = await ethers.getContractAt("DimoGovernor", record.contracts.DimoGovernor.address);
    vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
    access = await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
    const vault = await ethers.getContractAt("IssuanceVault", record.contracts.IssuanceVault.address);
    genesis = Number(await vault.genesis());
  });

  describe("chain:advance", function () {
    it("--to-week N moves the clock to the start of week N: weeks 0..N-1 have ended", async function () {
      const { out } = await run("chain:advance", { toWeek: "2" });
      expect(await time.latest()).to.equal(genesis + 2 * WEEK_SECONDS);
      expect(out).to.include(`→ ${isoOf(genesis + 2 * WEEK_SECONDS)} (week 2)`);
      expect(out).to.include("weeks 0-1 have ended");
      expect(out).to.include("weeks ended by the vault's clock: 2");
    });

    it("--by <duration> and --to <ISO time>", async function () {
      const before = await time.latest();
      await run("chain:advance", { by: "3d" });
      expect(await time.latest()).to.equal(before + 3 * DAY);
      const target = before + 10 * DAY;
      await run("chain:advance", { to: isoOf(target) });
      expect(await time.latest()).to.equal(target);
    });

    it("refuses a week already started, none or two targets, and a bad duration", async function () {
      await run("chain:advance", { toWeek: "1" });
      await fails(
        "chain:advance",
        { toWeek: "1" },
        /^chain:advance --to-week: week 1 started at .* time only moves forward$/,
      );
      await fails("chain:advance", {}, /^chain:advance --to-week\|--to\|--by: say where to go/);
      await fails("chain:advance", { by: "1d", toWeek: "3" }, /^chain:advance --to-week --by: give only one of them$/);
      await fails("chain:advance", { by: "1 day" }, /^chain:advance --by: expected a duration <n>\[s\|m\|h\|d\|w\]/);
      await fails("chain:advance", { to: "2020-01-01T00:00:00Z" }, /^chain:advance --to: .* is not in the future/);
    });

    it("is refused on a non-local network", async function () {
      const saved = hre.network.name;
      Object.defineProperty(hre.network, "name", { value: "sepolia", configurable: true });
      try {
        await fails("chain:advance", { by: "1d" }, /^chain:advance: refused on sepolia: only a local node's clock/);
      } finally {
        Object.defineProperty(hre.network, "name", { value: saved, configurable: true });
      }
    });
  });

  describe("token:transfer", function () {
    it("sends DIMO, the recipient given by index or by address", async function () {
      await run("token:transfer", { to: "8", amount: "20000", from: "2" });
      await run("token:transfer", { to: consumer.address, amount: "0.5", from: signers[2].address });
      expect(await token.balanceOf(consumer.address)).to.equal(DIMO("20000.5"));
    });

    it("refuses more than the sender holds, naming both", async function () {
      await fails(
        "token:transfer",
        { to: "8", amount: "1", from: "9" },
        /^token:transfer --amount: 1 DIMO is more than account 9 \(0x[0-9a-fA-F]{40}\) holds \(0 DIMO\)$/,
      );
    });
  });

  describe("staking:freeze and gov:propose-unfreeze", function () {
    it("the guardian (the record's, by default) freezes; only once until the DAO acts", async function () {
      const { result, out } = await run("staking:freeze", { consumer: consumer.address });
      expect((await staking.position(consumer.address)).frozenUntil).to.equal(result.frozenUntil);
      expect(out).to.include("frozen until");
      await fails("staking:freeze", { consumer: "8" }, /^staking:freeze: account 8 .* is already frozen until /);
    });

    it("refuses a --from that is not the guardian", async function () {
      await fails(
        "staking:freeze",
        { consumer: "8", from: "3" },
        /^staking:freeze --from: account 3 .* is not the guardian/,
      );
    });

    it("the DAO's unfreeze proposal: refused when there is nothing to unfreeze, then proposed and executed", async function () {
      await fails(
        "gov:propose-unfreeze",
        { consumer: "8", reason: "false alarm", from: "2" },
        /^gov:propose-unfreeze: account 8 .* is not frozen and the guardian's freeze is not spent/,
      );
      await run("staking:freeze", { consumer: "8" });
      await run("gov:delegate", { from: "2" });
      await time.increase(1);
      const { result } = await run("gov:propose-unfreeze", { consumer: "8", reason: "false alarm", from: "2" });
      expect(await governor.state(result.proposalId)).to.equal(0n); // Pending
      await time.increase(Number(await governor.votingDelay()) + 1);
      await run("gov:vote", { proposal: String(result.proposalId), support: "for", from: "2" });
      await time.increase(Number(await governor.votingPeriod()) + 1);
      await run("gov:queue", { proposal: String(result.proposalId) });
      await time.increase(2 * DAY + 1);
      await run("gov:execute", { proposal: String(result.proposalId) });
      const p = await staking.position(consumer.address);
      expect(p.frozenUntil).to.be.lessThanOrEqual(BigInt(await time.latest()));
      expect(p.guardianFreezeSpent).to.equal(false);
    });
  });

  describe("vehicle:transfer and access:prune", function () {
    let vehicleId: bigint;

    beforeEach(async function () {
      vehicleId = await mintVehicle(vehicles, driver, { ...vehicleInfo(), vinCommitment: vinCommitment("STORY-1") });
      await run("token:transfer", { to: "8", amount: "20000", from: "2" });
      await run("staking:stake", { amount: "11000", from: "8" });
    });

    it("transfers to an index or an address; the old owner's grant becomes prunable", async function () {
      await run("access:grant", { vehicle: String(vehicleId), consumer: "8", types: "location", expires: "+30d" });
      expect((await staking.position(consumer.address)).vehiclesAccessed).to.equal(1n);
      await run("vehicle:transfer", { vehicle: String(vehicleId), to: "12" });
      expect(await vehicles.ownerOf(vehicleId)).to.equal(signers[12].address);
      const { result } = await run("access:prune", { consumer: consumer.address });
      expect(result.pruned).to.deep.equal([vehicleId]);
      expect((await access.grantOf(vehicleId, consumer.address)).permissions).to.equal(0n);
      expect((await staking.position(consumer.address)).vehiclesAccessed).to.equal(0n);
    });

    it("prunes an expired grant, which then no longer blocks unstaking", async function () {
      await run("access:grant", { vehicle: String(vehicleId), consumer: "8", types: "location", expires: "+1d" });
      await fails(
        "access:prune",
        { consumer: "8", vehicle: String(vehicleId) },
        /^access:prune --vehicle: the grant of account 8 .* still counts/,
      );
      await run("chain:advance", { by: "2d" });
      const { out } = await run("access:prune", { consumer: "8" });
      expect(out).to.include(`Pruning 1 grant(s) of account 8`);
      await run("staking:unstake", { amount: "11000", from: "8" });
      expect((await staking.position(consumer.address)).unbonding).to.equal(DIMO(11_000));
    });

    it("refuses a transfer to the current owner and an owner that is not local", async function () {
      await fails(
        "vehicle:transfer",
        { vehicle: String(vehicleId), to: driver.address },
        /^vehicle:transfer --to: account 11 .* already owns vehicle #\d+$/,
      );
      await fails("vehicle:transfer", { vehicle: "999", to: "12" }, /^vehicle:transfer --vehicle: no vehicle #999/);
    });
  });

  describe("accounts as a local index or an address", function () {
    it("device:mint --key takes an index", async function () {
      const { result } = await run("device:mint", { key: "13", serial: "SN-1", hwRevision: "r1" });
      const devices = await ethers.getContractAt("DeviceRegistry", deployment.record.contracts.DeviceRegistry.address);
      expect(await devices.deviceKeyOf(result.deviceId)).to.equal(signers[13].address);
    });

    it("access:grant --consumer takes an address as well as an index, and refuses anything else", async function () {
      const id = await mintVehicle(vehicles, driver, { ...vehicleInfo(), vinCommitment: vinCommitment("STORY-2") });
      await run("token:transfer", { to: "8", amount: "20000", from: "2" });
      await run("staking:stake", { amount: "11000", from: "8" });
      await run("access:grant", {
        vehicle: String(id),
        consumer: consumer.address,
        types: "location",
        expires: "+30d",
      });
      expect((await access.grantOf(id, consumer.address)).permissions).to.equal(1n);
      await fails(
        "access:grant",
        { vehicle: String(id), consumer: "me", types: "location", expires: "+30d" },
        /^access:grant --consumer: expected a local account index or a 0x address, got "me"$/,
      );
    });
  });
});
