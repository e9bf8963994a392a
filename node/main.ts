/**
 * `npm run node:data` — the network node: ingest (docs/telemetry.md) and, when the deployment record names DataAccess
 * and ConsumerStaking, the read API under on-chain consent (docs/data-api.md). Settings (flags or environment):
 *   --rpc <url>            RPC_URL, default http://127.0.0.1:8545
 *   --network <name>       the deployment record deployments/<name>.json (default localhost) gives the registry
 *   --registry <address>   instead of the record
 *   --port <n>             PORT, default 8645 (always 127.0.0.1)
 *   --db <file>            the SQLite file, default data/node/<network>.sqlite
 *   --clock wall|chain     what "now" is for the clock-skew checks (NODE_CLOCK; default wall): `chain` follows the
 *                          latest block's timestamp, for a local chain whose time was moved (chain:advance, tests)
 *   --from-block <n>       first block the registry index reads (default: the registries' deploy block from the
 *                          deployment record, else 0)
 *   --domain <authority>   SIWE_DOMAIN: the domain sign-in messages must name (default 127.0.0.1:<port>)
 *   --uri <origin>         SIWE_URI: the origin their URI must be on (default http://<domain>)
 *   NODE_TOKEN_KEY         0x + 64 hex digits or more: the HS256 key of the bearer tokens; when unset a random key
 *                          is generated at start (tokens do not survive a restart)
 *   --node-address <addr>  NODE_ADDRESS: the node operator's address. When the deployment record names DataCredits the
 *                          node charges for reads (docs/data-api.md "Paying for reads"): consumers' receipts name this
 *                          address and its key redeems them (`npx hardhat data:redeem`); required then
 *   --free-reads           NODE_FREE_READS=1: serve reads without receipts even though the record names DataCredits
 *   --verify-threads <n>   NODE_VERIFY_THREADS: worker threads computing batch digests and recovering signers
 *                          (default: the cores but one, at least 1; 0: on the event loop)
 *   DATABASE_URL           postgres://… selects PostgreSQL instead
 *   LOG_LEVEL              pino level, default info
 * SIGTERM / SIGINT: stops taking requests, finishes the in-flight ones, stops the poller, closes the store.
 */
import fs from "node:fs";
import path from "node:path";
import { JsonRpcProvider, isAddress } from "ethers";
import { pino } from "pino";
import { NODE_DEFAULTS } from "../lib/telemetry/settings";
import { CONSENT_INDEX_DEFAULTS, ConsentIndex } from "../lib/consent/chain-index";
import { generateTokenKey, parseTokenKey } from "../lib/consent/siwe";
import { RegistryIndex } from "./registry-index";
import { buildNode } from "./server";
import { openStore } from "./store";
import { defaultVerifyThreads } from "./verify-pool";

