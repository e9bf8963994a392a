import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { Interface, keccak256, toUtf8Bytes } from "ethers";
import {
  decodeSlashCalldata,
  dimoText,
  evidenceHashOf,
  formatDimoGrouped,
  formatDuration,
  nextStep,
  parseEvidenceUri,
  parsePositiveDimo,
  parseProposalId,
  parseRemainder,
  parseSupport,
  planSlash,
  PROPOSAL_STATES,
  type ProposalTally,
  type ProposalTimes,
  quorumReached,
  requiredStake,
  slashCalldata,
  slashDescription,
  slashProposal,
  type SlashPlan,
  stateName,
  stepBlocker,
  unstakeProblem,
  vehiclesCovered,
  voteSucceeded,
  withdrawProblem,
} from "../../lib/governance";
import { problem } from "../helpers/tasks";

const at = (field: string) => ({ source: "task", field });
const DIMO = (n: bigint | number) => BigInt(n) * 10n ** 18n;
const CONSUMER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const STAKING = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
const PARAMS = { baseStake: DIMO(10_000), perVehicleStake: DIMO(10) };
const T0 = 1_796_000_000n; // 2026-11-30T01:33:20Z
const TIMES: ProposalTimes = { snapshot: T0 + 86_400n, deadline: T0 + 8n * 86_400n, eta: 0n };
const PASSING: ProposalTally = { for: DIMO(60_000_000), against: 0n, abstain: 0n, quorum: DIMO(40_000_000) };
const iso = (t: bigint) => new Date(Number(t) * 1000).toISOString().replace(".000Z", "Z");

function plan(overrides: Partial<Parameters<typeof planSlash>[0]> = {}): SlashPlan {
  return planSlash(
    {
      consumer: CONSUMER.toLowerCase(),
      amount: DIMO(8_000),
      compensation: DIMO(6_000),
      remainder: "burn",
      evidenceHash: evidenceHashOf(URI),
      evidenceURI: URI,
      position: { staked: DIMO(10_000), unbonding: DIMO(2_000) },
      frozenAt: T0 - 100n,
      now: T0,
      ...overrides,
    },
    at,
  );
}

