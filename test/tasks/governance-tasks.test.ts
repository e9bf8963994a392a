import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { keccak256 } from "ethers";
import { isoOf } from "../../lib/registry-args";
import { decodeSlashCalldata, evidenceHashOf } from "../../lib/governance";
import { mintVehicle, permissionsOf, vehicleInfo, vinCommitment } from "../registry/fixtures";
import { expectTaskFails, runHardhatCli, runTask as run, useTaskDeployment } from "../helpers/tasks";
import type {
  ConsumerStaking,
  DataAccess,
  DimoGovernor,
  DimoToken,
  RewardDistributor,
  VehicleRegistry,
} from "../../typechain-types";

const DIMO = (n: number | string) => ethers.parseEther(String(n));
const DAY = 86_400;
const URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
/**
 * Accounts (config/deploy/hardhat.json): 1 guardian, 2 and 3 DAO members with 60M and 20M DIMO (member A gives the
 * consumer 100,000, so it votes with 59.9M). The quorum is 4% of the supply: 40M.
 */
const MEMBER_A = "2";
const MEMBER_B = "3";
const CONSUMER = "8";

/** Fails with a one-line plugin error matching `pattern`, sending nothing (no block, no signer's nonce moves). */
const fails = (name: string, args: Record<string, unknown>, pattern: RegExp) =>
  expectTaskFails(name, args, pattern, { oneLinePluginError: true, nonces: "all" });

