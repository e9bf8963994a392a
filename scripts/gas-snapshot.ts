/**
 * Measures the gas of the user-facing calls on the in-process Hardhat network and writes
 * `gas-snapshot.json` (a flat object: operation → gas used, keys sorted).
 *   npm run gas:snapshot   regenerate the file
 *   npm run gas:check      compare with the committed file; any difference fails (exit 1)
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre, { ethers } from "hardhat";
import type { ContractTransactionResponse } from "ethers";
import { creditsDomain, signReceipt } from "../lib/credits/receipts";
import { deploySuite } from "./deploy-suite";
import { signAccessConsent } from "../lib/access-consent";
import {
  DOMAIN_VERSION,
  MINT_VEHICLE_TYPES,
  PAIR_DEVICE_TYPES,
  PERMIT_TYPES,
  REGISTRY_DOMAIN_NAME,
  TOKEN_DOMAIN_NAME,
} from "../lib/typed-data";

const SNAPSHOT = path.join(hre.config.paths.root, "gas-snapshot.json");

async function gasOf(tx: Promise<ContractTransactionResponse>): Promise<number> {
  const receipt = await (await tx).wait();
  return Number(receipt!.gasUsed);
}

async function measure(): Promise<Record<string, number>> {
  const gas: Record<string, number> = {};
  const recordPath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dimo-gas-")), "hardhat.json");
  const { record } = await deploySuite(hre, { recordPath, reset: true, log: () => undefined });
  for (const [name, c] of Object.entries(record.contracts)) {
    gas[`deploy.${name}`] = Number((await ethers.provider.getTransactionReceipt(c.txHash))!.gasUsed);
  }
  const signers = await ethers.getSigners();
  const [, , memberA, memberB, user1, user2, user3] = signers;
  const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
  const vault = await ethers.getContractAt("IssuanceVault", record.contracts.IssuanceVault.address);
  const governor = await ethers.getContractAt("DimoGovernor", record.contracts.DimoGovernor.address);
  const timelockAddress = record.contracts.DimoTimelock.address;

  // Token: plain transfers between accounts that have not delegated, recipient already holding DIMO.
  await token.connect(memberB).transfer(user1.address, ethers.parseEther("1000"));
  await token.connect(memberB).transfer(user2.address, ethers.parseEther("1000"));
  gas["token.transfer"] = await gasOf(token.connect(user1).transfer(user2.address, ethers.parseEther("1")));
  gas["token.transfer.newHolder"] = await gasOf(token.connect(user1).transfer(user3.address, ethers.parseEther("1")));
  gas["token.approve"] = await gasOf(token.connect(user1).approve(user2.address, ethers.parseEther("10")));
  gas["token.transferFrom"] = await gasOf(
    token.connect(user2).transferFrom(user1.address, user2.address, ethers.parseEther("1")),
  );
  const deadline = 2n ** 255n;
  const { chainId } = await ethers.provider.getNetwork();
  const sig = ethers.Signature.from(
    await user1.signTypedData(
      { name: TOKEN_DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract: await token.getAddress() },
      PERMIT_TYPES,
      { owner: user1.address, spender: user3.address, value: ethers.parseEther("5"), nonce: 0n, deadline },
    ),
  );
  gas["token.permit"] = await gasOf(
    token.connect(user3).permit(user1.address, user3.address, ethers.parseEther("5"), deadline, sig.v, sig.r, sig.s),
  );
  gas["token.delegate"] = await gasOf(token.connect(user1).delegate(user1.address));
  gas["token.transfer.delegated"] = await gasOf(token.connect(user1).transfer(user2.address, ethers.parseEther("1")));

  // Vault, measured on its own and then rolled back: the Timelock grants the distributor role to an EOA
  // (impersonated here; on a real network a proposal) so that each release is the vault's cost alone.
  const beforeVault = await ethers.provider.send("evm_snapshot", []);
  const [distributor] = signers.slice(10);
  await ethers.provider.send("hardhat_impersonateAccount", [timelockAddress]);
  await ethers.provider.send("hardhat_setBalance", [timelockAddress, "0xde0b6b3a7640000"]);
  const timelockSigner = await ethers.getSigner(timelockAddress);
  await vault.connect(timelockSigner).grantRole(await vault.DISTRIBUTOR_ROLE(), distributor.address);
  await ethers.provider.send("hardhat_stopImpersonatingAccount", [timelockAddress]);
  const genesis = Number(await vault.genesis());
  const WEEK = 604_800;
  const at = async (t: number) => ethers.provider.send("evm_setNextBlockTimestamp", [t]);
  await at(genesis + WEEK);
  gas["vault.release.1week"] = await gasOf(vault.connect(distributor).release());
  await at(genesis + 2 * WEEK);
  gas["vault.release.1week.repeat"] = await gasOf(vault.connect(distributor).release());
  await at(genesis + 54 * WEEK);
  gas["vault.release.52weeks"] = await gasOf(vault.connect(distributor).release());
  await at(genesis + 40 * 52 * WEEK + 1);
  gas["vault.release.allRemainingWeeks"] = await gasOf(vault.connect(distributor).release());

  await ethers.provider.send("evm_revert", [beforeVault]);

  // Governance: delegate, propose, vote, queue, execute a parameter change.
  await token.connect(memberA).delegate(memberA.address);
  await token.connect(memberB).delegate(memberB.address);
  const target = await governor.getAddress();
  const calldata = governor.interface.encodeFunctionData("setVotingPeriod", [6 * 86400]);
  const description = "Set the voting period to 6 days";
  gas["governor.propose"] = await gasOf(governor.connect(memberA).propose([target], [0], [calldata], description));
  const id = await governor.hashProposal([target], [0], [calldata], ethers.id(description));
  await ethers.provider.send("evm_increaseTime", [86400 + 1]);
  gas["governor.castVote"] = await gasOf(governor.connect(memberA).castVote(id, 1));
  gas["governor.castVote.second"] = await gasOf(governor.connect(memberB).castVote(id, 0));
  await ethers.provider.send("evm_increaseTime", [7 * 86400]);
  gas["governor.queue"] = await gasOf(governor.queue([target], [0], [calldata], ethers.id(description)));
  await ethers.provider.send("evm_increaseTime", [2 * 86400]);
  gas["governor.execute"] = await gasOf(governor.execute([target], [0], [calldata], ethers.id(description)));
  // Registry: mint a vehicle, mint a device, pair them (both EIP-712 signatures), grant data access.
  const devices = await ethers.getContractAt("DeviceRegistry", record.contracts.DeviceRegistry.address);
  const vehicles = await ethers.getContractAt("VehicleRegistry", record.contracts.VehicleRegistry.address);
  const access = await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address);
  const manufacturer = signers[4];
  const [driver, consumer] = signers.slice(11);
  const deviceKey = new ethers.Wallet(ethers.id("gas-snapshot-device-key")); // fixed key: deterministic signature bytes
  const info = {
    make: "Tesla",
    model: "Model 3",
    year: 2022,
    powertrain: 3,
    vinCommitment: ethers.id("gas-snapshot-vin"),
  };
  // The model enters the catalogue once (here ahead of its vehicles, as a manufacturer would); each later mint of
  // it refers to the entry. A driver's first vehicle: its balance word is new too.
  gas["vehicle.catalogueModel"] = await gasOf(vehicles.connect(manufacturer).catalogueModel(info.make, info.model));
  gas["vehicle.mint"] = await gasOf(vehicles.connect(driver).mintVehicle(info));
  const domain = {
    name: REGISTRY_DOMAIN_NAME,
    version: DOMAIN_VERSION,
    chainId,
    verifyingContract: await vehicles.getAddress(),
  };
  // Relayed: a fresh owner (no vehicle, nonce 0) signs MintVehicle; the driver submits it.
  const relayedOwner = signers[13];
  const relayedInfo = { ...info, vinCommitment: ethers.id("gas-snapshot-vin-relayed") };
  const mintSig = await relayedOwner.signTypedData(domain, MINT_VEHICLE_TYPES, {
    owner: relayedOwner.address,
    ...relayedInfo,
    nonce: 0n,
    deadline,
  });
  gas["vehicle.mintFor"] = await gasOf(
    vehicles.connect(driver).mintVehicleFor(relayedOwner.address, relayedInfo, deadline, mintSig),
  );
  // A model nobody catalogued yet: the first mint of it pays for its entry.
  gas["vehicle.mint.newModel"] = await gasOf(
    vehicles.connect(signers[14]).mintVehicle({
      ...info,
      model: "Model Y",
      vinCommitment: ethers.id("gas-snapshot-vin-new-model"),
    }),
  );
  gas["device.mint"] = await gasOf(
    devices.connect(manufacturer).mintDevice(driver.address, deviceKey.address, "AP-000001", "7.2"),
  );
  const pair = { vehicleId: 1n, vehicleEpoch: 0n, deviceId: 1n, ownerNonce: 0n, deviceNonce: 0n, deadline: 2n ** 64n };
  const ownerSig = await driver.signTypedData(domain, PAIR_DEVICE_TYPES, pair);
  const deviceSig = await deviceKey.signTypedData(domain, PAIR_DEVICE_TYPES, pair);
  gas["device.pair"] = await gasOf(vehicles.connect(driver).pairDevice(1n, 1n, pair.deadline, ownerSig, deviceSig));
  // The consumer stakes enough for a few vehicles (staking is the capacity provider of DataAccess).
  const staking = await ethers.getContractAt("ConsumerStaking", record.contracts.ConsumerStaking.address);
  await token.connect(memberB).transfer(consumer.address, ethers.parseEther("20000"));
  await token.connect(consumer).approve(await staking.getAddress(), ethers.parseEther("20000"));
  gas["staking.stake"] = await gasOf(staking.connect(consumer).stake(ethers.parseEther("10100")));
  gas["staking.stake.more"] = await gasOf(staking.connect(consumer).stake(ethers.parseEther("100")));
  // The usual shape: the driver submits the consumer's signed offer (a fixed nonce: deterministic bytes).
  const offer = {
    vehicleId: 1n,
    owner: driver.address,
    permissions: 0b11111n,
    expiresAt: 2n ** 63n,
    nonce: 1n,
    deadline: 2n ** 64n,
  };
  const offerSig = await signAccessConsent(consumer, { chainId, verifyingContract: await access.getAddress() }, offer);
  gas["access.grant"] = await gasOf(
    access
      .connect(driver)
      .grantWithConsent(
        1n,
        consumer.address,
        offer.permissions,
        offer.expiresAt,
        offer.nonce,
        offer.deadline,
        offerSig,
      ),
  );
  gas["access.revoke"] = await gasOf(access.connect(driver).revoke(1n, consumer.address));
  // The next offer's nonce shares the first one's storage word (a backend numbering its offers 0, 1, 2, …).
  const next = { ...offer, nonce: 2n };
  const nextSig = await signAccessConsent(consumer, { chainId, verifyingContract: await access.getAddress() }, next);
  gas["access.grant.nonceWordUsed"] = await gasOf(
    access
      .connect(driver)
      .grantWithConsent(1n, consumer.address, next.permissions, next.expiresAt, next.nonce, next.deadline, nextSig),
  );
  await (await access.connect(driver).revoke(1n, consumer.address)).wait();
  // The consumer's on-chain rule instead of a signature: it accepts every grant from this driver.
  await (await access.connect(consumer).setOwnerAcceptance(driver.address, true)).wait();
  gas["access.grant.ownerAccepted"] = await gasOf(
    access.connect(driver).grant(1n, consumer.address, offer.permissions, offer.expiresAt),
  );
  await (await access.connect(driver).revoke(1n, consumer.address)).wait();
  gas["staking.requestUnstake"] = await gasOf(staking.connect(consumer).requestUnstake(ethers.parseEther("5000")));
  await ethers.provider.send("evm_increaseTime", [Number((await staking.stakeParameters()).unbondingPeriod)]);
  gas["staking.withdraw"] = await gasOf(staking.connect(consumer).withdraw());
  // A slash as the Timelock executes it after a passed vote: half compensation, half burned.
  gas["staking.freeze"] = await gasOf(staking.connect(signers[1]).freeze(consumer.address));
  await ethers.provider.send("hardhat_impersonateAccount", [timelockAddress]);
  await ethers.provider.send("hardhat_setBalance", [timelockAddress, "0xde0b6b3a7640000"]);
  gas["staking.slash"] = await gasOf(
    staking
      .connect(await ethers.getSigner(timelockAddress))
      .slash(
        consumer.address,
        ethers.parseEther("1000"),
        ethers.parseEther("500"),
        0,
        0,
        ethers.id("evidence"),
        "ipfs://evidence",
      ),
  );
  await ethers.provider.send("hardhat_stopImpersonatingAccount", [timelockAddress]);

  Object.assign(gas, await measureRewards(record, genesis));
  Object.assign(gas, await measureCredits(record));
  return Object.fromEntries(Object.entries(gas).sort(([a], [b]) => a.localeCompare(b)));
}

/**
 * DataCredits: a deposit (approved, and with a permit), a single redeem on a fresh channel, a batch of 10 fresh
 * channels (10 consumers, per receipt), and the settlement of that week (burn, treasury, distributor fund).
 */
