import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, DIMO, GOV_DEFAULTS, deployFoundation } from "./helpers/fixtures";
import {
  delegateMembers,
  executeWhenReady,
  propose,
  proposal,
  stakingFixture,
  voteAndQueue,
  type Proposal,
} from "./staking/fixtures";

// Governor ProposalState enum.
const State = { Pending: 0, Active: 1, Canceled: 2, Defeated: 3, Succeeded: 4, Queued: 5, Expired: 6, Executed: 7 };
const VoteType = { Against: 0, For: 1, Abstain: 2 };

describe("Governance (Governor + Timelock)", function () {
  async function governanceFixture() {
    const signers = await ethers.getSigners();
    const [, , , alice, bob, carol] = signers;
    // alice alone reaches the 4% quorum (40M); bob (10M) does not; carol is under the proposal threshold.
    const f = await deployFoundation([
      { to: alice.address, amount: DIMO(50_000_000) },
      { to: bob.address, amount: DIMO(10_000_000) },
      { to: carol.address, amount: DIMO(50_000) },
    ]);
    for (const s of [alice, bob, carol]) await f.token.connect(s).delegate(s.address);
    await mine(1);
    return f;
  }

  async function proposal(
    f: Awaited<ReturnType<typeof governanceFixture>>,
    calls: { target: string; data: string }[],
    description: string,
  ) {
    const targets = calls.map((c) => c.target);
    const values = calls.map(() => 0n);
    const calldatas = calls.map((c) => c.data);
    const descriptionHash = ethers.id(description);
    const proposalId = await f.governor.hashProposal(targets, values, calldatas, descriptionHash);
    return { targets, values, calldatas, description, descriptionHash, proposalId };
  }

  async function quorumProposal(f: Awaited<ReturnType<typeof governanceFixture>>) {
    const governorAddress = await f.governor.getAddress();
    return proposal(
      f,
      [{ target: governorAddress, data: f.governor.interface.encodeFunctionData("updateQuorumNumerator", [5]) }],
      "Raise the quorum to 5%",
    );
  }

  describe("deployment parameters", function () {
    it("uses the default voting delay, period, threshold, quorum and timelock delay", async function () {
      const f = await loadFixture(governanceFixture);
      expect(await f.governor.votingDelay()).to.equal(GOV_DEFAULTS.votingDelay);
      expect(await f.governor.votingPeriod()).to.equal(GOV_DEFAULTS.votingPeriod);
      expect(await f.governor.proposalThreshold()).to.equal(DIMO(100_000));
      expect(await f.governor["quorumNumerator()"]()).to.equal(4);
      const t = (await time.latest()) - 1;
      expect(await f.governor.quorum(t)).to.equal(DIMO(40_000_000));
      expect(await f.timelock.getMinDelay()).to.equal(2 * DAY);
      expect(await f.governor.timelock()).to.equal(await f.timelock.getAddress());
    });

    it("counts time in seconds, following the token's timestamp clock", async function () {
      const f = await loadFixture(governanceFixture);
      expect(await f.governor.CLOCK_MODE()).to.equal("mode=timestamp");
      expect(await f.governor.clock()).to.equal(await time.latest());
    });
  });

  describe("a parameter change through the whole cycle", function () {
    it("runs delegate → propose → vote → queue → execute and changes the quorum", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await expect(f.governor.connect(f.alice).propose(p.targets, p.values, p.calldatas, p.description)).to.emit(
        f.governor,
        "ProposalCreated",
      );
      expect(await f.governor.state(p.proposalId)).to.equal(State.Pending);

      await time.increase(GOV_DEFAULTS.votingDelay + 1);
      expect(await f.governor.state(p.proposalId)).to.equal(State.Active);
      await expect(f.governor.connect(f.alice).castVote(p.proposalId, VoteType.For))
        .to.emit(f.governor, "VoteCast")
        .withArgs(f.alice.address, p.proposalId, VoteType.For, DIMO(50_000_000), "");

      await time.increase(GOV_DEFAULTS.votingPeriod);
      expect(await f.governor.state(p.proposalId)).to.equal(State.Succeeded);
      await expect(f.governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash)).to.emit(
        f.governor,
        "ProposalQueued",
      );
      expect(await f.governor.state(p.proposalId)).to.equal(State.Queued);

      await time.increase(GOV_DEFAULTS.timelockDelay);
      await expect(f.governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash))
        .to.emit(f.governor, "ProposalExecuted")
        .withArgs(p.proposalId)
        .and.to.emit(f.governor, "QuorumNumeratorUpdated")
        .withArgs(4, 5);
      expect(await f.governor.state(p.proposalId)).to.equal(State.Executed);
      expect(await f.governor["quorumNumerator()"]()).to.equal(5);
    });

    it("refuses to execute a queued proposal before the timelock delay has passed", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await f.governor.connect(f.alice).propose(p.targets, p.values, p.calldatas, p.description);
      await time.increase(GOV_DEFAULTS.votingDelay + 1);
      await f.governor.connect(f.alice).castVote(p.proposalId, VoteType.For);
      await time.increase(GOV_DEFAULTS.votingPeriod);
      await f.governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash);
      await time.increase(GOV_DEFAULTS.timelockDelay - 10);
      await expect(
        f.governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash),
      ).to.be.revertedWithCustomError(f.timelock, "TimelockUnexpectedOperationState");
    });

    it("moves treasury funds only through a passed proposal", async function () {
      const f = await loadFixture(governanceFixture);
      const treasury = await f.timelock.getAddress();
      const p = await proposal(
        f,
        [
          {
            target: await f.token.getAddress(),
            data: f.token.interface.encodeFunctionData("transfer", [f.outsider.address, DIMO(1_000_000)]),
          },
        ],
        "Grant 1M DIMO to a builder",
      );
      await f.governor.connect(f.alice).propose(p.targets, p.values, p.calldatas, p.description);
      await time.increase(GOV_DEFAULTS.votingDelay + 1);
      await f.governor.connect(f.alice).castVote(p.proposalId, VoteType.For);
      await time.increase(GOV_DEFAULTS.votingPeriod);
      await f.governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash);
      await time.increase(GOV_DEFAULTS.timelockDelay);
      await expect(f.governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash)).to.changeTokenBalances(
        f.token,
        [treasury, f.outsider.address],
        [-DIMO(1_000_000), DIMO(1_000_000)],
      );
    });
  });

  describe("when the proposer cancels", function () {
    it("cancels a pending proposal, which can then never be voted", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await f.governor.connect(f.alice).propose(p.targets, p.values, p.calldatas, p.description);
      await expect(f.governor.connect(f.alice).cancel(p.targets, p.values, p.calldatas, p.descriptionHash))
        .to.emit(f.governor, "ProposalCanceled")
        .withArgs(p.proposalId);
      expect(await f.governor.state(p.proposalId)).to.equal(State.Canceled);
      await time.increase(GOV_DEFAULTS.votingDelay + 1);
      await expect(f.governor.connect(f.alice).castVote(p.proposalId, VoteType.For)).to.be.revertedWithCustomError(
        f.governor,
        "GovernorUnexpectedProposalState",
      );
    });

    it("does not let anyone else cancel", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await f.governor.connect(f.alice).propose(p.targets, p.values, p.calldatas, p.description);
      await expect(f.governor.connect(f.bob).cancel(p.targets, p.values, p.calldatas, p.descriptionHash))
        .to.be.revertedWithCustomError(f.governor, "GovernorUnableToCancel")
        .withArgs(p.proposalId, f.bob.address);
    });
  });

  describe("when a proposal misses quorum", function () {
    it("is defeated even with only votes in favour, and cannot be queued", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await f.governor.connect(f.bob).propose(p.targets, p.values, p.calldatas, p.description);
      await time.increase(GOV_DEFAULTS.votingDelay + 1);
      await f.governor.connect(f.bob).castVote(p.proposalId, VoteType.For);
      await time.increase(GOV_DEFAULTS.votingPeriod);
      expect(await f.governor.quorum(await f.governor.proposalSnapshot(p.proposalId))).to.equal(DIMO(40_000_000));
      expect(await f.governor.state(p.proposalId)).to.equal(State.Defeated);
      await expect(f.governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash)).to.be.revertedWithCustomError(
        f.governor,
        "GovernorUnexpectedProposalState",
      );
    });
  });

  describe("when the votes against win", function () {
    it("is defeated", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await f.governor.connect(f.bob).propose(p.targets, p.values, p.calldatas, p.description);
      await time.increase(GOV_DEFAULTS.votingDelay + 1);
      await f.governor.connect(f.bob).castVote(p.proposalId, VoteType.For);
      await f.governor.connect(f.alice).castVote(p.proposalId, VoteType.Against);
      await time.increase(GOV_DEFAULTS.votingPeriod);
      expect(await f.governor.state(p.proposalId)).to.equal(State.Defeated);
    });
  });

  describe("proposal threshold", function () {
    it("refuses a proposer holding fewer than 100,000 DIMO of votes", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await expect(f.governor.connect(f.carol).propose(p.targets, p.values, p.calldatas, p.description))
        .to.be.revertedWithCustomError(f.governor, "GovernorInsufficientProposerVotes")
        .withArgs(f.carol.address, DIMO(50_000), DIMO(100_000));
    });

    it("counts votes at the snapshot, not tokens received afterwards", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await f.governor.connect(f.bob).propose(p.targets, p.values, p.calldatas, p.description);
      await time.increase(GOV_DEFAULTS.votingDelay + 1);
      await f.token.connect(f.alice).transfer(f.bob.address, DIMO(40_000_000));
      await f.governor.connect(f.bob).castVote(p.proposalId, VoteType.For);
      await time.increase(GOV_DEFAULTS.votingPeriod);
      expect(await f.governor.state(p.proposalId)).to.equal(State.Defeated);
    });
  });

  describe("access control", function () {
    it("lets only governance change governor settings", async function () {
      const f = await loadFixture(governanceFixture);
      await expect(f.governor.connect(f.alice).setVotingPeriod(DAY))
        .to.be.revertedWithCustomError(f.governor, "GovernorOnlyExecutor")
        .withArgs(f.alice.address);
      await expect(f.governor.connect(f.alice).updateQuorumNumerator(1))
        .to.be.revertedWithCustomError(f.governor, "GovernorOnlyExecutor")
        .withArgs(f.alice.address);
    });

    it("lets nobody but the Governor schedule on the Timelock", async function () {
      const f = await loadFixture(governanceFixture);
      const PROPOSER = await f.timelock.PROPOSER_ROLE();
      for (const who of [f.deployer, f.guardian, f.alice]) {
        await expect(
          f.timelock.connect(who).schedule(f.alice.address, 0, "0x", ethers.ZeroHash, ethers.ZeroHash, 2 * DAY),
        )
          .to.be.revertedWithCustomError(f.timelock, "AccessControlUnauthorizedAccount")
          .withArgs(who.address, PROPOSER);
      }
    });

    it("leaves the deployer with no role on the Timelock or the vault", async function () {
      const f = await loadFixture(governanceFixture);
      for (const role of ["DEFAULT_ADMIN_ROLE", "PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE"] as const) {
        expect(await f.timelock.hasRole(await f.timelock[role](), f.deployer.address)).to.equal(false);
      }
      expect(await f.vault.hasRole(await f.vault.DEFAULT_ADMIN_ROLE(), f.deployer.address)).to.equal(false);
      expect(await f.vault.hasRole(await f.vault.DEFAULT_ADMIN_ROLE(), await f.timelock.getAddress())).to.equal(true);
      expect(await f.timelock.hasRole(await f.timelock.DEFAULT_ADMIN_ROLE(), await f.timelock.getAddress())).to.equal(
        true,
      );
    });

    it("lets anyone execute a ready operation (open executor role)", async function () {
      const f = await loadFixture(governanceFixture);
      expect(await f.timelock.hasRole(await f.timelock.EXECUTOR_ROLE(), ethers.ZeroAddress)).to.equal(true);
    });
  });

  describe("guardian", function () {
    it("can cancel a queued proposal on the Timelock, which then cannot execute", async function () {
      const f = await loadFixture(governanceFixture);
      const p = await quorumProposal(f);
      await f.governor.connect(f.alice).propose(p.targets, p.values, p.calldatas, p.description);
      await time.increase(GOV_DEFAULTS.votingDelay + 1);
      await f.governor.connect(f.alice).castVote(p.proposalId, VoteType.For);
      await time.increase(GOV_DEFAULTS.votingPeriod);
      await f.governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash);
      // GovernorTimelockControl salt: bytes20(governor) ^ descriptionHash.
      const salt = ethers.toBeHex((BigInt(await f.governor.getAddress()) << 96n) ^ BigInt(p.descriptionHash), 32);
      const opId = await f.timelock.hashOperationBatch(p.targets, p.values, p.calldatas, ethers.ZeroHash, salt);
      expect(await f.timelock.isOperationPending(opId)).to.equal(true);
      await expect(f.timelock.connect(f.guardian).cancel(opId)).to.emit(f.timelock, "Cancelled").withArgs(opId);
      expect(await f.governor.state(p.proposalId)).to.equal(State.Canceled);
      await time.increase(GOV_DEFAULTS.timelockDelay);
      await expect(
        f.governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash),
      ).to.be.revertedWithCustomError(f.governor, "GovernorUnexpectedProposalState");
    });

    it("cannot cancel when it is not the guardian", async function () {
      const f = await loadFixture(governanceFixture);
      await expect(f.timelock.connect(f.alice).cancel(ethers.ZeroHash))
        .to.be.revertedWithCustomError(f.timelock, "AccessControlUnauthorizedAccount")
        .withArgs(f.alice.address, await f.timelock.CANCELLER_ROLE());
    });
  });
});

