/**
 * The demo's network node (scripts/demo.ts): the node's own Fastify app (node/server.ts) listening on 127.0.0.1 on a
 * free port, its embedded SQLite store (node/store.ts) in the demo's work folder, its registry index
 * (node/registry-index.ts) following the demo's chain through the demo's provider — the in-process Hardhat network
 * or `--network localhost` alike, so no RPC bridge is needed — and its clock the chain's (the demo moves chain time
 * by weeks). The demo's devices POST their signed batches to it over HTTP, as `npm run simulate`'s do.
 */
import type { AddressInfo } from "node:net";
import type { Provider } from "ethers";
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
  /** Stops the server, the index's poller and the store (idempotent). */
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
  const app = buildNode({ store, index, chainId: o.chainId, registry: o.vehicleRegistry, now });
  const close = async () => {
    if (closed) return;
    closed = true;
    await index.stop();
    if (listening) await app.close();
    await store.close();
  };
  try {
    await readClock();
    await index.load();
    await index.poll();
    index.start(NODE_DEFAULTS.pollIntervalMs);
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
      await readClock();
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
