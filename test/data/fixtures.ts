import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { DATA_CREDITS_DEFAULTS, deploySuite } from "../../scripts/deploy-suite";
import { DAY, DIMO, WEEK } from "../helpers/fixtures";
import { asTimelock } from "../rewards/fixtures";
import { creditsDomain, signReceipt, type Receipt } from "../../lib/credits/receipts";

export { DAY, DIMO, WEEK, asTimelock };
export const PRICE = DATA_CREDITS_DEFAULTS.pricePerCredit;
export const NOTICE = DATA_CREDITS_DEFAULTS.noticePeriodSeconds;
export const CONSUMER_FUNDS = DIMO(10_000);

/** The suite as deploySuite wires it; consumers A, B, C hold 10,000 DIMO each; nodes N1, N2. */
export async function creditsFixture() {
  const recordPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "credits-dc-")), "hardhat.json");
  const { record } = await deploySuite(hre, { recordPath, reset: true, log: () => undefined });
  const signers = await ethers.getSigners();
  const memberA = signers[2];
  const [consumerA, consumerB, consumerC, node1, node2, outsider] = signers.slice(8, 14);
  const at = (name: string) => record.contracts[name].address;
  const token = await ethers.getContractAt("DimoToken", at("DimoToken"));
  const vault = await ethers.getContractAt("IssuanceVault", at("IssuanceVault"));
  const distributor = await ethers.getContractAt("RewardDistributor", at("RewardDistributor"));
  const credits = await ethers.getContractAt("DataCredits", at("DataCredits"));
  const creditsAddress = at("DataCredits");
  const timelockAddress = at("DimoTimelock");
  for (const c of [consumerA, consumerB, consumerC]) await token.connect(memberA).transfer(c.address, CONSUMER_FUNDS);
  const { chainId } = await ethers.provider.getNetwork();
  const domain = creditsDomain(chainId, creditsAddress);
  return {
    record,
    recordPath,
    consumerA,
    consumerB,
    consumerC,
    node1,
    node2,
    outsider,
    token,
    vault,
    distributor,
    credits,
    creditsAddress,
    timelockAddress,
    domain,
  };
}

export type CreditsContext = Awaited<ReturnType<typeof creditsFixture>>;

export async function deposit(f: CreditsContext, consumer: HardhatEthersSigner, amount: bigint) {
  await f.token.connect(consumer).approve(f.creditsAddress, amount);
  await f.credits.connect(consumer).deposit(consumer.address, amount);
}

export function receipt(
  consumer: HardhatEthersSigner | string,
  node: HardhatEthersSigner | string,
  cumulativeCredits: bigint,
  sequence: bigint,
  maxPricePerCredit: bigint = PRICE,
): Receipt {
  const a = (x: HardhatEthersSigner | string) => (typeof x === "string" ? x : x.address);
  return { consumer: a(consumer), node: a(node), cumulativeCredits, sequence, maxPricePerCredit };
}

export async function signed(f: CreditsContext, signer: HardhatEthersSigner, r: Receipt) {
  return { r, sig: await signReceipt(signer, f.domain, r) };
}
