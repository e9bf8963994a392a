/**
 * The node's read side over the staking suite on the in-process Hardhat network: a node (not listening: use
 * `inject`) with the data API wired to a ConsentIndex over the suite's VehicleRegistry, DataAccess and
 * ConsumerStaking, a clock the test sets, and helpers to sign in; a scenario with stored telemetry to read.
 * Shared by test/node/read-*.test.ts.
 */
import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { CONSENT_INDEX_DEFAULTS, ConsentIndex, type ConsentIndexOptions } from "../../lib/consent/chain-index";
import { buildSignInMessage, generateTokenKey, parseTokenKey } from "../../lib/consent/siwe";
import { NODE_DEFAULTS } from "../../lib/telemetry/settings";
import { RegistryIndex } from "../../node/registry-index";
import { buildNode } from "../../node/server";
import type { TelemetryStore } from "../../node/store";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { signBatch, type TelemetryBatch } from "../../lib/telemetry/format";
import { connect } from "../registry/fixtures";
import { grant, requiredStake, stake, stakingFixture, type StakingContext } from "../staking/fixtures";

export const DOMAIN = "data.dimo.test";
export const URI = "https://data.dimo.test";

export async function readNodeOver(
  f: StakingContext,
  store: TelemetryStore,
  clock: { now: number },
  consentOptions: Partial<ConsentIndexOptions> = {},
  /** Paid reads: the node's address (its receipts' `node`); DataCredits is the suite's. Off when absent. */
  payments?: { node: string },
) {
  const chainId = Number((await ethers.provider.getNetwork()).chainId);
  const registry = f.record.contracts.VehicleRegistry.address;
  const index = new RegistryIndex(ethers.provider, registry, store, {
    confirmations: 0,
    maxStaleBlocks: NODE_DEFAULTS.maxStaleBlocks,
    logPageBlocks: 2_000,
    maxPollAgeMs: 60_000,
  });
  const consent = new ConsentIndex(
    ethers.provider,
    {
      vehicles: registry,
      access: await f.access.getAddress(),
      staking: f.stakingAddress,
      ...(payments ? { credits: f.record.contracts.DataCredits.address } : {}),
    },
    // Fresh for a minute unless the test asks for the node's defaults (the propagation bound is measured with them).
    { ...CONSENT_INDEX_DEFAULTS, maxPollAgeMs: 60_000, fromBlock: 0, ...consentOptions },
  );
  await consent.poll();
  await index.load();
  await index.poll();
  const tokenKey = parseTokenKey(generateTokenKey(), "test", "tokenKey");
  const now = () => clock.now;
  const app = buildNode({
    store,
    index,
    chainId,
    registry,
    now,
    dataApi: {
      siwe: { domain: DOMAIN, uri: URI, chainId },
      tokenKey,
      consent,
      provider: ethers.provider,
      credits: payments ? { dataCredits: f.record.contracts.DataCredits.address, node: payments.node } : undefined,
    },
  });
  /** Signs in `signer` (or, for a contract wallet, `signer` signing for `address`); returns the answer. */
  async function signIn(signer: HardhatEthersSigner, address = signer.address) {
    const n = (await app.inject({ method: "POST", url: "/v1/auth/nonce" })).json();
    const message = buildSignInMessage({
      domain: DOMAIN,
      uri: URI,
      chainId,
      address,
      nonce: n.nonce,
      issuedAt: clock.now,
      expiresAt: clock.now + 300,
    });
    const signature = await signer.signMessage(message);
    return {
      message,
      signature,
      res: await app.inject({ method: "POST", url: "/v1/auth/siwe", payload: { message, signature } }),
    };
  }
  async function tokenOf(signer: HardhatEthersSigner): Promise<string> {
    const { res } = await signIn(signer);
    if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.body}`);
    return res.json().token as string;
  }
  return { app, consent, index, chainId, registry, signIn, tokenOf };
}

export const HOUR = 3_600;

/**
 * The staking suite with data to read: consumers A and B staked for two vehicles each; the software integration
 * (account 5) attested connections to vehicles 0 and 1; the owner of vehicle 0 granted consumer A location,
 * odometer and fuel level for a year (not speed, not tire pressure) at `grantedAt`; the chain then moved to
 * `base + 3 h`, `base` being the first full hour after the grant. `batches` are the integration's batches of
 * vehicle 0 (posted by `postBatches`): one before the grant (`pre`), then three hours of data.
 */
export async function readDataFixture() {
  const f = await stakingFixture();
  await stake(f, f.consumerA, requiredStake(2));
  await stake(f, f.consumerB, requiredStake(2));
  await connect(f.vehicles, f.vehicleIds[0], f.software, f.vehicleOwners[0]);
  await connect(f.vehicles, f.vehicleIds[1], f.software, f.vehicleOwners[1]);
  const pre = (await time.latest()) + 60;
  await time.increase(600);
  const receipt = await (await grant(f, 0, f.consumerA)).wait();
  const grantedAt = (await ethers.provider.getBlock(receipt!.blockNumber))!.timestamp;
  const base = Math.ceil((grantedAt + 1) / HOUR) * HOUR;
  await time.increaseTo(base + 3 * HOUR);
  const v0 = f.vehicleIds[0].toString();
  const batch = (sequence: number, start: number, end: number, signals: TelemetryBatch["signals"]): TelemetryBatch => ({
    vehicleId: v0,
    deviceId: "0",
    integration: f.software.address,
    sequence,
    startTime: start,
    endTime: end,
    signals,
  });
  const batches = [
    batch(1, pre, pre + 60, [
      { name: "odometer", timestamp: pre, values: [1_000] },
      { name: "location", timestamp: pre, values: [51_000_000, 12_000_000] },
    ]),
    batch(2, base, base + 1_200, [
      { name: "odometer", timestamp: base, values: [10] },
      { name: "location", timestamp: base, values: [52_000_000, 13_000_000] },
      { name: "speed", timestamp: base, values: [5_000] },
      { name: "odometer", timestamp: base + 600, values: [20] },
      { name: "tire_pressure", timestamp: base + 600, values: [240, 241] },
      { name: "odometer", timestamp: base + 1_200, values: [60] },
      { name: "location", timestamp: base + 1_200, values: [52_000_010, 13_000_030] },
    ]),
    batch(3, base + HOUR, base + HOUR + 100, [
      { name: "odometer", timestamp: base + HOUR, values: [100] },
      { name: "fuel_level", timestamp: base + HOUR, values: [500] },
      { name: "odometer", timestamp: base + HOUR + 100, values: [110] },
    ]),
    batch(4, base + 2 * HOUR, base + 2 * HOUR, [{ name: "odometer", timestamp: base + 2 * HOUR, values: [200] }]),
  ];
  return { ...f, pre, grantedAt, base, batches };
}
export type ReadDataContext = Awaited<ReturnType<typeof readDataFixture>>;

/** Signs `batches` with the integration's key and POSTs them to the node (each must be stored). */
export async function postBatches(
  node: Awaited<ReturnType<typeof readNodeOver>>,
  signer: Parameters<typeof signBatch>[0],
  batches: TelemetryBatch[],
): Promise<void> {
  for (const b of batches) {
    const res = await node.app.inject({
      method: "POST",
      url: "/v1/batches",
      payload: await signBatch(signer, b, node.chainId, node.registry),
    });
    if (res.statusCode !== 201) throw new Error(`batch ${b.sequence} refused: ${res.body}`);
  }
}