describe("lib/governance", function () {
  describe("amounts and durations", function () {
    it("groups whole DIMO and keeps every significant decimal", function () {
      expect(formatDimoGrouped(DIMO(100_000))).to.equal("100,000");
      expect(formatDimoGrouped(DIMO(10_000) + 5n * 10n ** 17n)).to.equal("10,000.5");
      expect(formatDimoGrouped(1n)).to.equal("0.000000000000000001");
      expect(dimoText(DIMO(60_000_000))).to.equal("60,000,000 DIMO");
    });

    it("writes durations in days, hours, minutes and seconds", function () {
      expect(formatDuration(14n * 86_400n)).to.equal("14 d");
      expect(formatDuration(86_400 + 7_200 + 5)).to.equal("1 d 2 h 5 s");
      expect(formatDuration(0)).to.equal("0 s");
    });

    it("parses a positive DIMO amount and refuses zero or junk, naming the argument", function () {
      expect(parsePositiveDimo("12000.5", at("--amount"))).to.equal(DIMO(12_000) + 5n * 10n ** 17n);
      expect(problem(() => parsePositiveDimo("0", at("--amount")))).to.equal("task --amount: must be more than 0");
      expect(problem(() => parsePositiveDimo("1e3", at("--amount")))).to.match(
        /^task --amount: expected a non-negative/,
      );
    });
  });

  describe("staking checks", function () {
    it("computes the required stake and how many vehicles a stake covers", function () {
      expect(requiredStake(PARAMS, 3)).to.equal(DIMO(10_030));
      expect(vehiclesCovered(PARAMS, DIMO(12_000))).to.equal(200n);
      expect(vehiclesCovered(PARAMS, DIMO(9_999))).to.equal(0n);
      expect(vehiclesCovered({ baseStake: 0n, perVehicleStake: 0n }, 0n)).to.equal(undefined);
    });

    it("lets an unstake through when what stays covers the grants", function () {
      const position = { staked: DIMO(12_000), unbonding: 0n, vehiclesAccessed: 3n };
      expect(unstakeProblem(position, DIMO(1_970), PARAMS)).to.equal(undefined);
      expect(unstakeProblem({ ...position, vehiclesAccessed: 0n }, DIMO(12_000), PARAMS)).to.equal(undefined);
    });

    it("refuses an unstake that would uncover the grants, saying how many vehicles and how much they need", function () {
      const position = { staked: DIMO(12_000), unbonding: 0n, vehiclesAccessed: 3n };
      expect(unstakeProblem(position, DIMO(1_971), PARAMS)).to.equal(
        "what would remain (10,029 DIMO) does not cover the current grants: 3 vehicles require 10,030 DIMO; at most 1,970 DIMO can be unstaked now (or have grants revoked first)",
      );
      expect(unstakeProblem({ ...position, vehiclesAccessed: 1n }, DIMO(12_000), PARAMS)).to.match(
        /1 vehicle require 10,010 DIMO; at most 1,990 DIMO/,
      );
    });

    it("refuses an unstake above the active stake", function () {
      expect(unstakeProblem({ staked: DIMO(5), unbonding: DIMO(7), vehiclesAccessed: 0n }, DIMO(6), PARAMS)).to.equal(
        "only 5 DIMO is staked (7 DIMO already unbonding)",
      );
    });

    it("says why a withdrawal must wait: nothing unbonding, still unbonding, then frozen", function () {
      const p = { staked: DIMO(1), unbonding: DIMO(2_000), releaseAt: T0 + 10n, frozenUntil: T0 + 20n };
      expect(withdrawProblem({ ...p, unbonding: 0n }, T0)).to.match(/^nothing is unbonding .*staking:unstake/);
      expect(withdrawProblem(p, T0)).to.equal(`2,000 DIMO is unbonding until ${iso(T0 + 10n)}`);
      expect(withdrawProblem(p, T0 + 10n)).to.equal(`the stake is frozen until ${iso(T0 + 20n)}`);
      expect(withdrawProblem(p, T0 + 20n)).to.equal(undefined);
    });
  });

  describe("arguments", function () {
    it("maps vote support names to GovernorCountingSimple's values", function () {
      expect(parseSupport("for", at("--support"))).to.deep.equal({ name: "for", value: 1 });
      expect(parseSupport(" Against ", at("--support"))).to.deep.equal({ name: "against", value: 0 });
      expect(parseSupport("abstain", at("--support")).value).to.equal(2);
      expect(problem(() => parseSupport("yes", at("--support")))).to.equal(
        'task --support: expected for, against or abstain, got "yes"',
      );
      expect(problem(() => parseSupport("toString", at("--support")))).to.match(/--support: expected/);
    });

    it("maps the remainder to IConsumerStaking.Remainder", function () {
      expect(parseRemainder("burn", at("--remainder")).value).to.equal(0);
      expect(parseRemainder("TREASURY", at("--remainder")).value).to.equal(1);
      expect(problem(() => parseRemainder("keep", at("--remainder")))).to.match(
        /--remainder: expected burn or treasury/,
      );
    });

    it("parses decimal and hex proposal ids, refusing zero, junk and values above uint256", function () {
      const big = (2n ** 256n - 1n).toString();
      expect(parseProposalId(big, at("--proposal"))).to.equal(2n ** 256n - 1n);
      expect(parseProposalId("0xff", at("--proposal"))).to.equal(255n);
      for (const bad of ["0", "-1", "12a", "", (2n ** 256n).toString(), "007"]) {
        expect(problem(() => parseProposalId(bad, at("--proposal")))).to.match(
          /^task --proposal: expected a proposal id/,
        );
      }
    });

    it("accepts evidence URIs with a scheme and refuses spaces, control characters and bare words", function () {
      expect(parseEvidenceUri(` ${URI} `, at("--evidence"))).to.equal(URI);
      expect(problem(() => parseEvidenceUri("", at("--evidence")))).to.match(/must not be empty/);
      expect(problem(() => parseEvidenceUri("https://x.org/a b", at("--evidence")))).to.match(/" " is not allowed/);
      expect(problem(() => parseEvidenceUri("report.pdf", at("--evidence")))).to.match(/a URI with a scheme/);
      expect(problem(() => parseEvidenceUri(`ipfs://${"a".repeat(1100)}`, at("--evidence")))).to.match(/at most 1024/);
    });

    it("hashes the evidence file's bytes, or the URI text", function () {
      expect(evidenceHashOf(URI)).to.equal(keccak256(toUtf8Bytes(URI)));
      expect(evidenceHashOf(new Uint8Array([1, 2, 3]))).to.equal(keccak256(new Uint8Array([1, 2, 3])));
    });
  });

  describe("slash proposals", function () {
    it("uses affectedAsOf 0 (the freeze time) when the consumer was frozen, else the current time", function () {
      expect(plan().affectedAsOf).to.equal(0n);
      expect(plan({ frozenAt: 0n }).affectedAsOf).to.equal(T0);
    });

    it("defaults the compensation to the whole amount and checksums the consumer", function () {
      const p = plan({ compensation: undefined });
      expect(p.compensation).to.equal(DIMO(8_000));
      expect(p.consumer).to.equal(CONSUMER);
    });

    it("refuses more than staked + unbonding and a compensation above the amount, naming the argument", function () {
      expect(problem(() => plan({ amount: DIMO(12_001) }))).to.equal(
        `task --amount: 12,001 DIMO exceeds what ${CONSUMER.toLowerCase()} can be slashed: staked 10,000 DIMO + unbonding 2,000 DIMO = 12,000 DIMO`,
      );
      expect(plan({ amount: DIMO(12_000) }).amount).to.equal(DIMO(12_000));
      expect(problem(() => plan({ compensation: DIMO(8_001) }))).to.equal(
        "task --compensation: 8,001 DIMO exceeds the slashed amount 8,000 DIMO",
      );
      expect(problem(() => plan({ amount: 0n }))).to.equal("task --amount: must be more than 0");
    });

    it("encodes exactly what the compiled ConsumerStaking ABI encodes", function () {
      const artifact = path.join(
        __dirname,
        "../../artifacts/contracts/staking/ConsumerStaking.sol/ConsumerStaking.json",
      );
      const compiled = new Interface(JSON.parse(fs.readFileSync(artifact, "utf8")).abi);
      const p = plan({ remainder: "treasury" });
      expect(slashCalldata(p)).to.equal(
        compiled.encodeFunctionData("slash", [CONSUMER, DIMO(8_000), DIMO(6_000), 1, 0, p.evidenceHash, URI]),
      );
      expect(decodeSlashCalldata(slashCalldata(p))).to.deep.equal({
        consumer: CONSUMER,
        amount: DIMO(8_000),
        compensation: DIMO(6_000),
        remainder: "treasury",
        affectedAsOf: 0n,
        evidenceHash: p.evidenceHash,
        evidenceURI: URI,
      });
      expect(decodeSlashCalldata(compiled.encodeFunctionData("withdraw"))).to.equal(undefined);
    });

    it("describes the slash deterministically, title line first", function () {
      const text = slashDescription(plan());
      expect(text).to.equal(slashDescription(plan()));
      expect(text.split("\n")).to.deep.equal([
        `Slash ${CONSUMER} 8000 DIMO (compensation 6000 DIMO, remainder 2000 DIMO burned): ${URI}`,
        "",
        `The compensation goes to the reward distributor for the owners of the vehicles the consumer could read as of the guardian's freeze (${iso(T0 - 100n)}).`,
        `Evidence keccak256: ${evidenceHashOf(URI)}`,
      ]);
      expect(slashDescription(plan({ compensation: undefined }))).to.match(/compensation 8000 DIMO, no remainder\)/);
      expect(slashDescription(plan({ remainder: "treasury", frozenAt: 0n }))).to.match(
        new RegExp(
          `remainder 2000 DIMO to the treasury\\).*\\n\\n.*as of ${iso(T0)} \\(the consumer was not frozen\\)`,
        ),
      );
    });

    it("builds one value-less call to the staking contract with the description's hash", function () {
      const p = slashProposal(plan(), STAKING.toLowerCase());
      expect(p.targets).to.deep.equal([STAKING]);
      expect(p.values).to.deep.equal([0n]);
      expect(p.calldatas).to.deep.equal([slashCalldata(plan())]);
      expect(p.descriptionHash).to.equal(keccak256(toUtf8Bytes(p.description)));
    });
  });

  describe("proposal states", function () {
    it("names IGovernor.ProposalState values in enum order", function () {
      expect(PROPOSAL_STATES.map((_, i) => stateName(i))).to.deep.equal([
        "Pending",
        "Active",
        "Canceled",
        "Defeated",
        "Succeeded",
        "Queued",
        "Expired",
        "Executed",
      ]);
      expect(stateName(5n)).to.equal("Queued");
      expect(() => stateName(8)).to.throw(/unknown proposal state 8/);
    });

    it("counts for + abstain toward the quorum and needs more for than against", function () {
      const t = { for: 10n, against: 10n, abstain: 5n, quorum: 15n };
      expect(quorumReached(t)).to.equal(true);
      expect(voteSucceeded(t)).to.equal(false);
      expect(quorumReached({ ...t, abstain: 4n })).to.equal(false);
      expect(voteSucceeded({ ...t, for: 11n })).to.equal(true);
    });
  });

  describe("what must happen first", function () {
    const opens = iso(TIMES.snapshot + 1n);
    const ends = iso(TIMES.deadline);
    const queued = { ...TIMES, eta: TIMES.deadline + 10n + 172_800n };
    const defeated = { for: DIMO(20_000_000), against: 0n, abstain: 0n, quorum: DIMO(40_000_000) };

    it("lets each step through in its own state", function () {
      expect(stepBlocker("vote", "Active", TIMES, PASSING, T0)).to.equal(undefined);
      expect(stepBlocker("queue", "Succeeded", TIMES, PASSING, T0)).to.equal(undefined);
      expect(stepBlocker("execute", "Queued", queued, PASSING, queued.eta)).to.equal(undefined);
    });

    it("voting on a pending proposal: voting opens at the second after the snapshot", function () {
      expect(stepBlocker("vote", "Pending", TIMES, PASSING, T0)).to.equal(
        `voting opens at ${opens} (and ends at ${ends})`,
      );
    });

    it("voting after the vote: it ended, and what comes next", function () {
      expect(stepBlocker("vote", "Succeeded", TIMES, PASSING, T0)).to.equal(
        `voting ended at ${ends}; the proposal passed: queue it (gov:queue)`,
      );
      expect(stepBlocker("vote", "Queued", queued, PASSING, T0)).to.match(/queued until/);
      expect(stepBlocker("vote", "Defeated", TIMES, defeated, T0)).to.match(/^the proposal was defeated/);
    });

    it("queueing a pending or active proposal: when voting ends", function () {
      expect(stepBlocker("queue", "Pending", TIMES, PASSING, T0)).to.equal(
        `voting opens at ${opens} and ends at ${ends}; it can be queued after that if it passes`,
      );
      expect(stepBlocker("queue", "Active", TIMES, PASSING, T0)).to.match(
        new RegExp(`^voting ends at ${ends}; it can be queued after that if it passes \\(for 60,000,000, against 0`),
      );
    });

    it("queueing a defeated proposal: the tally and the quorum", function () {
      expect(stepBlocker("queue", "Defeated", TIMES, defeated, T0)).to.equal(
        "the proposal was defeated: for 20,000,000, against 0, quorum 40,000,000 (for + abstain (20,000,000) did not reach the quorum); it cannot be queued or executed",
      );
      expect(stepBlocker("queue", "Defeated", TIMES, { ...PASSING, against: DIMO(60_000_000) }, T0)).to.match(
        /\(for did not exceed against\)/,
      );
    });

    it("queueing twice: already queued, executable from the eta", function () {
      expect(stepBlocker("queue", "Queued", queued, PASSING, T0)).to.equal(
        `already queued; it can be executed from ${iso(queued.eta)} (gov:execute)`,
      );
    });

    it("executing before the eta, before queueing, or before the vote ends", function () {
      expect(stepBlocker("execute", "Queued", queued, PASSING, queued.eta - 1n)).to.equal(
        `queued until ${iso(queued.eta)}`,
      );
      expect(stepBlocker("execute", "Succeeded", TIMES, PASSING, T0)).to.equal("queue it first (gov:queue)");
      expect(stepBlocker("execute", "Active", TIMES, PASSING, T0)).to.match(
        new RegExp(`^voting ends at ${ends}; then`),
      );
      expect(stepBlocker("execute", "Pending", TIMES, PASSING, T0)).to.match(new RegExp(`^voting opens at ${opens}`));
    });

    it("any step on a final proposal says it is over", function () {
      for (const step of ["vote", "queue", "execute"] as const) {
        expect(stepBlocker(step, "Executed", queued, PASSING, T0)).to.equal("the proposal was already executed");
        expect(stepBlocker(step, "Canceled", TIMES, PASSING, T0)).to.match(/^the proposal was canceled/);
        expect(stepBlocker(step, "Expired", TIMES, PASSING, T0)).to.match(/^the proposal expired/);
      }
    });

    it("says what comes next in every state", function () {
      const delay = 172_800n;
      expect(nextStep("Pending", TIMES, PASSING, T0, delay)).to.equal(
        `voting opens at ${opens} (gov:vote) and ends at ${ends}`,
      );
      expect(nextStep("Active", TIMES, PASSING, T0, delay)).to.match(/it would pass as things stand$/);
      expect(nextStep("Active", TIMES, { ...PASSING, for: DIMO(30_000_000) }, T0, delay)).to.match(
        /it needs 10,000,000 more for\/abstain votes to reach the quorum$/,
      );
      expect(nextStep("Active", TIMES, { ...PASSING, against: DIMO(70_000_000) }, T0, delay)).to.match(
        /would be defeated as things stand/,
      );
      expect(nextStep("Succeeded", TIMES, PASSING, T0, delay)).to.equal(
        `queue it (gov:queue); the timelock delay (2 d) then runs: executable from ${iso(T0 + 1n + delay)} at the earliest`,
      );
      expect(nextStep("Queued", queued, PASSING, T0, delay)).to.equal(
        `queued until ${iso(queued.eta)}; then execute it (gov:execute)`,
      );
      expect(nextStep("Queued", queued, PASSING, queued.eta, delay)).to.equal("ready: execute it (gov:execute)");
      expect(nextStep("Executed", queued, PASSING, T0, delay)).to.equal("nothing: the proposal was executed");
      expect(nextStep("Defeated", TIMES, defeated, T0, delay)).to.match(/^the proposal was defeated/);
    });
  });
});
