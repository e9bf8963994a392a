/**
 * npm run bench:telemetry — for each store (SQLite, and PostgreSQL when scripts/pg-test-server.sh can start
 * one or TEST_DATABASE_URL is set):
 *   - ingest: signed batches through the node's POST /v1/batches handler (Fastify inject: schema, time checks,
 *     EIP-712 digest, signature recovery, registry checks, one transaction per batch), 16 in flight, measured in
 *     rounds of 100 alternating with the recovery of the same 100 (load changes weigh on both alike);
 *   - recover: the same batches' EIP-712 digest and signature recovery alone, no I/O (the floor);
 *   prints `bench:telemetry batches=<n> ingest_per_s=<x> recover_per_s=<y> ratio=<x/y> db=<kind>`.
 * Then the weekly activity derivation (node/activity.ts, what rewards:activity runs) at 100,000 vehicles × one
 * week (7 batches each, 700,000 batches) on SQLite, in its own process: wall time and peak RSS.
 *   --batches N (default 2000), --vehicles N (default 100000), --skip-activity, --skip-postgres
 */
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Wallet, id as keccakText, randomBytes, hexlify, type Provider } from "ethers";
import { batchDigest, recoverSigner, signBatch, type SignedBatch, type TelemetryBatch } from "../lib/telemetry/format";
import { RegistryIndex } from "../node/registry-index";
import { buildNode } from "../node/server";
import { defaultVerifyThreads } from "../node/verify-pool";
import { openStore, type RegistryEvent, type TelemetryStore } from "../node/store";

const CHAIN_ID = 31337;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const DEVICE_REGISTRY = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const T0 = 1_764_565_200; // Monday 2025-12-01 05:00 UTC

function arg(name: string, fallback: number, zeroAllowed = false): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i === -1) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isSafeInteger(v) || v < (zeroAllowed ? 0 : 1))
    throw new Error(
      `--${name}: expected a ${zeroAllowed ? "non-negative" : "positive"} integer, got "${process.argv[i + 1]}"`,
    );
  return v;
}

/** A 10-minute trip sampled every minute: location, speed, odometer, plus fuel and tires once (35 signals). */
function trip(vehicleId: string, deviceId: string, sequence: number, start: number, odo0: number): TelemetryBatch {
  const signals: TelemetryBatch["signals"] = [];
  for (let t = 0; t <= 600; t += 60) {
    signals.push({ name: "location", timestamp: start + t, values: [48_137_000 + t * 7, 11_575_000 + t * 5] });
    signals.push({ name: "speed", timestamp: start + t, values: [4000 + (t % 7) * 100] });
    signals.push({ name: "odometer", timestamp: start + t, values: [odo0 + Math.round((t * 45_000) / 3600)] });
  }
  signals.push({ name: "fuel_level", timestamp: start, values: [550] });
  signals.push({ name: "tire_pressure", timestamp: start, values: [240, 240, 236, 237] });
  return {
    vehicleId,
    deviceId,
    integration: "0x" + "00".repeat(20),
    sequence,
    startTime: start,
    endTime: start + 600,
    signals,
  };
}

