import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { DEFAULT_SCHEDULE_PARAMS, WEEK_SECONDS, nextMonday0500Utc } from "../../lib/issuance";

export const DIMO = (n: bigint | number | string): bigint => ethers.parseEther(String(n));
export const TOTAL_SUPPLY = DIMO(1_000_000_000);
export const POOL = DEFAULT_SCHEDULE_PARAMS.pool;
export const DAY = 86_400;
export const WEEK = WEEK_SECONDS;

export const GOV_DEFAULTS = {
  votingDelay: DAY, // 1 day
  votingPeriod: 7 * DAY, // 7 days
  proposalThreshold: DIMO(100_000),
  quorumPercent: 4,
  timelockDelay: 2 * DAY,
};

export const DEFAULT_VAULT_PARAMS = {
  pool: POOL,
  firstWeekly: 0n,
  weeksPerYear: 52n,
  yearCount: 40n,
  decayBps: 1500n,
};

/**
 * The foundation as the deploy wires it, built directly with ethers: token (45% to the vault, 55% to the
 * Timelock treasury), vault, Timelock and Governor; the deployer's Timelock admin renounced; the guardian
 * holds the Timelock canceller role; `distributor` holds the vault's DISTRIBUTOR_ROLE (granted by the
 * Timelock through an impersonation-free helper: the fixture grants it before renouncing).
 */
export async function foundationFixture() {
  return deployFoundation([]);
}

/** A genesis allocation entry taken out of the treasury's share (e.g. early DAO members in tests). */
export interface ExtraAllocation {
  to: string;
  amount: bigint;
}

export async function deployFoundation(extra: ExtraAllocation[]) {
  const [deployer, guardian, distributor, alice, bob, carol, outsider] = await ethers.getSigners();
  const now = await time.latest();
  const genesis = nextMonday0500Utc(now);

  const timelock = await ethers.deployContract("DimoTimelock", [
    GOV_DEFAULTS.timelockDelay,
    [],
    [ethers.ZeroAddress],
    deployer.address,
  ]);
  const nonce = await deployer.getNonce();
  // The vault is deployed right after the token; predict its address for the genesis allocation.
  const vaultAddress = ethers.getCreateAddress({ from: deployer.address, nonce: nonce + 1 });
  const extraTotal = extra.reduce((sum, e) => sum + e.amount, 0n);
  const token = await ethers.deployContract("DimoToken", [
    [vaultAddress, await timelock.getAddress(), ...extra.map((e) => e.to)],
    [POOL, TOTAL_SUPPLY - POOL - extraTotal, ...extra.map((e) => e.amount)],
  ]);
  const vault = await ethers.deployContract("IssuanceVault", [
    await token.getAddress(),
    genesis,
    DEFAULT_VAULT_PARAMS,
    deployer.address,
  ]);
  if ((await vault.getAddress()) !== vaultAddress) throw new Error("vault address prediction failed");
  const governor = await ethers.deployContract("DimoGovernor", [
    await token.getAddress(),
    await timelock.getAddress(),
    GOV_DEFAULTS.votingDelay,
    GOV_DEFAULTS.votingPeriod,
    GOV_DEFAULTS.proposalThreshold,
    GOV_DEFAULTS.quorumPercent,
  ]);

  // Wiring, then the deployer gives up every power.
  await vault.grantRole(await vault.DISTRIBUTOR_ROLE(), distributor.address);
  await vault.grantRole(await vault.DEFAULT_ADMIN_ROLE(), await timelock.getAddress());
  await vault.renounceRole(await vault.DEFAULT_ADMIN_ROLE(), deployer.address);
  await timelock.grantRole(await timelock.PROPOSER_ROLE(), await governor.getAddress());
  await timelock.grantRole(await timelock.CANCELLER_ROLE(), await governor.getAddress());
  await timelock.grantRole(await timelock.CANCELLER_ROLE(), guardian.address);
  await timelock.renounceRole(await timelock.DEFAULT_ADMIN_ROLE(), deployer.address);

  return { deployer, guardian, distributor, alice, bob, carol, outsider, token, vault, timelock, governor, genesis };
}
