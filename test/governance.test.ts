import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, mine, time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, DIMO, GOV_DEFAULTS, deployFoundation } from "./helpers/fixtures";

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