describe("governance tasks", function () {
  const deployment = useTaskDeployment("dimo-governance-tasks-");
  let signers: HardhatEthersSigner[];
  let guardian: HardhatEthersSigner;
  let consumer: HardhatEthersSigner;
  let token: DimoToken;
  let staking: ConsumerStaking;
  let governor: DimoGovernor;
  let distributor: RewardDistributor;
  let timelockAddress: string;
  let evidenceFile: string;

  const slashArgs = (extra: Record<string, unknown> = {}) => ({
    consumer: CONSUMER,
    amount: "8000",
    compensation: "6000",
    evidence: URI,
    from: MEMBER_A,
    ...extra,
  });

  /** Both DAO members delegate to themselves through the task. */
  async function delegateMembers(): Promise<void> {
    await run("gov:delegate", { from: MEMBER_A });
    await run("gov:delegate", { from: MEMBER_B });
  }

  /** The guardian freezes the consumer, the members delegate and member A proposes the default slash. */
  async function proposeSlash(extra: Record<string, unknown> = {}): Promise<bigint> {
    await staking.connect(guardian).freeze(consumer.address);
    await delegateMembers();
    const { result } = await run("gov:propose-slash", slashArgs(extra));
    return result.proposalId as bigint;
  }

  async function openVoting(id: bigint): Promise<void> {
    await time.increaseTo((await governor.proposalSnapshot(id)) + 1n);
  }

  async function endVoting(id: bigint): Promise<void> {
    await time.increaseTo((await governor.proposalDeadline(id)) + 1n);
  }

  /** Proposal `id` passes with both members' votes and the voting period ends. */
  async function pass(id: bigint): Promise<void> {
    await openVoting(id);
    await run("gov:vote", { proposal: String(id), support: "for", from: MEMBER_A });
    await run("gov:vote", { proposal: String(id), support: "for", from: MEMBER_B });
    await endVoting(id);
  }

  before(async function () {
    const { record } = deployment;
    signers = await ethers.getSigners();
    [, guardian] = signers;
    consumer = signers[Number(CONSUMER)];
    const driver = signers[11];
    const at = (name: string) => record.contracts[name].address;
    token = await ethers.getContractAt("DimoToken", at("DimoToken"));
    staking = await ethers.getContractAt("ConsumerStaking", at("ConsumerStaking"));
    governor = await ethers.getContractAt("DimoGovernor", at("DimoGovernor"));
    distributor = await ethers.getContractAt("RewardDistributor", at("RewardDistributor"));
    const vehicles: VehicleRegistry = await ethers.getContractAt("VehicleRegistry", at("VehicleRegistry"));
    const access: DataAccess = await ethers.getContractAt("DataAccess", at("DataAccess"));
    timelockAddress = at("DimoTimelock");

    // The consumer stakes 12,000 DIMO through the task and reads two of the driver's vehicles.
    await token.connect(signers[2]).transfer(consumer.address, DIMO(100_000));
    await run("staking:stake", { amount: "12000", from: CONSUMER });
    const expiresAt = BigInt((await time.latest()) + 365 * DAY);
    await access.connect(consumer).setOwnerAcceptance(driver.address, true); // the consumer accepts the driver's grants
    for (let i = 0; i < 2; i++) {
      const id = await mintVehicle(vehicles, driver, {
        ...vehicleInfo(),
        vinCommitment: vinCommitment(`GOV-TASK-${i}`),
      });
      await access.connect(driver).grant(id, consumer.address, permissionsOf(0), expiresAt);
    }
    evidenceFile = path.join(deployment.dir, "evidence.json");
    fs.writeFileSync(evidenceFile, '{"report":"consumer resold location data"}\n');
  });

  describe("the whole path through the tasks", function () {
    it("delegate → propose-slash after a freeze → both members vote → queue → execute slashes the consumer", async function () {
      // The guardian freezes the consumer at once, then the DAO acts.
      await staking.connect(guardian).freeze(consumer.address);
      const frozenAt = await staking.frozenAt(consumer.address);

      const delegated = await run("gov:delegate", { from: MEMBER_A });
      expect(delegated.result.votes).to.equal(DIMO(59_900_000));
      expect(delegated.out).to.match(/delegate: tx 0x[0-9a-f]{64} .*gas \d+/);
      await run("gov:delegate", { from: MEMBER_B, to: "self" });

      const proposed = await run("gov:propose-slash", { ...slashArgs(), evidenceFile });
      const id = proposed.result.proposalId as bigint;
      const voteStart = await governor.proposalSnapshot(id);
      const voteEnd = await governor.proposalDeadline(id);
      expect(proposed.out).to.include(`Proposal ${id}`);
      expect(proposed.out).to.include(`vote start ${isoOf(voteStart)}`);
      expect(proposed.out).to.include(`vote end ${isoOf(voteEnd)}`);
      expect(proposed.result.description.split("\n")[0]).to.equal(
        `Slash ${consumer.address} 8000 DIMO (compensation 6000 DIMO, remainder 2000 DIMO burned): ${URI}`,
      );
      const evidenceHash = keccak256(fs.readFileSync(evidenceFile));
      expect(proposed.result.plan).to.deep.include({ affectedAsOf: 0n, evidenceHash });

      const pending = await run("gov:status", { proposal: String(id) });
      expect(pending.result.state).to.equal("Pending");
      expect(pending.result.quorum).to.equal(DIMO(40_000_000));
      expect(pending.result.quorumProjected).to.equal(true);

      await openVoting(id);
      const voteA = await run("gov:vote", { proposal: String(id), support: "for", from: MEMBER_A });
      expect(voteA.result.weight).to.equal(DIMO(59_900_000));
      expect(voteA.out).to.match(/castVote: tx 0x[0-9a-f]{64}/);
      await run("gov:vote", { proposal: String(id), support: "for", from: MEMBER_B });

      const active = await run("gov:status", { proposal: String(id) });
      expect(active.result).to.deep.include({ state: "Active", quorumReached: true, quorumProjected: false });
      expect(active.result.votes).to.deep.equal({ for: DIMO(79_900_000), against: 0n, abstain: 0n });
      expect(active.out).to.match(/quorum at the snapshot\s+40,000,000; reached \(for \+ abstain 79,900,000\)/);
      expect(active.out).to.match(/next\s+voting ends at .*; it would pass as things stand/);

      await endVoting(id);
      const queued = await run("gov:queue", { proposal: String(id) });
      expect(queued.out).to.match(/queue: tx 0x[0-9a-f]{64} .*gas \d+/);
      expect(queued.out).to.include("Slash ");
      const eta = await governor.proposalEta(id);
      expect(queued.result.eta).to.equal(eta);
      const status = await run("gov:status", { proposal: String(id) });
      expect(status.result).to.deep.include({ state: "Queued", eta });
      expect(status.out).to.match(new RegExp(`eta\\s+${isoOf(eta)}`));

      await time.increaseTo(eta);
      const supply = await token.totalSupply();
      const funded = await distributor.totalFunded();
      const distributorBalance = await token.balanceOf(await distributor.getAddress());
      const executed = await run("gov:execute", { proposal: String(id), from: "5" });
      await expect(ethers.provider.getTransaction(executed.result.txHash))
        .to.emit(staking, "Slashed")
        .withArgs(consumer.address, 1n, DIMO(8_000), DIMO(6_000), DIMO(2_000), 0, frozenAt, evidenceHash, URI);
      expect(executed.result.slashes).to.deep.equal([
        {
          consumer: consumer.address,
          slashId: 1n,
          amount: DIMO(8_000),
          compensation: DIMO(6_000),
          remainder: DIMO(2_000),
        },
      ]);
      expect(await distributor.totalFunded()).to.equal(funded + DIMO(6_000));
      expect(await token.balanceOf(await distributor.getAddress())).to.equal(distributorBalance + DIMO(6_000));
      expect(await token.totalSupply()).to.equal(supply - DIMO(2_000));
      expect((await staking.position(consumer.address)).staked).to.equal(DIMO(4_000));
      const after = await run("staking:status", { consumer: CONSUMER });
      expect(after.result.coversGrants).to.equal(false);
      expect(after.out).to.match(/covers its grants\s+no \(short by 6,020 DIMO/);
      expect((await run("gov:status", { proposal: String(id) })).result.state).to.equal("Executed");
    });

    it("sends the remainder to the treasury and counts the affected vehicles from the proposal time when not frozen", async function () {
      await delegateMembers();
      const now = await time.latest();
      const { result } = await run("gov:propose-slash", slashArgs({ remainder: "treasury" }));
      expect(result.plan.affectedAsOf).to.equal(BigInt(now));
      const id = result.proposalId as bigint;
      await pass(id);
      await run("gov:queue", { proposal: String(id) });
      await time.increaseTo(await governor.proposalEta(id));
      const treasury = await token.balanceOf(timelockAddress);
      const supply = await token.totalSupply();
      await run("gov:execute", { proposal: String(id) });
      expect(await token.balanceOf(timelockAddress)).to.equal(treasury + DIMO(2_000));
      expect(await token.totalSupply()).to.equal(supply);
    });

    it("a dry run prints the proposal and the id a real run then gets, sending nothing", async function () {
      await staking.connect(guardian).freeze(consumer.address);
      await delegateMembers();
      const nonce = await ethers.provider.getTransactionCount(signers[2].address);
      const dry = await run("gov:propose-slash", slashArgs({ dryRun: true }));
      expect(dry.result.dryRun).to.equal(true);
      expect(dry.out).to.include("Dry run: would send propose from account 2");
      expect(dry.out).to.include(`| Slash ${consumer.address} 8000 DIMO`);
      expect(await ethers.provider.getTransactionCount(signers[2].address)).to.equal(nonce);
      const real = await run("gov:propose-slash", slashArgs());
      expect(real.result.proposalId).to.equal(dry.result.proposalId);
    });
  });

  describe("on the command line", function () {
    it("a bad argument prints one error line and exits 1", function () {
      this.timeout(120_000);
      const cli = runHardhatCli(["gov:vote", "--proposal", "1", "--support", "yes"], deployment.dir);
      expect(cli.status).to.equal(1);
      expect(cli.stderr).to.contain(
        'Error in plugin dimo-governance: gov:vote --support: expected for, against or abstain, got "yes"',
      );
    });
  });

  describe("gov:delegate", function () {
    it("delegates to another account and sends nothing when the delegation is already in place", async function () {
      const { result } = await run("gov:delegate", { from: MEMBER_B, to: MEMBER_A });
      expect(result.votes).to.equal(DIMO(20_000_000));
      expect(await token.delegates(signers[3].address)).to.equal(signers[2].address);
      const block = await ethers.provider.getBlockNumber();
      const again = await run("gov:delegate", { from: MEMBER_B, to: signers[2].address });
      expect(again.result.sent).to.equal(false);
      expect(again.out).to.match(/already delegates to account 2 .*: nothing to send/);
      expect(await ethers.provider.getBlockNumber()).to.equal(block);
    });

    it("refuses a bad --to", async function () {
      await fails(
        "gov:delegate",
        { from: MEMBER_A, to: "me" },
        /^gov:delegate --to: expected a local account index or a 0x address/,
      );
    });
  });

  describe("gov:propose-slash checks", function () {
    beforeEach(async function () {
      await staking.connect(guardian).freeze(consumer.address);
    });

    it("refuses a proposer below the threshold: delegate first", async function () {
      await fails(
        "gov:propose-slash",
        slashArgs(),
        /^gov:propose-slash --from: delegate first: you have 0 votes, need 100,000 \(account 2 .* holds 59,900,000 DIMO; gov:delegate --from 2\)$/,
      );
    });

    it("refuses more than staked + unbonding", async function () {
      await delegateMembers();
      await staking.connect(consumer).requestUnstake(DIMO(1_000));
      await fails(
        "gov:propose-slash",
        slashArgs({ amount: "12000.5" }),
        /^gov:propose-slash --amount: 12,000.5 DIMO exceeds what 0x[0-9a-fA-F]{40} can be slashed: staked 11,000 DIMO \+ unbonding 1,000 DIMO = 12,000 DIMO$/,
      );
    });

    it("refuses a compensation above the amount", async function () {
      await delegateMembers();
      await fails(
        "gov:propose-slash",
        slashArgs({ compensation: "8001" }),
        /^gov:propose-slash --compensation: 8,001 DIMO exceeds the slashed amount 8,000 DIMO$/,
      );
    });

    it("refuses the same slash twice, naming the existing proposal", async function () {
      await delegateMembers();
      const { result } = await run("gov:propose-slash", slashArgs());
      await fails(
        "gov:propose-slash",
        slashArgs(),
        new RegExp(
          `^gov:propose-slash: this exact slash was already proposed: proposal ${result.proposalId} is Pending`,
        ),
      );
    });

    it("hashes the URI text when no evidence file is given", async function () {
      await delegateMembers();
      const { result } = await run("gov:propose-slash", slashArgs({ compensation: undefined }));
      expect(result.plan).to.deep.include({ evidenceHash: evidenceHashOf(URI), compensation: DIMO(8_000) });
      expect(result.description).to.match(/compensation 8000 DIMO, no remainder/);
    });

    it("refuses bad arguments, naming each, before sending anything", async function () {
      await delegateMembers();
      await fails(
        "gov:propose-slash",
        slashArgs({ amount: "12,000" }),
        /^gov:propose-slash --amount: expected a non-negative/,
      );
      await fails("gov:propose-slash", slashArgs({ amount: "0" }), /^gov:propose-slash --amount: must be more than 0$/);
      await fails(
        "gov:propose-slash",
        slashArgs({ consumer: "0x12345" }),
        /^gov:propose-slash --consumer: expected a 0x address/,
      );
      await fails(
        "gov:propose-slash",
        slashArgs({ remainder: "keep" }),
        /^gov:propose-slash --remainder: expected burn or treasury/,
      );
      await fails(
        "gov:propose-slash",
        slashArgs({ evidence: "report.pdf" }),
        /^gov:propose-slash --evidence: expected a URI/,
      );
      await fails(
        "gov:propose-slash",
        slashArgs({ evidenceFile: path.join(deployment.dir, "missing.pdf") }),
        /^gov:propose-slash --evidence-file: file not found/,
      );
      await fails(
        "gov:propose-slash",
        slashArgs({ from: "42" }),
        /^gov:propose-slash --from: account 42 does not exist/,
      );
    });
  });

  describe("steps out of order", function () {
    let id: bigint;
    let proposal: string;
    let outer: string;

    // One proposal (after the freeze) for every test here; each test still runs on its own snapshot.
    before(async function () {
      outer = await ethers.provider.send("evm_snapshot", []);
      id = await proposeSlash();
      proposal = String(id);
    });

    after(async function () {
      await ethers.provider.send("evm_revert", [outer]);
    });

    it("voting on a pending proposal: voting opens at <ISO>", async function () {
      const opens = isoOf((await governor.proposalSnapshot(id)) + 1n);
      await fails(
        "gov:vote",
        { proposal, support: "for", from: MEMBER_A },
        new RegExp(`^gov:vote: proposal ${id} is Pending: voting opens at ${opens} \\(and ends at `),
      );
    });

    it("queueing an active proposal: voting ends at <ISO>", async function () {
      await openVoting(id);
      const ends = isoOf(await governor.proposalDeadline(id));
      await fails(
        "gov:queue",
        { proposal },
        new RegExp(`^gov:queue: proposal ${id} is Active: voting ends at ${ends};`),
      );
      await fails(
        "gov:execute",
        { proposal },
        new RegExp(`^gov:execute: proposal ${id} is Active: voting ends at ${ends};`),
      );
    });

    it("queueing a defeated proposal: for, against and the quorum", async function () {
      await openVoting(id);
      await run("gov:vote", { proposal, support: "for", from: MEMBER_B });
      await endVoting(id);
      await fails(
        "gov:queue",
        { proposal },
        new RegExp(
          `^gov:queue: proposal ${id} is Defeated: the proposal was defeated: for 20,000,000, against 0, quorum 40,000,000 `,
        ),
      );
    });

    it("a proposal voted down is defeated though abstentions reach the quorum", async function () {
      await openVoting(id);
      await run("gov:vote", { proposal, support: "abstain", from: MEMBER_A });
      await run("gov:vote", { proposal, support: "against", from: MEMBER_B });
      await endVoting(id);
      const { result } = await run("gov:status", { proposal });
      expect(result).to.deep.include({ state: "Defeated", quorumReached: true });
      expect(result.votes).to.deep.equal({ for: 0n, against: DIMO(20_000_000), abstain: DIMO(59_900_000) });
      await fails(
        "gov:queue",
        { proposal },
        /the proposal was defeated: for 0, against 20,000,000, quorum 40,000,000 \(for did not exceed against\)/,
      );
    });

    it("voting twice", async function () {
      await openVoting(id);
      await run("gov:vote", { proposal, support: "for", from: MEMBER_A });
      await fails(
        "gov:vote",
        { proposal, support: "against", from: MEMBER_A },
        new RegExp(`^gov:vote: account 2 \\(0x[0-9a-fA-F]{40}\\) already voted on proposal ${id}$`),
      );
    });

    it("voting without votes at the snapshot", async function () {
      await openVoting(id);
      await fails(
        "gov:vote",
        { proposal, support: "for", from: "5" },
        /^gov:vote: account 5 .* had no votes at the proposal's snapshot/,
      );
    });

    it("voting after the voting period", async function () {
      await pass(id);
      await fails(
        "gov:vote",
        { proposal, support: "for", from: "4" },
        /is Succeeded: voting ended at .*; the proposal passed: queue it \(gov:queue\)$/,
      );
    });

    it("executing a succeeded proposal that is not queued: queue it first", async function () {
      await pass(id);
      await fails(
        "gov:execute",
        { proposal },
        new RegExp(`^gov:execute: proposal ${id} is Succeeded: queue it first \\(gov:queue\\)$`),
      );
    });

    it("executing before the eta: queued until <ISO>", async function () {
      await pass(id);
      await run("gov:queue", { proposal });
      const eta = await governor.proposalEta(id);
      await time.increaseTo(eta - 1n);
      await fails(
        "gov:execute",
        { proposal },
        new RegExp(`^gov:execute: proposal ${id} is Queued: queued until ${isoOf(eta)}$`),
      );
      await fails("gov:queue", { proposal }, /is Queued: already queued; it can be executed from/);
    });

    it("executing twice", async function () {
      await pass(id);
      await run("gov:queue", { proposal });
      await time.increaseTo(await governor.proposalEta(id));
      await run("gov:execute", { proposal });
      await fails("gov:execute", { proposal }, /is Executed: the proposal was already executed$/);
      await fails(
        "gov:vote",
        { proposal, support: "for", from: MEMBER_A },
        /is Executed: the proposal was already executed$/,
      );
    });

    it("executing a slash that would now revert says why, before sending", async function () {
      await pass(id);
      await run("gov:queue", { proposal });
      await time.increaseTo(await governor.proposalEta(id));
      // The DAO lifts the freeze meanwhile (here: the Timelock, impersonated), the consumer unstakes and withdraws.
      await ethers.provider.send("hardhat_impersonateAccount", [timelockAddress]);
      await ethers.provider.send("hardhat_setBalance", [timelockAddress, "0x56BC75E2D63100000"]);
      await staking.connect(await ethers.getSigner(timelockAddress)).unfreeze(consumer.address);
      await ethers.provider.send("hardhat_stopImpersonatingAccount", [timelockAddress]);
      await unstakeAndWithdrawAll();
      await fails(
        "gov:execute",
        { proposal },
        /would revert if executed now: StakingInvalidSlash\(8000000000000000000000, 6000000000000000000000, 0\)$/,
      );
    });

    /** The consumer's grants are revoked, it unstakes everything and withdraws after the unbonding period. */
    async function unstakeAndWithdrawAll(): Promise<void> {
      const access: DataAccess = await ethers.getContractAt("DataAccess", await staking.accessRegistry());
      for (const vehicleId of [1n, 2n]) await access.connect(consumer).revoke(vehicleId, consumer.address);
      await staking.connect(consumer).requestUnstake(DIMO(12_000));
      await time.increaseTo((await staking.position(consumer.address)).releaseAt);
      await staking.connect(consumer).withdraw();
    }

    it("bad arguments name the argument and send nothing", async function () {
      await openVoting(id);
      await fails(
        "gov:vote",
        { proposal, support: "yes", from: MEMBER_A },
        /^gov:vote --support: expected for, against or abstain, got "yes"$/,
      );
      await fails(
        "gov:vote",
        { proposal: "abc", support: "for", from: MEMBER_A },
        /^gov:vote --proposal: expected a proposal id/,
      );
      await fails("gov:vote", { proposal, support: "for", from: "0xnope" }, /^gov:vote --from: expected a 0x address/);
      for (const name of ["gov:vote", "gov:queue", "gov:execute", "gov:status"]) {
        await fails(
          name,
          name === "gov:vote" ? { proposal: "12345", support: "for", from: MEMBER_A } : { proposal: "12345" },
          new RegExp(`^${name} --proposal: no proposal 12345 on the Governor 0x[0-9a-fA-F]{40} \\(hardhat\\)$`),
        );
      }
      await fails(
        "gov:queue",
        { proposal, pageSize: "0" },
        /^gov:queue --page-size: expected an integer from 1 to 1000000/,
      );
    });

    it("finds the proposal's calls with a small page size", async function () {
      await pass(id);
      const { result } = await run("gov:queue", { proposal, pageSize: "1" });
      expect(result.eta).to.equal(await governor.proposalEta(id));
    });

    it("gov:status shows what the slash does and what comes next", async function () {
      const { result, out } = await run("gov:status", { proposal });
      expect(result.state).to.equal("Pending");
      expect(out).to.match(/next\s+voting opens at .* \(gov:vote\)/);
      expect(out).to.include(
        `- Slash ${consumer.address} 8000 DIMO (compensation 6000 DIMO, remainder 2000 DIMO burned); affected as of the freeze; evidence ${URI}`,
      );
      const created = await governor.queryFilter(governor.filters.ProposalCreated());
      expect(decodeSlashCalldata(created[0].args.calldatas[0])?.amount).to.equal(DIMO(8_000));
      await pass(id);
      const succeeded = await run("gov:status", { proposal });
      expect(succeeded.out).to.match(/next\s+queue it \(gov:queue\); the timelock delay \(2 d\) then runs/);
    });
  });
});