async function measureCredits(
  record: Awaited<ReturnType<typeof deploySuite>>["record"],
): Promise<Record<string, number>> {
  const gas: Record<string, number> = {};
  const signers = await ethers.getSigners();
  const memberB = signers[3];
  const node = signers[19];
  const consumers = signers.slice(4, 16);
  const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
  const credits = await ethers.getContractAt("DataCredits", record.contracts.DataCredits.address);
  const vault = await ethers.getContractAt("IssuanceVault", record.contracts.IssuanceVault.address);
  const creditsAddress = await credits.getAddress();
  const { chainId } = await ethers.provider.getNetwork();
  const domain = creditsDomain(chainId, creditsAddress);
  const price = await credits.pricePerCredit();
  for (const c of consumers) await token.connect(memberB).transfer(c.address, ethers.parseEther("100"));
  const [first, ...rest] = consumers;
  await token.connect(first).approve(creditsAddress, ethers.parseEther("10"));
  gas["credits.deposit"] = await gasOf(credits.connect(first).deposit(first.address, ethers.parseEther("10")));
  const deadline = 2n ** 255n;
  const permit = ethers.Signature.from(
    await rest[0].signTypedData(
      { name: TOKEN_DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract: await token.getAddress() },
      PERMIT_TYPES,
      {
        owner: rest[0].address,
        spender: creditsAddress,
        value: ethers.parseEther("10"),
        nonce: await token.nonces(rest[0].address),
        deadline,
      },
    ),
  );
  gas["credits.depositWithPermit"] = await gasOf(
    credits.connect(rest[0]).depositWithPermit(ethers.parseEther("10"), deadline, permit.v, permit.r, permit.s),
  );
  for (const c of rest.slice(1)) {
    await token.connect(c).approve(creditsAddress, ethers.parseEther("10"));
    await credits.connect(c).deposit(c.address, ethers.parseEther("10"));
  }
  const r0 = {
    consumer: first.address,
    node: node.address,
    cumulativeCredits: 1000n,
    sequence: 1n,
    maxPricePerCredit: price,
  };
  gas["credits.redeem"] = await gasOf(credits.connect(node).redeem(r0, await signReceipt(first, domain, r0)));
  const batch = rest.slice(1, 11).map((c) => ({
    consumer: c.address,
    node: node.address,
    cumulativeCredits: 1000n,
    sequence: 1n,
    maxPricePerCredit: price,
  }));
  const sigs = await Promise.all(batch.map((r, i) => signReceipt(rest[1 + i], domain, r)));
  gas["credits.redeemBatch.perReceipt"] = Math.round(
    (await gasOf(credits.connect(node).redeemBatch(batch, sigs))) / batch.length,
  );
  const week = await credits.currentWeek();
  const endsAt = Number(await vault.weekStart(week + 1n));
  const now = (await ethers.provider.getBlock("latest"))!.timestamp;
  if (endsAt > now) await ethers.provider.send("evm_increaseTime", [endsAt - now]);
  gas["credits.settle"] = await gasOf(credits.settle(week));
  return gas;
}