/**
 * M-1 (Timelock half): the guardian holds the Timelock's canceller role, so it could cancel the passed vote that
 * removes it. Against the suite as deploySuite wires it (config/deploy/hardhat.json: account 1 guardian, accounts 2
 * and 3 DAO members with 60M and 20M DIMO; the quorum is 40M).
 */
describe("guardian and its own removal (deploySuite wiring)", function () {
  async function suiteFixture() {
    const f = await stakingFixture();
    await delegateMembers(f);
    const successor = f.signers[16];
    const CANCELLER = await f.timelock.CANCELLER_ROLE();
    const PROPOSER = await f.timelock.PROPOSER_ROLE();
    const GUARDIAN = await f.staking.GUARDIAN_ROLE();
    const DIST_GUARDIAN = await f.distributor.GUARDIAN_ROLE();
    const distributorAddress = await f.distributor.getAddress();
    /** Every role the deploy gives the guardian: Timelock canceller, distributor and staking guardian. */
    const guardianRoles = [
      { contract: f.timelock as unknown as RoleHolder, target: f.timelockAddress, role: CANCELLER },
      { contract: f.distributor as unknown as RoleHolder, target: distributorAddress, role: DIST_GUARDIAN },
      { contract: f.staking as unknown as RoleHolder, target: f.stakingAddress, role: GUARDIAN },
    ];
    const revoke = (target: string, role: string, account: string) => ({
      target,
      data: f.timelock.interface.encodeFunctionData("revokeRole", [role, account]),
    });
    const grant = (target: string, role: string, account: string) => ({
      target,
      data: f.timelock.interface.encodeFunctionData("grantRole", [role, account]),
    });
    return { ...f, successor, CANCELLER, PROPOSER, guardianRoles, revoke, grant };
  }
  type Suite = Awaited<ReturnType<typeof suiteFixture>>;
  type RoleHolder = { hasRole(role: string, account: string): Promise<boolean> };

  /** GovernorTimelockControl's operation id: salt = bytes20(governor) ^ descriptionHash, no predecessor. */
  async function operationId(f: Suite, p: Proposal): Promise<string> {
    const salt = ethers.toBeHex((BigInt(await f.governor.getAddress()) << 96n) ^ BigInt(p.descriptionHash), 32);
    return f.timelock.hashOperationBatch(p.targets, p.values, p.calldatas, ethers.ZeroHash, salt);
  }

  /** Proposes `calls`, votes it through and queues it; returns the proposal and its Timelock operation id. */
  async function queued(f: Suite, calls: { target: string; data: string }[], description: string) {
    const p = await proposal(f, calls, description);
    await propose(f, p);
    await voteAndQueue(f, p);
    return { p, id: await operationId(f, p) };
  }

  function removalOfGuardian(f: Suite) {
    return f.guardianRoles.map((r) => f.revoke(r.target, r.role, f.guardian.address));
  }

  it("the guardian cannot cancel the queued vote that removes it; the DAO executes it", async function () {
    const f = await loadFixture(suiteFixture);
    const p = await proposal(f, removalOfGuardian(f), "Remove the guardian");
    await propose(f, p);
    const id = await operationId(f, p);
    await time.increaseTo(await f.governor.proposalSnapshot(p.proposalId));
    await time.increase(1);
    await f.governor.connect(f.memberA).castVote(p.proposalId, VoteType.For);
    await time.increaseTo((await f.governor.proposalDeadline(p.proposalId)) + 1n);
    await expect(f.governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash))
      .to.emit(f.timelock, "RemovalScheduled")
      .withArgs(id, f.guardian.address);
    expect(await f.timelock.removalOf(id)).to.equal(f.guardian.address);

    // The attack: the guardian still holds the canceller role and tries to veto its removal.
    expect(await f.timelock.hasRole(f.CANCELLER, f.guardian.address)).to.equal(true);
    await expect(f.timelock.connect(f.guardian).cancel(id))
      .to.be.revertedWithCustomError(f.timelock, "TimelockCannotCancelOwnRemoval")
      .withArgs(id, f.guardian.address);
    expect(await f.timelock.isOperationPending(id)).to.equal(true);

    await expect(executeWhenReady(f, p)).to.emit(f.governor, "ProposalExecuted").withArgs(p.proposalId);
    for (const r of f.guardianRoles) expect(await r.contract.hasRole(r.role, f.guardian.address)).to.equal(false);
    expect(await f.governor.state(p.proposalId)).to.equal(State.Executed);
  });

  it("the removed guardian can cancel nothing afterwards", async function () {
    const f = await loadFixture(suiteFixture);
    const removal = await queued(f, removalOfGuardian(f), "Remove the guardian");
    await executeWhenReady(f, removal.p);
    const other = await queued(
      f,
      [
        {
          target: await f.governor.getAddress(),
          data: f.governor.interface.encodeFunctionData("updateQuorumNumerator", [5]),
        },
      ],
      "Raise the quorum to 5%",
    );
    await expect(f.timelock.connect(f.guardian).cancel(other.id))
      .to.be.revertedWithCustomError(f.timelock, "AccessControlUnauthorizedAccount")
      .withArgs(f.guardian.address, f.CANCELLER);
  });

  it("the guardian cannot cancel its replacement; the successor gets exactly its roles and can cancel", async function () {
    const f = await loadFixture(suiteFixture);
    const calls = f.guardianRoles.flatMap((r) => [
      f.revoke(r.target, r.role, f.guardian.address),
      f.grant(r.target, r.role, f.successor.address),
    ]);
    const { p, id } = await queued(f, calls, "Replace the guardian");
    expect(await f.timelock.removalOf(id)).to.equal(f.guardian.address);
    await expect(f.timelock.connect(f.guardian).cancel(id))
      .to.be.revertedWithCustomError(f.timelock, "TimelockCannotCancelOwnRemoval")
      .withArgs(id, f.guardian.address);
    await executeWhenReady(f, p);
    for (const r of f.guardianRoles) {
      expect(await r.contract.hasRole(r.role, f.guardian.address)).to.equal(false);
      expect(await r.contract.hasRole(r.role, f.successor.address)).to.equal(true);
    }
    const other = await queued(
      f,
      [
        {
          target: await f.governor.getAddress(),
          data: f.governor.interface.encodeFunctionData("updateQuorumNumerator", [5]),
        },
      ],
      "Raise the quorum to 5%",
    );
    await expect(f.timelock.connect(f.successor).cancel(other.id)).to.emit(f.timelock, "Cancelled").withArgs(other.id);
  });

  it("the guardian can still cancel a proposal that does not touch it", async function () {
    const f = await loadFixture(suiteFixture);
    const p = await proposal(
      f,
      [
        {
          target: await f.governor.getAddress(),
          data: f.governor.interface.encodeFunctionData("updateQuorumNumerator", [5]),
        },
      ],
      "Raise the quorum to 5%",
    );
    await propose(f, p);
    await time.increaseTo((await f.governor.proposalSnapshot(p.proposalId)) + 1n);
    await f.governor.connect(f.memberA).castVote(p.proposalId, VoteType.For);
    await time.increaseTo((await f.governor.proposalDeadline(p.proposalId)) + 1n);
    await expect(f.governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash)).not.to.emit(
      f.timelock,
      "RemovalScheduled",
    );
    const id = await operationId(f, p);
    expect(await f.timelock.removalOf(id)).to.equal(ethers.ZeroAddress);
    await expect(f.timelock.connect(f.guardian).cancel(id)).to.emit(f.timelock, "Cancelled").withArgs(id);
    expect(await f.governor.state(p.proposalId)).to.equal(State.Canceled);
  });

  it("the guardian can still cancel a removal of another account (an integration losing its role)", async function () {
    const f = await loadFixture(suiteFixture);
    const SOFTWARE = await f.vehicles.SOFTWARE_INTEGRATION_ROLE();
    const { id } = await queued(
      f,
      [f.revoke(await f.vehicles.getAddress(), SOFTWARE, f.software.address)],
      "Revoke the software integration",
    );
    expect(await f.timelock.removalOf(id)).to.equal(f.software.address);
    await expect(f.timelock.connect(f.guardian).cancel(id)).to.emit(f.timelock, "Cancelled").withArgs(id);
  });

  describe("a grant is a replacement only of the same role on the same target, revoked in the same operation", function () {
    const cases: { name: string; calls: (f: Suite) => { target: string; data: string }[] }[] = [
      {
        name: "a role the guardian holds on that target but the operation revokes elsewhere (other role)",
        calls: (f) => [
          f.revoke(f.stakingAddress, f.guardianRoles[2].role, f.guardian.address),
          f.grant(f.timelockAddress, f.CANCELLER, f.outsider.address),
        ],
      },
      {
        name: "the same role revoked on another target",
        calls: (f) => [
          f.revoke(f.stakingAddress, f.guardianRoles[2].role, f.guardian.address),
          f.grant(f.guardianRoles[1].target, f.guardianRoles[1].role, f.outsider.address),
        ],
      },
    ];
    for (const c of cases) {
      it(`not ${c.name}`, async function () {
        const f = await loadFixture(suiteFixture);
        expect(f.guardianRoles[1].role).to.equal(f.guardianRoles[2].role); // both contracts name it GUARDIAN_ROLE
        const { id } = await queued(f, c.calls(f), `Grant with ${c.name}`);
        expect(await f.timelock.removalOf(id)).to.equal(ethers.ZeroAddress);
        await expect(f.timelock.connect(f.guardian).cancel(id)).to.emit(f.timelock, "Cancelled").withArgs(id);
      });
    }
  });

  describe("a removal bundled with anything else is an ordinary operation the guardian can cancel", function () {
    const cases: { name: string; extra: (f: Suite) => Promise<{ target: string; data: string }[]> }[] = [
      {
        name: "a treasury transfer",
        extra: async (f) => [
          {
            target: await f.token.getAddress(),
            data: f.token.interface.encodeFunctionData("transfer", [f.outsider.address, DIMO(1_000_000)]),
          },
        ],
      },
      {
        name: "a grant of a role the guardian does not hold (the Timelock's proposer role)",
        extra: async (f) => [
          f.revoke(f.timelockAddress, f.PROPOSER, f.guardian.address),
          f.grant(f.timelockAddress, f.PROPOSER, f.outsider.address),
        ],
      },
      {
        name: "a grant of a role the operation does not revoke from the guardian",
        extra: async (f) => [f.grant(f.timelockAddress, f.PROPOSER, f.outsider.address)],
      },
      {
        name: "a revoke from a second account",
        extra: async (f) => [f.revoke(f.timelockAddress, f.PROPOSER, await f.governor.getAddress())],
      },
      {
        name: "a revoke with extra calldata bytes",
        extra: async (f) => [
          { target: f.timelockAddress, data: f.revoke(f.timelockAddress, f.CANCELLER, f.guardian.address).data + "00" },
        ],
      },
    ];
    for (const c of cases) {
      it(`with ${c.name}`, async function () {
        const f = await loadFixture(suiteFixture);
        const { p, id } = await queued(f, [...removalOfGuardian(f), ...(await c.extra(f))], `Removal with ${c.name}`);
        expect(await f.timelock.removalOf(id)).to.equal(ethers.ZeroAddress);
        await expect(f.timelock.connect(f.guardian).cancel(id)).to.emit(f.timelock, "Cancelled").withArgs(id);
        expect(await f.governor.state(p.proposalId)).to.equal(State.Canceled);
      });
    }
  });
});

