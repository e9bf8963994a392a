import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { ContractTransactionResponse, Log } from "ethers";
import { deploySuite } from "../../scripts/deploy-suite";
import { DAY, DIMO } from "../helpers/fixtures";
import { mintVehicle, permissionsOf, vehicleInfo } from "../registry/fixtures";
import { asTimelock } from "../rewards/fixtures";
import { PERMIT_TYPES } from "../../lib/typed-data";
import { randomConsentNonce, signAccessConsent } from "../../lib/access-consent";

export { DAY, DIMO, asTimelock };

/** `config/deploy/hardhat.json`: requiredStake(n) = 10,000 + 10·n DIMO, 14-day unbonding, 21-day freeze. */
export const BASE_STAKE = DIMO(10_000);
export const PER_VEHICLE_STAKE = DIMO(10);
export const UNBONDING_PERIOD = 14 * DAY; // seconds
export const FREEZE_DURATION = 21 * DAY; // seconds
/** Voting delay 1 day + voting period 7 days + timelock delay 2 days. */
export const GOVERNANCE_CYCLE = DAY + 7 * DAY + 2 * DAY; // 864,000 s
export const VOTING_DELAY = DAY;
export const VOTING_PERIOD = 7 * DAY;
export const TIMELOCK_DELAY = 2 * DAY;
/** `ConsumerStaking` constants. */
export const CYCLE_MARGIN = DAY;
export const MAX_FREEZE_DURATION = 60 * DAY;
export const MAX_UNBONDING_PERIOD = 365 * DAY;
/** The DIMO supply: the largest base or per-vehicle stake. */
export const MAX_STAKE_PARAMETER = DIMO(1_000_000_000);
/** `config/deploy/hardhat.json` minGrantAgeSeconds, and the contract's bounds. */
export const MIN_GRANT_AGE = 7 * DAY;
export const MIN_MIN_GRANT_AGE = DAY;
export const MAX_MIN_GRANT_AGE = 90 * DAY;
export const GUARDIAN_ROLE = ethers.id("GUARDIAN_ROLE");
export const DEFAULT_ADMIN_ROLE = ethers.ZeroHash;

/** `IConsumerStaking.Remainder`. */
export const Remainder = { Burn: 0, Treasury: 1 } as const;
/** Governor `ProposalState` and vote types. */
export const ProposalState = { Pending: 0, Active: 1, Succeeded: 4, Queued: 5, Executed: 7 } as const;
export const VoteType = { Against: 0, For: 1, Abstain: 2 } as const;

/** DIMO each consumer receives from a DAO member. */
export const CONSUMER_FUNDS = DIMO(100_000);
/** Location, odometer and fuel/battery level. */
export const PERMISSIONS = permissionsOf(0, 1, 2);
export const NUMBER_OF_VEHICLES = 6;

export const EVIDENCE_HASH = ethers.id("evidence: consumer resold location data (report 2026-12-01)");
export const EVIDENCE_URI = "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

/** `baseStake + perVehicleStake · vehicles` with the default parameters. */
export function requiredStake(vehicles: number | bigint): bigint {
  return BASE_STAKE + PER_VEHICLE_STAKE * BigInt(vehicles);
}

/** The `reason` ConsumerStaking passes to `RewardDistributor.fund`: `bytes32("compensation:" ‖ uint32(slashId))`. */
export function compensationReason(slashId: number | bigint): string {
  const packed = ethers.concat([ethers.toUtf8Bytes("compensation:"), ethers.toBeHex(slashId, 4)]);
  return ethers.zeroPadBytes(packed, 32);
}

/**
 * The whole suite as `deploySuite` deploys and wires it on the in-process network (tmp record): DataAccess's
 * capacity is ConsumerStaking and the Timelock administers both. The DAO members (accounts 2 and 3) gave
 * three consumers 100,000 DIMO each; four drivers minted six vehicles (vehicle `i` belongs to `drivers[i % 4]`)
 * through `VehicleRegistry.mintVehicle`. Nobody has staked, granted or delegated yet.
 */
