/**
 * The demo's network node (scripts/demo.ts): the node's own Fastify app (node/server.ts) listening on 127.0.0.1 on a
 * free port, its embedded SQLite store (node/store.ts) in the demo's work folder, its registry index
 * (node/registry-index.ts) following the demo's chain through the demo's provider — the in-process Hardhat network
 * or `--network localhost` alike, so no RPC bridge is needed — and its clock the chain's (the demo moves chain time
 * by weeks). The demo's devices POST their signed batches to it over HTTP, as `npm run simulate`'s do.
 *
 * With `consent` (DataAccess and ConsumerStaking) it also serves the read API under on-chain consent, as `node:data`
 * does when the deployment record names them: sign-in with Ethereum, consent-checked reads, the access log. Its
 * sign-in domain is `DEMO_NODE_DOMAIN` (the SDK takes domain, URI and chain from the nonce answer), or `siwe`'s. With `payments`
 * the reads are paid with DataCredits receipts, as `node:data` with NODE_ADDRESS.
 */
import fs from "node:fs";
import type { AddressInfo } from "node:net";
import type { Provider } from "ethers";
import { CONSENT_INDEX_DEFAULTS, ConsentIndex } from "../lib/consent/chain-index";
import { formatLogLine, type LogHead } from "../lib/consent/access-log";
import { generateTokenKey, parseTokenKey } from "../lib/consent/siwe";
import type { SignedBatch } from "../lib/telemetry/format";
import { NODE_DEFAULTS } from "../lib/telemetry/settings";
import { RegistryIndex } from "../node/registry-index";
import { buildNode, type IngestCounters } from "../node/server";
import { openStore } from "../node/store";

export interface DemoNodeOptions {
  provider: Provider;
  chainId: number;
  vehicleRegistry: string;
  deviceRegistry: string;
  /** First block the registry index reads (the registries' deployment). */
  fromBlock: number;
  /** The SQLite file of the store (the embedded default: no setup, no DATABASE_URL). */
  sqliteFile: string;
  /** DataAccess and ConsumerStaking: serve reads under consent (indexed from `fromBlock`). */
  consent?: { access: string; staking: string };
  /** Paid reads (docs/data-api.md "Paying for reads"): DataCredits and the operator address receipts name. */
  payments?: { dataCredits: string; node: string };
  /**
   * The sign-in domain and URI (default `DEMO_NODE_DOMAIN`): a page that signs its owners in (the claim page's
   * access log) names its own host, as wallets require, so the node must expect that host.
   */
  siwe?: { domain: string; uri: string };
}

export const DEMO_NODE_DOMAIN = "data.dimo-demo.local";

/**
 * The chain side of a demo node serving reads under consent, from a deployment record's contracts: the registries,
 * DataAccess and ConsumerStaking, indexed from the first of their deployment blocks.
 */
export function consentNodeContracts(
  c: Record<string, { address: string; blockNumber: number }>,
): Pick<DemoNodeOptions, "vehicleRegistry" | "deviceRegistry" | "fromBlock" | "consent"> {
  const names = ["VehicleRegistry", "DeviceRegistry", "DataAccess", "ConsumerStaking"];
  for (const n of names) if (!c[n]) throw new Error(`the deployment record has no ${n}: the demo node needs it`);
  return {
    vehicleRegistry: c.VehicleRegistry.address,
    deviceRegistry: c.DeviceRegistry.address,
    fromBlock: Math.min(...names.map((n) => c[n].blockNumber)),
    consent: { access: c.DataAccess.address, staking: c.ConsumerStaking.address },
  };
}

export interface DemoNode {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  sqliteFile: string;
  /** Catches the registry index up with the chain and sets the node's clock to the latest block's time. */
  sync(): Promise<void>;
  /** POSTs one signed batch to `/v1/batches`: "accepted" (201) or the node's refusal code. */
  post(signed: SignedBatch): Promise<string>;
  /** The node's own counts of accepted and refused batches since it started. */
  counters: IngestCounters;
  /** Writes the node's whole access log as JSON Lines (what `staking:evidence --log` reads); returns its head. */
  exportAccessLog(file: string): Promise<LogHead>;
  /** Stops the server, the indexes' pollers and the store (idempotent). */
  close(): Promise<void>;
}

export async function startDemoNode(o: DemoNodeOptions): Promise<DemoNode> {
  const store = await openStore({ sqliteFile: o.sqliteFile });
  const index = new RegistryIndex(o.provider, o.vehicleRegistry, store, {
    confirmations: NODE_DEFAULTS.confirmations,
    maxStaleBlocks: NODE_DEFAULTS.maxStaleBlocks,
    logPageBlocks: NODE_DEFAULTS.logPageBlocks,
    maxPollAgeMs: NODE_DEFAULTS.pollIntervalMs * 10,
    deviceRegistry: o.deviceRegistry,
    fromBlock: o.fromBlock,
  });
  // The chain's clock (node:data --clock chain): the latest block's time, advanced by the wall time since it was read.
  let seen = { ts: 0, at: 0 };
  const readClock = async () => {
    const b = await o.provider.getBlock("latest");
    if (!b) throw new Error("demo node: the chain has no latest block");
    seen = { ts: b.timestamp, at: Date.now() };
  };
  const now = () => seen.ts + Math.floor((Date.now() - seen.at) / 1000);
  let closed = false;
  let listening = false;
  const consent =
    o.consent === undefined
      ? undefined
      : new ConsentIndex(
          o.provider,
          {
            vehicles: o.vehicleRegistry,
            ...o.consent,
            ...(o.payments ? { credits: o.payments.dataCredits } : {}),
          },
          { ...CONSENT_INDEX_DEFAULTS, fromBlock: o.fromBlock },
        );
  const app = buildNode({
    store,
    index,
    chainId: o.chainId,
    registry: o.vehicleRegistry,
    now,
    dataApi:
      consent === undefined
        ? undefined
        : {
            siwe: { domain: DEMO_NODE_DOMAIN, uri: `https://${DEMO_NODE_DOMAIN}`, ...o.siwe, chainId: o.chainId },
            tokenKey: parseTokenKey(generateTokenKey(), "demo node", "tokenKey"),
            consent,
            provider: o.provider,
            credits: o.payments,
          },
  });
  const close = async () => {
    if (closed) return;
    closed = true;
    await index.stop();
    await consent?.stop();
    if (listening) await app.close();
    await store.close();
  };
  try {
    await readClock();
    await index.load();
    await index.poll();
    index.start(NODE_DEFAULTS.pollIntervalMs);
    await consent?.start();
    await app.listen({ host: "127.0.0.1", port: 0 });
    listening = true;
  } catch (e) {
    await close();
    throw e;
  }
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    url,
    sqliteFile: o.sqliteFile,
    counters: app.counters,
    close,
    async sync() {
      // The first poll may join one in flight that read an older head; the second reads the chain as it is now.
      await index.poll();
      await index.poll();
      if (consent) {
        await consent.poll();
        await consent.poll();
      }
      await readClock();
    },
    async exportAccessLog(file) {
      const entries = await store.accessLog({});
      fs.writeFileSync(file, entries.map(formatLogLine).join(""));
      return store.accessLogHead();
    },
    async post(signed) {
      const res = await fetch(`${url}/v1/batches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(signed),
      });
      const body = (await res.json()) as { code?: string };
      if (res.status === 201) return "accepted";
      if (typeof body.code !== "string") throw new Error(`demo node: HTTP ${res.status} without a refusal code`);
      return body.code;
    },
  };
}