async function ingestBench(n: number, store: TelemetryStore): Promise<void> {
  const devices = 100;
  const keys = Array.from({ length: devices }, (_, i) => new Wallet(keccakText(`bench device ${i}`)));
  // The registry as the index would have read it: device i+1 bound to key i, paired with vehicle i+1 since T0 − 1 day.
  const events: RegistryEvent[] = [];
  keys.forEach((k, i) => {
    events.push({
      blockNumber: 1,
      logIndex: 2 * i,
      blockTime: T0 - 86_400,
      kind: "DeviceMinted",
      vehicleId: "0",
      deviceId: String(i + 1),
      address: k.address.toLowerCase(),
    });
    events.push({
      blockNumber: 1,
      logIndex: 2 * i + 1,
      blockTime: T0 - 86_400,
      kind: "DevicePaired",
      vehicleId: String(i + 1),
      deviceId: String(i + 1),
      address: "",
    });
  });
  await store.saveIndex(events, 1);
  const provider = {
    getBlockNumber: async () => 1,
    getLogs: async () => [],
    getBlock: async () => null,
  } as unknown as Provider;
  const index = new RegistryIndex(provider, REGISTRY, store, {
    confirmations: 0,
    maxStaleBlocks: 12,
    logPageBlocks: 5000,
    maxPollAgeMs: 3_600_000,
    deviceRegistry: DEVICE_REGISTRY,
  });
  await index.load();
  await index.poll();

  const bodies: SignedBatch[] = [];
  for (let i = 0; i < n; i++) {
    const d = i % devices;
    const seq = Math.floor(i / devices) + 1;
    bodies.push(
      await signBatch(
        keys[d],
        trip(String(d + 1), String(d + 1), seq, T0 + seq * 700, 2_000_000 + seq * 8000),
        CHAIN_ID,
        REGISTRY,
      ),
    );
  }
  const payloads = bodies.map((b) => JSON.stringify(b));

  // The floor (digest + recovery of the same batches, no I/O) and the ingest are measured in alternating rounds
  // of 100 batches, so a change of the machine's load during the run weighs on both alike.
  // As node:data runs: digests and recoveries on worker threads (the cores but one), the rest on the event loop.
  const verifyThreads = arg("verify-threads", defaultVerifyThreads(), true);
  const app = buildNode({
    store,
    index,
    chainId: CHAIN_ID,
    registry: REGISTRY,
    now: () => T0 + 8 * 86_400,
    verifyThreads,
  });
  // The threads start (and load the library) before the clock does.
  await app.verifyReady();
  let recoverNs = 0n;
  let ingestNs = 0n;
  for (let from = 0; from < n; from += 100) {
    const to = Math.min(n, from + 100);
    let t = process.hrtime.bigint();
    for (let i = from; i < to; i++) {
      const b = bodies[i];
      if (recoverSigner(batchDigest(b.batch, b.chainId, b.registry), b.signature) === null)
        throw new Error("bench: a batch did not recover");
    }
    recoverNs += process.hrtime.bigint() - t;
    t = process.hrtime.bigint();
    let next = from;
    const worker = async () => {
      while (next < to) {
        const i = next++;
        const res = await app.inject({
          method: "POST",
          url: "/v1/batches",
          payload: payloads[i],
          headers: { "content-type": "application/json" },
        });
        if (res.statusCode !== 201) throw new Error(`bench: batch ${i} refused: ${res.body}`);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    ingestNs += process.hrtime.bigint() - t;
  }
  const recoverSeconds = Number(recoverNs) / 1e9;
  const ingestSeconds = Number(ingestNs) / 1e9;
  await app.close();
  if ((await store.countBatches()) !== n) throw new Error("bench: not every batch was stored");
  const ingest = n / ingestSeconds;
  const recover = n / recoverSeconds;
  console.log(
    `bench:telemetry batches=${n} ingest_per_s=${ingest.toFixed(1)} recover_per_s=${recover.toFixed(1)} ratio=${(ingest / recover).toFixed(3)} db=${store.kind} verify_threads=${verifyThreads}`,
  );
}

/** Seeds `vehicles` × 7 daily batches straight into a SQLite store's tables (fast path, bench only). */
async function seedWeek(file: string, vehicles: number): Promise<void> {
  const store = await openStore({ sqliteFile: file });
  await store.close();
  const { default: SQLite } = await import("better-sqlite3");
  const db = new SQLite(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = OFF");
  const ins = db.prepare(
    `insert into batches (digest, vehicle_id, device_id, signer, sequence, start_time, end_time, received_at, signature, signed_json, types_mask, odo_first_t, odo_first_m, odo_last_t, odo_last_m, inner_meters)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const fill = db.transaction((from: number, to: number) => {
    for (let v = from; v < to; v++) {
      const signer = "0x" + (v + 1).toString(16).padStart(40, "0");
      for (let day = 0; day < 7; day++) {
        const start = T0 + day * 86_400 + (v % 3600);
        const odo = 1_000_000 + v * 10 + day * 30_000;
        const signals = [
          { name: "location", timestamp: start, values: [48_137_000 + v, 11_575_000 + day] },
          { name: "odometer", timestamp: start, values: [odo] },
          { name: "speed", timestamp: start + 900, values: [6000] },
          { name: "odometer", timestamp: start + 1800, values: [odo + 25_000] },
          { name: "fuel_level", timestamp: start + 1800, values: [500] },
          { name: "tire_pressure", timestamp: start + 1800, values: [240, 240, 236, 237] },
          { name: "dtc", timestamp: start + 1800, values: day === 3 ? [0x0301] : [] },
        ];
        const signature = hexlify(randomBytes(65));
        const json = JSON.stringify({
          chainId: CHAIN_ID,
          registry: REGISTRY,
          batch: {
            vehicleId: String(v + 1),
            deviceId: String(v + 1),
            integration: "0x" + "00".repeat(20),
            sequence: day + 1,
            startTime: start,
            endTime: start + 1800,
            signals,
          },
          signature,
        });
        ins.run(
          hexlify(randomBytes(32)),
          String(v + 1),
          String(v + 1),
          signer,
          day + 1,
          start,
          start + 1800,
          start + 1800,
          signature,
          json,
          0b11011011 & 0b1011111,
          start,
          odo,
          start + 1800,
          odo + 25_000,
          25_000,
        );
      }
    }
  });
  for (let v = 0; v < vehicles; v += 10_000) fill(v, Math.min(vehicles, v + 10_000));
  db.close();
}

async function deriveOnly(file: string): Promise<void> {
  const { writeWeekActivity } = await import("../node/activity");
  const store = await openStore({ sqliteFile: file });
  const outDir = path.join(path.dirname(file), "out");
  const t = process.hrtime.bigint();
  const r = await writeWeekActivity({ store, week: 0, weekStart: T0, weekEnd: T0 + 7 * 86_400, outDir });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  await store.close();
  const bytes = fs.statSync(r.files.batches).size;
  console.log(
    JSON.stringify({
      seconds,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
      batches: r.batches,
      vehicles: r.vehicles,
      bytes,
      root: r.commitmentRoot,
    }),
  );
}

async function main(): Promise<void> {
  const di = process.argv.indexOf("--derive-only");
  if (di !== -1) return deriveOnly(process.argv[di + 1]);
  const n = arg("batches", 2000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-bench-telemetry-"));
  try {
    const sqlite = await openStore({ sqliteFile: path.join(tmp, "ingest.sqlite") });
    await ingestBench(n, sqlite);
    await sqlite.close();

    if (!process.argv.includes("--skip-postgres")) {
      let url = process.env.TEST_DATABASE_URL;
      const pgDir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-bench-pg-")); // its own: postgres must reach it
      let started = false;
      try {
        if (!url) {
          url = execFileSync("bash", [path.join(__dirname, "..", "scripts", "pg-test-server.sh"), "start", pgDir], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "inherit"],
          }).trim();
          started = true;
        }
        const pg = await openStore({ databaseUrl: url });
        await ingestBench(n, pg);
        await pg.close();
      } catch (e) {
        console.log(`bench:telemetry postgres skipped: ${(e as Error).message.split("\n")[0]}`);
      } finally {
        if (started)
          execFileSync("bash", [path.join(__dirname, "..", "scripts", "pg-test-server.sh"), "stop", pgDir], {
            stdio: "inherit",
          });
      }
    }

    if (!process.argv.includes("--skip-activity")) {
      const vehicles = arg("vehicles", 100_000);
      const file = path.join(tmp, "week.sqlite");
      const t = Date.now();
      await seedWeek(file, vehicles);
      console.log(
        `bench:telemetry seeded ${vehicles} vehicles × 7 batches in ${((Date.now() - t) / 1000).toFixed(1)} s (direct inserts; random signatures: the derivation does not re-check them, the node did)`,
      );
      const child = spawnSync(
        path.join(__dirname, "..", "node_modules", ".bin", "ts-node"),
        ["--transpile-only", __filename, "--derive-only", file],
        { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
      );
      if (child.status !== 0) throw new Error(`derivation failed (exit ${child.status})`);
      const r = JSON.parse(child.stdout.trim().split("\n").pop()!) as {
        seconds: number;
        maxRssMb: number;
        batches: number;
        vehicles: number;
        bytes: number;
      };
      console.log(
        `bench:telemetry activity vehicles=${r.vehicles} batches=${r.batches} seconds=${r.seconds.toFixed(1)} peak_rss_mb=${r.maxRssMb.toFixed(0)} published_mb=${(r.bytes / 1e6).toFixed(0)} (targets: ≤ 60 s, ≤ 1024 MB)`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

void main().catch((e: Error) => {
  console.error(`bench:telemetry: ${e.message}`);
  process.exit(1);
});
