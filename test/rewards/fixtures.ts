import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { DAY, DIMO, WEEK, deployFoundation } from "../helpers/fixtures";

/** Runs `fn` as the Timelock (impersonated): what a passed proposal would do. */
export async function asTimelock<T>(
  timelockAddress: string,
  fn: (signer: Awaited<ReturnType<typeof ethers.getSigner>>) => Promise<T>,
) {
  await ethers.provider.send("hardhat_impersonateAccount", [timelockAddress]);
  await ethers.provider.send("hardhat_setBalance", [timelockAddress, "0x56BC75E2D63100000"]);
  try {
    return await fn(await ethers.getSigner(timelockAddress));
  } finally {
    await ethers.provider.send("hardhat_stopImpersonatingAccount", [timelockAddress]);
  }
}

/** Policy hash the test distributor starts with. */
export const DEFAULT_POLICY_HASH = ethers.id("test rewards policy v1");
/** Dispute bond of the test distributor. */
export const DISPUTE_BOND = DIMO(10_000);

/** Foundation + RewardDistributor holding the vault's DISTRIBUTOR_ROLE, a funder with 10M DIMO. */
export async function distributorFixture() {
  const signers = await ethers.getSigners();
  const [, , , , , , , publisher, funder] = signers;
  const f = await deployFoundation([{ to: funder.address, amount: DIMO(10_000_000) }]);
  const timelock = await f.timelock.getAddress();
  const distributor = await ethers.deployContract("RewardDistributor", [
    await f.token.getAddress(),
    await f.vault.getAddress(),
    timelock,
    publisher.address,
    f.guardian.address,
    DAY,
    DEFAULT_POLICY_HASH,
    DISPUTE_BOND,
  ]);
  await asTimelock(timelock, async (tl) =>
    f.vault.connect(tl).grantRole(await f.vault.DISTRIBUTOR_ROLE(), await distributor.getAddress()),
  );
  return { ...f, distributor, publisher, funder, timelockAddress: timelock };
}

/** distributorFixture with three weeks of issuance pulled in (≈3.9M DIMO). */
export async function fundedDistributorFixture() {
  const f = await distributorFixture();
  await time.increaseTo(f.genesis + 3 * WEEK);
  await f.distributor.pullIssuance();
  return f;
}