export async function stakingFixture() {
  const recordDir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-staking-"));
  const recordPath = path.join(recordDir, "hardhat.json");
  const { record } = await deploySuite(hre, { recordPath, reset: true, log: () => undefined });
  const signers = await ethers.getSigners();
  const [deployer, guardian, memberA, memberB, manufacturer, software, oem, publisher] = signers;
  const [consumerA, consumerB, consumerC] = signers.slice(8, 11);
  const drivers = signers.slice(11, 15);
  const outsider = signers[15];
  const at = (name: string) => record.contracts[name].address;

  const token = await ethers.getContractAt("DimoToken", at("DimoToken"));
  const timelock = await ethers.getContractAt("DimoTimelock", at("DimoTimelock"));
  const governor = await ethers.getContractAt("DimoGovernor", at("DimoGovernor"));
  const vehicles = await ethers.getContractAt("VehicleRegistry", at("VehicleRegistry"));
  const access = await ethers.getContractAt("DataAccess", at("DataAccess"));
  const distributor = await ethers.getContractAt("RewardDistributor", at("RewardDistributor"));
  const staking = await ethers.getContractAt("ConsumerStaking", at("ConsumerStaking"));
  const stakingAddress = at("ConsumerStaking");
  const timelockAddress = at("DimoTimelock");

  await token.connect(memberA).transfer(consumerA.address, CONSUMER_FUNDS);
  await token.connect(memberA).transfer(consumerB.address, CONSUMER_FUNDS);
  await token.connect(memberB).transfer(consumerC.address, CONSUMER_FUNDS);

  const vehicleIds: bigint[] = [];
  const vehicleOwners: HardhatEthersSigner[] = [];
  for (let i = 0; i < NUMBER_OF_VEHICLES; i++) {
    const owner = drivers[i % drivers.length];
    vehicleIds.push(await mintVehicle(vehicles, owner, vehicleInfo({}, `STAKING-VIN-${i}`)));
    vehicleOwners.push(owner);
  }

  return {
    record,
    /** The folder of the deployment record (DEPLOYMENTS_DIR_ENV for tasks run in process). */
    recordDir,
    signers,
    deployer,
    guardian,
    memberA,
    memberB,
    manufacturer,
    software,
    oem,
    publisher,
    consumerA,
    consumerB,
    consumerC,
    drivers,
    outsider,
    token,
    timelock,
    governor,
    vehicles,
    access,
    distributor,
    staking,
    stakingAddress,
    timelockAddress,
    vehicleIds,
    vehicleOwners,
  };
}

export type StakingContext = Awaited<ReturnType<typeof stakingFixture>>;

/** `consumer` approves and stakes `amount`. */
export async function stake(f: StakingContext, consumer: HardhatEthersSigner, amount: bigint): Promise<void> {
  await f.token.connect(consumer).approve(f.stakingAddress, amount);
  await f.staking.connect(consumer).stake(amount);
}

/** The consumer's signed offer (`AccessConsent`) of `vehicleId` to `owner`, with a fresh unordered nonce. */
export async function consentFor(
  access: StakingContext["access"],
  consumer: HardhatEthersSigner,
  vehicleId: bigint,
  owner: string,
  permissions: bigint,
  expiresAt: bigint,
  deadline?: bigint,
): Promise<{ nonce: bigint; deadline: bigint; signature: string }> {
  const { chainId } = await ethers.provider.getNetwork();
  const nonce = randomConsentNonce();
  const until = deadline ?? BigInt((await time.latest()) + DAY);
  const signature = await signAccessConsent(
    consumer,
    { chainId, verifyingContract: await access.getAddress() },
    { vehicleId, owner, permissions, expiresAt, nonce, deadline: until },
  );
  return { nonce, deadline: until, signature };
}

/**
 * The owner of vehicle `index` grants `consumer` a one-year access with the consumer's signed offer, as an app
 * onboards a driver (the transaction, not awaited).
 */
export async function grant(
  f: StakingContext,
  index: number,
  consumer: HardhatEthersSigner | string,
): Promise<ContractTransactionResponse> {
  const address = typeof consumer === "string" ? consumer : consumer.address;
  const signer = typeof consumer === "string" ? f.signers.find((s) => s.address === address)! : consumer;
  const expiresAt = BigInt((await time.latest()) + 365 * DAY);
  const owner = f.vehicleOwners[index];
  const vehicleId = f.vehicleIds[index];
  const c = await consentFor(f.access, signer, vehicleId, owner.address, PERMISSIONS, expiresAt);
  return f.access
    .connect(owner)
    .grantWithConsent(vehicleId, address, PERMISSIONS, expiresAt, c.nonce, c.deadline, c.signature);
}

/** Grants `consumer` the vehicles `indexes`, one transaction each, waiting for each. */
export async function grantAll(f: StakingContext, indexes: number[], consumer: HardhatEthersSigner): Promise<void> {
  for (const i of indexes) await (await grant(f, i, consumer)).wait();
}

/** Runs `fn` as the Timelock (impersonated), as a passed proposal would. */
export function asDao<T>(f: StakingContext, fn: (timelock: HardhatEthersSigner) => Promise<T>): Promise<T> {
  return asTimelock(f.timelockAddress, fn);
}