const coder = ethers.AbiCoder.defaultAbiCoder();

function leafOf(account: string, amount: bigint): string {
  return ethers.keccak256(ethers.keccak256(coder.encode(["address", "uint256"], [account, amount])));
}

function hashPair(a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? ethers.keccak256(ethers.concat([a, b])) : ethers.keccak256(ethers.concat([b, a]));
}

/**
 * A depth-20 distribution for `entries` without building a million leaves: each entry's leaf climbs 10
 * pseudo-random siblings to its own node of a 1,024-node layer (the cached layer posted with the root), and
 * that layer climbs 10 more levels to the root. Every claim therefore proves depth 20: 10 siblings in
 * calldata, 10 levels through the cached layer.
 */
function depth20Tree(week: number, entries: { account: string; amount: bigint }[]) {
  const layer = Array.from({ length: 1024 }, (_, i) => ethers.id(`gas-snapshot-layer-${week}-${i}`));
  const proofs = entries.map((e, n) => {
    const siblings = Array.from({ length: 10 }, (_, l) => ethers.id(`gas-snapshot-sibling-${week}-${n}-${l}`));
    const slot = 17 + n * 29; // distinct positions across both layer stores
    layer[slot] = siblings.reduce((h, s) => hashPair(h, s), leafOf(e.account, e.amount));
    return { ...e, anchor: slot + 1, proof: siblings };
  });
  let nodes = [...layer];
  while (nodes.length > 1) {
    const up: string[] = [];
    for (let i = 0; i + 1 < nodes.length; i += 2) up.push(hashPair(nodes[i], nodes[i + 1]));
    nodes = up;
  }
  /** Siblings from node `index` of the layer up to the root. */
  const layerProof = (index: number): string[] => {
    const out: string[] = [];
    let level = [...layer];
    let i = index;
    while (level.length > 1) {
      out.push(level[i ^ 1]);
      const up: string[] = [];
      for (let j = 0; j + 1 < level.length; j += 2) up.push(hashPair(level[j], level[j + 1]));
      level = up;
      i >>= 1;
    }
    return out;
  };
  return {
    root: nodes[0],
    layer: ethers.concat(layer),
    proofs,
    layerProof,
    total: entries.reduce((t, e) => t + e.amount, 0n),
  };
}

