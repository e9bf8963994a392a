/**
 * The node as its own process (npm run node:data's entry point), killed with SIGKILL while batches are being
 * written: every batch is stored whole or not at all, every acknowledged batch survives, and the restarted
 * node resumes (its registry index from its cursor, the streams from their heads). Also: SIGTERM drains.
 */
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { expect } from "chai";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers, network } from "hardhat";
import { STORE_TARGETS, type StoreLocation } from "../helpers/telemetry-db";
import { drivingBatch, signed, telemetryRegistryFixture, type TelemetryRegistry } from "./telemetry-fixture";

const ROOT = path.join(__dirname, "..", "..");

/** Serves the in-process Hardhat network as JSON-RPC over HTTP on 127.0.0.1 (for a child process). */
async function rpcBridge(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      void (async () => {
        const msg = JSON.parse(body) as
          { id: number; method: string; params?: unknown[] } | { id: number; method: string; params?: unknown[] }[];
        const one = async (m: { id: number; method: string; params?: unknown[] }) => {
          try {
            return {
              jsonrpc: "2.0",
              id: m.id,
              result: await network.provider.request({ method: m.method, params: m.params ?? [] }),
            };
          } catch (e) {
            return { jsonrpc: "2.0", id: m.id, error: { code: -32000, message: (e as Error).message } };
          }
        };
        const out = Array.isArray(msg) ? await Promise.all(msg.map(one)) : await one(msg);
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify(out));
      })();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The block that deployed `address` (the first block where it has code). */
async function deployBlockOf(address: string): Promise<number> {
  let [lo, hi] = [0, await ethers.provider.getBlockNumber()];
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if ((await ethers.provider.getCode(address, mid)) === "0x") lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every node process this file started, so `afterEach` (and, as a last resort, this process's exit) kills the
 *  ones still running by PID when a test fails or times out. */
const children = new Set<ChildProcess>();
const running = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;
function killLeftovers(): void {
  for (const c of children) if (running(c) && c.pid !== undefined) process.kill(c.pid, "SIGKILL");
}
process.once("exit", killLeftovers);

function startNode(rpc: string, registry: string, port: number, loc: StoreLocation, fromBlock: number): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
  delete env.DATABASE_URL;
  if (loc.databaseUrl) env.DATABASE_URL = loc.databaseUrl;
  const args = ["--transpile-only", "node/main.ts", "--rpc", rpc, "--registry", registry, "--port", String(port)];
  // The batches are stamped by the chain's clock, which earlier test files moved weeks ahead of the wall clock.
  args.push("--from-block", String(fromBlock), "--clock", "chain");
  if (loc.sqliteFile) args.push("--db", loc.sqliteFile);
  const child = spawn(path.join(ROOT, "node_modules", ".bin", "ts-node"), args, {
    cwd: ROOT,
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
}

async function waitHealthy(port: number, child: ChildProcess): Promise<void> {
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`node exited ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node not healthy after 30 s: ${stderr}`);
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.exitCode !== null || child.signalCode !== null
      ? r({ code: child.exitCode, signal: child.signalCode })
      : child.once("exit", (code, signal) => r({ code, signal })),
  );

describe("network node process, killed mid-write", function () {
  this.timeout(90_000);
  let reg: TelemetryRegistry;
  let bridge: Awaited<ReturnType<typeof rpcBridge>>;
  let fromBlock: number;
  before(async function () {
    reg = await loadFixture(telemetryRegistryFixture);
    fromBlock = await deployBlockOf(reg.registry);
    bridge = await rpcBridge();
  });
  afterEach(async function () {
    const left = [...children].filter(running);
    killLeftovers();
    await Promise.all(left.map((c) => exited(c)));
    // A passing test stops its own nodes; one that failed or timed out had its leftovers killed above.
    if (this.currentTest?.state === "passed")
      expect(
        left.map((c) => c.pid),
        "node processes outlived a passing test",
      ).to.deep.equal([]);
  });
  after(async function () {
    await bridge?.close();
  });

  // The two stores run side by side (each its own node process): half the wall time of running them in turn.
  it(`leaves every batch whole or absent, keeps every acknowledged batch, and resumes after a restart (${STORE_TARGETS.map((t) => t.kind).join(" and ")}, side by side)`, async function () {
    await Promise.all(STORE_TARGETS.map((target) => scenario(target)));
  });

  async function scenario(target: (typeof STORE_TARGETS)[number]): Promise<void> {
    const { store: probe, location } = await target.open();
    await probe.close();
    const port = await freePort();
    const t0 = (await time.latest()) - 3000;
    const N = 40;
    const bodies = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        signed(
          reg.k1,
          reg,
          drivingBatch({ vehicleId: reg.v1, deviceId: reg.d1, sequence: i + 1, start: t0 + i * 61, span: 60 }),
        ),
      ),
    );
    // Many signals per batch, so a transaction takes several statements' time.
    for (const b of bodies)
      for (const s of b.batch.signals.slice()) if (b.batch.signals.length < 400) b.batch.signals.push({ ...s });
    const resigned = await Promise.all(bodies.map((b) => signed(reg.k1, reg, b.batch)));

    let child = startNode(bridge.url, reg.registry, port, location, fromBlock);
    await waitHealthy(port, child);
    const acknowledged: number[] = [];
    const inFlight = resigned.map((b, i) =>
      fetch(`http://127.0.0.1:${port}/v1/batches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(b),
      })
        .then((r) => {
          if (r.status === 201) {
            acknowledged.push(i + 1);
            if (acknowledged.length === 3) child.kill("SIGKILL");
          }
        })
        .catch(() => {}),
    );
    await Promise.all(inFlight);
    expect((await exited(child)).signal).to.equal("SIGKILL");

    const { store } = await target.open(location);
    const stored = await store.countBatches();
    expect(await store.inconsistentBatches()).to.deep.equal([]);
    expect(stored).to.be.at.least(acknowledged.length);
    expect(stored, "the kill should land before every batch was written").to.be.below(N);
    await store.close();

    child = startNode(bridge.url, reg.registry, port, location, fromBlock);
    await waitHealthy(port, child);
    const codes: Record<string, number> = {};
    for (const b of resigned) {
      const r = await fetch(`http://127.0.0.1:${port}/v1/batches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(b),
      });
      const code = r.status === 201 ? "stored" : ((await r.json()) as { code: string }).code;
      codes[code] = (codes[code] ?? 0) + 1;
    }
    expect(codes.duplicate_batch).to.equal(stored); // every stored batch is recognised after the restart
    expect(
      Object.keys(codes).every((c) => ["stored", "duplicate_batch", "sequence_replayed"].includes(c)),
      JSON.stringify(codes),
    ).to.equal(true);
    const next = await signed(
      reg.k1,
      reg,
      drivingBatch({ vehicleId: reg.v1, deviceId: reg.d1, sequence: N + 1, start: t0 + N * 61, span: 60 }),
    );
    const r = await fetch(`http://127.0.0.1:${port}/v1/batches`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(next),
    });
    expect(r.status).to.equal(201);

    child.kill("SIGTERM");
    expect(await exited(child)).to.deep.equal({ code: 0, signal: null });
    const { store: after } = await target.open(location);
    expect(await after.inconsistentBatches()).to.deep.equal([]);
    expect(await after.countBatches()).to.equal(stored + (codes.stored ?? 0) + 1);
    await after.close();
  }
});