function flag(name: string): boolean {
  return process.argv.includes(`--${name}`);
}
function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return undefined;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith("--")) fail(`--${name}: missing value`);
  return v;
}
function fail(message: string): never {
  process.stderr.write(`node:data: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const rpc = arg("rpc") ?? process.env.RPC_URL ?? "http://127.0.0.1:8545";
  const network = arg("network") ?? "localhost";
  const portText = arg("port") ?? process.env.PORT ?? String(NODE_DEFAULTS.port);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    fail(`--port: expected a port number, got "${portText}"`);
  let registry = arg("registry");
  let recordFromBlock = 0;
  let consentContracts: { access: string; staking: string } | undefined;
  let dataCredits: string | undefined;
  let consentFromBlock = 0;
  if (registry !== undefined) {
    if (!isAddress(registry)) fail(`--registry: expected a 0x address, got "${registry}"`);
  } else {
    const file = path.join("deployments", `${network}.json`);
    if (!fs.existsSync(file)) fail(`${file}: no deployment record (deploy first, or pass --registry)`);
    const record = JSON.parse(fs.readFileSync(file, "utf8")) as {
      contracts?: Record<string, { address?: string; blockNumber?: number }>;
    };
    registry = record.contracts?.VehicleRegistry?.address;
    if (!registry || !isAddress(registry)) fail(`${file} contracts.VehicleRegistry.address: missing or not an address`);
    const blocks = ["VehicleRegistry", "DeviceRegistry"].map((n) => record.contracts?.[n]?.blockNumber);
    if (blocks.every((b) => Number.isInteger(b))) recordFromBlock = Math.min(...(blocks as number[]));
    const access = record.contracts?.DataAccess?.address;
    const staking = record.contracts?.ConsumerStaking?.address;
    if (access && staking && isAddress(access) && isAddress(staking)) {
      consentContracts = { access, staking };
      // The consent index must start at or before the registry's deployment (mints) and ConsumerStaking's
      // (its constructor sets the stake formula).
      const indexed = ["VehicleRegistry", "DataAccess", "ConsumerStaking"];
      const dc = record.contracts?.DataCredits?.address;
      if (dc && isAddress(dc)) {
        dataCredits = dc;
        indexed.push("DataCredits"); // its constructor sets the price (PriceSet)
      }
      const cb = indexed.map((n) => record.contracts?.[n]?.blockNumber);
      if (cb.every((b) => Number.isInteger(b))) consentFromBlock = Math.min(...(cb as number[]));
    }
  }
  const fromBlockText = arg("from-block");
  if (fromBlockText !== undefined && !/^\d+$/.test(fromBlockText)) {
    fail(`--from-block: expected a block number, got "${fromBlockText}"`);
  }
  const fromBlock = fromBlockText !== undefined ? Number(fromBlockText) : recordFromBlock;
  const provider = new JsonRpcProvider(rpc, undefined, { staticNetwork: true });
  let chainId: number;
  try {
    chainId = Number((await provider.getNetwork()).chainId);
  } catch (e) {
    fail(`--rpc ${rpc}: cannot read the chain id (${(e as Error).message})`);
  }
  const store = await openStore({
    databaseUrl: process.env.DATABASE_URL,
    sqliteFile: arg("db") ?? path.join("data", "node", `${network}.sqlite`),
  });
  const log = pino({ level: process.env.LOG_LEVEL ?? "info" });
  const index = new RegistryIndex(
    provider,
    registry,
    store,
    {
      confirmations: NODE_DEFAULTS.confirmations,
      maxStaleBlocks: NODE_DEFAULTS.maxStaleBlocks,
      logPageBlocks: NODE_DEFAULTS.logPageBlocks,
      maxPollAgeMs: NODE_DEFAULTS.pollIntervalMs * 10,
      fromBlock,
    },
    log,
  );
  const clock = arg("clock") ?? process.env.NODE_CLOCK ?? "wall";
  if (clock !== "wall" && clock !== "chain") fail(`--clock: expected wall or chain, got "${clock}"`);
  let now: (() => number) | undefined;
  if (clock === "chain") {
    // The latest block's timestamp, advanced by the wall time since it was read; refreshed with each poll.
    let seen = { ts: 0, at: 0 };
    const refresh = async () => {
      const b = await provider.getBlock("latest");
      if (b) seen = { ts: b.timestamp, at: Date.now() };
    };
    await refresh();
    setInterval(() => void refresh().catch(() => undefined), NODE_DEFAULTS.pollIntervalMs).unref();
    now = () => seen.ts + Math.floor((Date.now() - seen.at) / 1000);
  }
  const freeReads = flag("free-reads") || process.env.NODE_FREE_READS === "1";
  let credits: { dataCredits: string; node: string } | undefined;
  if (dataCredits !== undefined && !freeReads) {
    const node = arg("node-address") ?? process.env.NODE_ADDRESS;
    if (node === undefined || node === "")
      fail(
        "the deployment record names DataCredits: set NODE_ADDRESS (or --node-address), the operator address consumers' receipts name, or --free-reads",
      );
    if (!isAddress(node)) fail(`--node-address: expected a 0x address, got "${node}"`);
    credits = { dataCredits, node };
  }
  let consent: ConsentIndex | undefined;
  let dataApi: Parameters<typeof buildNode>[0]["dataApi"];
  if (consentContracts === undefined) {
    log.warn("no DataAccess/ConsumerStaking in the deployment record: ingest only, no read API");
  } else {
    consent = new ConsentIndex(
      provider,
      { vehicles: registry, ...consentContracts, ...(credits ? { credits: credits.dataCredits } : {}) },
      { ...CONSENT_INDEX_DEFAULTS, fromBlock: fromBlockText !== undefined ? fromBlock : consentFromBlock },
    );
    const domain = arg("domain") ?? process.env.SIWE_DOMAIN ?? `127.0.0.1:${portText}`;
    const uri = arg("uri") ?? process.env.SIWE_URI ?? `http://${domain}`;
    let keyText = process.env.NODE_TOKEN_KEY;
    if (keyText === undefined || keyText === "") {
      keyText = generateTokenKey();
      log.warn("NODE_TOKEN_KEY unset: a random token key was generated; tokens end with this process");
    }
    const tokenKey = parseTokenKey(keyText, "environment", "NODE_TOKEN_KEY");
    dataApi = { siwe: { domain, uri, chainId }, tokenKey, consent, provider, credits };
    if (credits === undefined) log.warn("reads are free (no DataCredits in the deployment record, or --free-reads)");
  }
  const threadsText = arg("verify-threads") ?? process.env.NODE_VERIFY_THREADS ?? String(defaultVerifyThreads());
  if (!/^\d{1,3}$/.test(threadsText)) fail(`--verify-threads: expected a count of threads, got "${threadsText}"`);
  const verifyThreads = Number(threadsText);
  const app = buildNode({ store, index, chainId, registry, logger: log, now, dataApi, verifyThreads });
  if (consent !== undefined) {
    await consent.start((e) => log.error({ err: e }, "consent index poll failed"));
    app.log.info({ cursor: consent.cursor }, "consent index caught up");
    if (credits !== undefined) {
      if (consent.credits.pricePerCredit === 0n)
        fail(
          `DataCredits ${credits.dataCredits}: no PriceSet indexed; --from-block must be at or before its deployment`,
        );
      app.log.info({ ...credits, pricePerCredit: consent.credits.pricePerCredit.toString() }, "reads are paid");
    }
  }
  await index.load();
  app.log.info({ cursor: index.cursor, store: store.kind }, "registry index loaded; catching up");
  await index.poll();
  index.start(NODE_DEFAULTS.pollIntervalMs);
  await app.listen({ host: "127.0.0.1", port: Number(portText) });
  app.log.info({ chainId, registry, cursor: index.cursor, verifyThreads }, "node:data ready");

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      app.log.error("shutdown grace period exceeded");
      process.exit(1);
    }, NODE_DEFAULTS.shutdownGraceMs);
    timer.unref();
    void (async () => {
      await app.close(); // stops accepting, waits for in-flight requests
      await index.stop();
      await consent?.stop();
      await store.close();
      process.exit(0);
    })();
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

void main().catch((e: Error) => fail(e.message));