/**
 * Publishing (with the 1,024-node layer, and without a layer), activating, revoking, disputing and resolving;
 * first and repeat claims at proof depth 20 through the layer and with the full proof, and a batch of 32
 * repeat claims.
 */
async function measureRewards(
  record: Awaited<ReturnType<typeof deploySuite>>["record"],
  genesis: number,
): Promise<Record<string, number>> {
  const gas: Record<string, number> = {};
  const signers = await ethers.getSigners();
  const publisher = signers[7];
  const distributor = await ethers.getContractAt("RewardDistributor", record.contracts.RewardDistributor.address);
  const WEEK = 604_800;
  await ethers.provider.send("evm_setNextBlockTimestamp", [genesis + 3 * WEEK]);
  gas["rewards.pullIssuance"] = await gasOf(distributor.pullIssuance());
  // Recipients hold no DIMO and have not delegated.
  const driver = ethers.getAddress(ethers.dataSlice(ethers.id("gas-snapshot-driver"), 12));
  const batch = Array.from({ length: 32 }, (_, i) =>
    ethers.getAddress(ethers.dataSlice(ethers.id(`gas-snapshot-batch-${i}`), 12)),
  );
  const week0 = depth20Tree(0, [
    { account: driver, amount: ethers.parseEther("1234.5") },
    ...batch.map((a, i) => ({ account: a, amount: ethers.parseEther(String(100 + i)) })),
  ]);
  const window = Number(await distributor.challengeWindow());
  const policy = await distributor.policyHash();
  gas["rewards.publish.layer"] = await gasOf(
    distributor.connect(publisher).publishRoot(0, week0.root, week0.total, ethers.id("week-0"), policy, week0.layer),
  );
  await ethers.provider.send("evm_increaseTime", [window]);
  gas["rewards.activateRoot"] = await gasOf(distributor.activateRoot());
  const [first, ...rest] = week0.proofs;
  gas["claim.first.depth20"] = await gasOf(distributor.claim(first.account, first.amount, first.anchor, first.proof));
  for (const p of rest) await distributor.claim(p.account, p.amount, p.anchor, p.proof);

  const week1 = depth20Tree(1, [
    { account: driver, amount: ethers.parseEther("2469") },
    ...batch.map((a, i) => ({ account: a, amount: ethers.parseEther(String(200 + i)) })),
  ]);
  await distributor
    .connect(publisher)
    .publishRoot(1, week1.root, week1.total, ethers.id("week-1"), policy, week1.layer);
  await ethers.provider.send("evm_increaseTime", [window]);
  await distributor.activateRoot();
  const [again, ...batchProofs] = week1.proofs;
  // The same claim with the full 20-sibling proof to the root, measured and rolled back: what the layer saves.
  const beforeFull = await ethers.provider.send("evm_snapshot", []);
  gas["claim.repeat.depth20.fullProof"] = await gasOf(
    distributor.claim(again.account, again.amount, 0, [...again.proof, ...week1.layerProof(again.anchor - 1)]),
  );
  await ethers.provider.send("evm_revert", [beforeFull]);
  gas["claim.repeat.depth20"] = await gasOf(distributor.claim(again.account, again.amount, again.anchor, again.proof));
  const claims = batchProofs.map((p) => ({
    account: p.account,
    cumulativeAmount: p.amount,
    anchor: p.anchor,
    proof: p.proof,
  }));
  gas["claim.batch32.perClaim"] = Math.round((await gasOf(distributor.claimMany(claims))) / 32);

  // Publishing without a layer, steady state: week 1 active, nothing pending (the usual case when someone
  // activated the last root), then week 3 while week 2's matured root is activated by the same call.
  await ethers.provider.send("evm_setNextBlockTimestamp", [genesis + 4 * WEEK]);
  const week2 = depth20Tree(2, [{ account: driver, amount: ethers.parseEther("20000") }]);
  gas["rewards.publish.noLayer"] = await gasOf(
    distributor.connect(publisher).publishRoot(2, week2.root, week2.total, ethers.id("week-2"), policy, "0x"),
  );
  await ethers.provider.send("evm_increaseTime", [window]);
  const week3 = depth20Tree(3, [{ account: driver, amount: ethers.parseEther("30000") }]);
  gas["rewards.publish.noLayer.activating"] = await gasOf(
    distributor.connect(publisher).publishRoot(3, week3.root, week3.total, ethers.id("week-3"), policy, "0x"),
  );
  // Guardian revocation; then a dispute upheld and a dispute dismissed (bond from a DAO member).
  const guardian = signers[1];
  const disputer = signers[3];
  const bond = await distributor.disputeBond();
  const token = await ethers.getContractAt("DimoToken", record.contracts.DimoToken.address);
  await token.connect(disputer).approve(await distributor.getAddress(), 2n * bond);
  gas["rewards.revokePendingRoot"] = await gasOf(distributor.connect(guardian).revokePendingRoot());
  await distributor.connect(publisher).publishRoot(3, week3.root, week3.total, ethers.id("week-3"), policy, "0x");
  gas["rewards.dispute"] = await gasOf(distributor.connect(disputer).disputePendingRoot(ethers.id("evidence")));
  gas["rewards.resolveDispute.upheld"] = await gasOf(distributor.connect(guardian).resolveDispute(true));
  await distributor.connect(publisher).publishRoot(3, week3.root, week3.total, ethers.id("week-3"), policy, "0x");
  await distributor.connect(disputer).disputePendingRoot(ethers.id("evidence"));
  gas["rewards.resolveDispute.dismissed"] = await gasOf(distributor.connect(guardian).resolveDispute(false));
  return gas;
}

async function main() {
  const gas = await measure();
  const text = `${JSON.stringify(gas, null, 2)}\n`;
  if (process.env.GAS_SNAPSHOT_CHECK === "1") {
    const committed: Record<string, number> = fs.existsSync(SNAPSHOT)
      ? JSON.parse(fs.readFileSync(SNAPSHOT, "utf8"))
      : {};
    const keys = [...new Set([...Object.keys(committed), ...Object.keys(gas)])].sort();
    const diffs = keys.filter((k) => committed[k] !== gas[k]);
    if (diffs.length === 0) {
      console.log(`gas snapshot: ${keys.length} entries match gas-snapshot.json`);
      return;
    }
    console.error("gas snapshot differs from gas-snapshot.json (run `npm run gas:snapshot` and explain the change):");
    for (const k of diffs) {
      const before = committed[k];
      const after = gas[k];
      const delta =
        before !== undefined && after !== undefined ? ` (${after - before >= 0 ? "+" : ""}${after - before})` : "";
      console.error(`  ${k}: ${before ?? "(none)"} -> ${after ?? "(removed)"}${delta}`);
    }
    process.exitCode = 1;
    return;
  }
  fs.writeFileSync(SNAPSHOT, text);
  console.log(text.trimEnd());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