/** DimoTimelock's recognition rule on its own, with a test proposer (the single-call `schedule` path included). */
describe("DimoTimelock: which operations are removals", function () {
  const DELAY = 2 * DAY; // seconds
  async function timelockFixture() {
    const [admin, proposer, guardian, other] = await ethers.getSigners();
    const timelock = await ethers.deployContract("DimoTimelock", [
      DELAY,
      [proposer.address],
      [ethers.ZeroAddress],
      admin.address,
    ]);
    const CANCELLER = await timelock.CANCELLER_ROLE();
    await timelock.grantRole(CANCELLER, guardian.address);
    const address = await timelock.getAddress();
    const revoke = (account: string, role = CANCELLER) =>
      timelock.interface.encodeFunctionData("revokeRole", [role, account]);
    return { timelock, address, admin, proposer, guardian, other, CANCELLER, revoke };
  }
  const SALT = ethers.id("salt");

  it("schedule: a single revoke is the removal of its account, who cannot cancel it; another canceller can", async function () {
    const f = await loadFixture(timelockFixture);
    const data = f.revoke(f.guardian.address);
    const id = await f.timelock.hashOperation(f.address, 0, data, ethers.ZeroHash, SALT);
    await expect(f.timelock.connect(f.proposer).schedule(f.address, 0, data, ethers.ZeroHash, SALT, DELAY))
      .to.emit(f.timelock, "RemovalScheduled")
      .withArgs(id, f.guardian.address);
    await expect(f.timelock.connect(f.guardian).cancel(id))
      .to.be.revertedWithCustomError(f.timelock, "TimelockCannotCancelOwnRemoval")
      .withArgs(id, f.guardian.address);
    await expect(f.timelock.connect(f.proposer).cancel(id)).to.emit(f.timelock, "Cancelled").withArgs(id);
  });

  it("schedule: a revoke carrying value, a lone grant or a dirty address word is not a removal (and still schedules)", async function () {
    const f = await loadFixture(timelockFixture);
    const clean = f.revoke(f.guardian.address);
    const dirty = clean.slice(0, 2 + 8 + 64) + "ff" + clean.slice(2 + 8 + 64 + 2);
    const grant = f.timelock.interface.encodeFunctionData("grantRole", [f.CANCELLER, f.other.address]);
    for (const [value, data] of [
      [1n, clean],
      [0n, grant],
      [0n, dirty],
    ] as const) {
      const id = await f.timelock.hashOperation(f.address, value, data, ethers.ZeroHash, SALT);
      await expect(
        f.timelock.connect(f.proposer).schedule(f.address, value, data, ethers.ZeroHash, SALT, DELAY),
      ).not.to.emit(f.timelock, "RemovalScheduled");
      expect(await f.timelock.removalOf(id)).to.equal(ethers.ZeroAddress);
      await expect(f.timelock.connect(f.guardian).cancel(id)).to.emit(f.timelock, "Cancelled").withArgs(id);
    }
  });

  it("scheduleBatch: a revoke carrying value is not a removal", async function () {
    const f = await loadFixture(timelockFixture);
    const targets = [f.address];
    const datas = [f.revoke(f.guardian.address)];
    const id = await f.timelock.hashOperationBatch(targets, [1n], datas, ethers.ZeroHash, SALT);
    await expect(
      f.timelock.connect(f.proposer).scheduleBatch(targets, [1n], datas, ethers.ZeroHash, SALT, DELAY),
    ).not.to.emit(f.timelock, "RemovalScheduled");
    await expect(f.timelock.connect(f.guardian).cancel(id)).to.emit(f.timelock, "Cancelled").withArgs(id);
  });

  it("scheduleBatch: a grant on a target without code, or without hasRole, is not a replacement (and still schedules)", async function () {
    const f = await loadFixture(timelockFixture);
    const wallet = await ethers.deployContract("ERC1271WalletDouble", [f.other.address]);
    for (const target of [f.other.address, await wallet.getAddress()]) {
      const targets = [target, target];
      const datas = [
        f.revoke(f.guardian.address),
        f.timelock.interface.encodeFunctionData("grantRole", [f.CANCELLER, f.proposer.address]),
      ];
      const id = await f.timelock.hashOperationBatch(targets, [0n, 0n], datas, ethers.ZeroHash, SALT);
      await expect(
        f.timelock.connect(f.proposer).scheduleBatch(targets, [0n, 0n], datas, ethers.ZeroHash, SALT, DELAY),
      ).not.to.emit(f.timelock, "RemovalScheduled");
      expect(await f.timelock.removalOf(id)).to.equal(ethers.ZeroAddress);
      await expect(f.timelock.connect(f.guardian).cancel(id)).to.emit(f.timelock, "Cancelled").withArgs(id);
    }
  });

  it("scheduleBatch: revokes alone from one account, on several targets, are its removal", async function () {
    const f = await loadFixture(timelockFixture);
    const targets = [f.address, f.address, f.other.address];
    const datas = [
      f.revoke(f.guardian.address),
      f.revoke(f.guardian.address, await f.timelock.PROPOSER_ROLE()),
      f.revoke(f.guardian.address),
    ];
    const id = await f.timelock.hashOperationBatch(targets, [0n, 0n, 0n], datas, ethers.ZeroHash, SALT);
    await expect(
      f.timelock.connect(f.proposer).scheduleBatch(targets, [0n, 0n, 0n], datas, ethers.ZeroHash, SALT, DELAY),
    )
      .to.emit(f.timelock, "RemovalScheduled")
      .withArgs(id, f.guardian.address);
    await expect(f.timelock.connect(f.guardian).cancel(id))
      .to.be.revertedWithCustomError(f.timelock, "TimelockCannotCancelOwnRemoval")
      .withArgs(id, f.guardian.address);
  });

  it("a removal cancelled by another canceller and scheduled again is a removal again", async function () {
    const f = await loadFixture(timelockFixture);
    const data = f.revoke(f.guardian.address);
    const id = await f.timelock.hashOperation(f.address, 0, data, ethers.ZeroHash, SALT);
    await f.timelock.connect(f.proposer).schedule(f.address, 0, data, ethers.ZeroHash, SALT, DELAY);
    await f.timelock.connect(f.proposer).cancel(id);
    await expect(f.timelock.connect(f.proposer).schedule(f.address, 0, data, ethers.ZeroHash, SALT, DELAY))
      .to.emit(f.timelock, "RemovalScheduled")
      .withArgs(id, f.guardian.address);
    await expect(f.timelock.connect(f.guardian).cancel(id))
      .to.be.revertedWithCustomError(f.timelock, "TimelockCannotCancelOwnRemoval")
      .withArgs(id, f.guardian.address);
  });
});