/** Signs an EIP-2612 permit of the DIMO token for `spender`. */
export async function signPermit(
  f: StakingContext,
  owner: HardhatEthersSigner,
  spender: string,
  value: bigint,
  deadline: bigint,
): Promise<{ v: number; r: string; s: string }> {
  const { chainId } = await ethers.provider.getNetwork();
  const domain = {
    name: await f.token.name(),
    version: "1",
    chainId,
    verifyingContract: await f.token.getAddress(),
  };
  const nonce = await f.token.nonces(owner.address);
  const signature = await owner.signTypedData(domain, PERMIT_TYPES, {
    owner: owner.address,
    spender,
    value,
    nonce,
    deadline,
  });
  const { v, r, s } = ethers.Signature.from(signature);
  return { v, r, s };
}

/** Both DAO members delegate their votes to themselves; a second later their votes count for proposals. */
export async function delegateMembers(f: StakingContext): Promise<void> {
  await f.token.connect(f.memberA).delegate(f.memberA.address);
  await f.token.connect(f.memberB).delegate(f.memberB.address);
  await time.increase(1);
}

/** A Governor proposal (targets, values, calldatas, description, its hash and id). */
export interface Proposal {
  targets: string[];
  values: bigint[];
  calldatas: string[];
  description: string;
  descriptionHash: string;
  proposalId: bigint;
}

export async function proposal(
  f: StakingContext,
  calls: { target: string; data: string }[],
  description: string,
): Promise<Proposal> {
  const targets = calls.map((c) => c.target);
  const values = calls.map(() => 0n);
  const calldatas = calls.map((c) => c.data);
  const descriptionHash = ethers.id(description);
  const proposalId = await f.governor.hashProposal(targets, values, calldatas, descriptionHash);
  return { targets, values, calldatas, description, descriptionHash, proposalId };
}

/** Member A proposes. */
export async function propose(f: StakingContext, p: Proposal): Promise<ContractTransactionResponse> {
  return f.governor.connect(f.memberA).propose(p.targets, p.values, p.calldatas, p.description);
}

/** Waits for the vote to open, both members vote for, waits for the vote to close, queues. */
export async function voteAndQueue(f: StakingContext, p: Proposal): Promise<void> {
  await time.increaseTo(await f.governor.proposalSnapshot(p.proposalId));
  await time.increase(1);
  await f.governor.connect(f.memberA).castVote(p.proposalId, VoteType.For);
  await f.governor.connect(f.memberB).castVote(p.proposalId, VoteType.For);
  await time.increaseTo(await f.governor.proposalDeadline(p.proposalId));
  await time.increase(1);
  await f.governor.queue(p.targets, p.values, p.calldatas, p.descriptionHash);
}

/** Waits for the timelock's ETA, then executes (the transaction, not awaited). */
export async function executeWhenReady(f: StakingContext, p: Proposal): Promise<ContractTransactionResponse> {
  const eta = await f.governor.proposalEta(p.proposalId);
  if (BigInt(await time.latest()) < eta) await time.increaseTo(eta);
  return f.governor.execute(p.targets, p.values, p.calldatas, p.descriptionHash);
}

/** Delegation (if not yet), proposal, votes, queue and execution of `calls`: a passed DAO vote. */
export async function passProposal(
  f: StakingContext,
  calls: { target: string; data: string }[],
  description: string,
): Promise<ContractTransactionResponse> {
  if ((await f.token.delegates(f.memberA.address)) === ethers.ZeroAddress) await delegateMembers(f);
  const p = await proposal(f, calls, description);
  await (await propose(f, p)).wait();
  await voteAndQueue(f, p);
  return executeWhenReady(f, p);
}

/**
 * The vehicles `consumer` held a grant record for at the end of block `atBlock`, re-derived from DataAccess's
 * AccessGranted / AccessRevoked events (what the rewards pipeline does to find the drivers to compensate).
 */
export async function vehiclesGrantedAsOf(f: StakingContext, consumer: string, atBlock: number): Promise<bigint[]> {
  const granted = await f.access.queryFilter(f.access.filters.AccessGranted(undefined, consumer), 0, atBlock);
  const revoked = await f.access.queryFilter(f.access.filters.AccessRevoked(undefined, consumer), 0, atBlock);
  const order = (e: Log) => e.blockNumber * 1_000_000 + e.index;
  const events = [
    ...granted.map((e) => ({ order: order(e), vehicleId: e.args.vehicleId, live: true })),
    ...revoked.map((e) => ({ order: order(e), vehicleId: e.args.vehicleId, live: false })),
  ].sort((a, b) => a.order - b.order);
  const live = new Set<bigint>();
  for (const e of events) {
    if (e.live) live.add(e.vehicleId);
    else live.delete(e.vehicleId);
  }
  return [...live].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
