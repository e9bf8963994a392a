/**
 * Benchmark of the weekly rewards pipeline at a million vehicles.
 *
 *   npx ts-node --transpile-only bench/rewards.ts [--vehicles 1000000] [--seed 1] [--week1] [--read]
 *                                                 [--no-baseline] [--keep]
 *
 * A deterministic synthetic week (seeded PRNG: ~0.7 owners per vehicle, mixed powertrains, devices and
 * integrations, ~78% of vehicles active, a few referral codes) goes through the whole pipeline — points →
 * allocation → tree (hashed in a worker thread while the JSON is written) → distribution files in a
 * temporary directory — and is timed from parsed inputs to files on disk. Proofs are then served from the
 * written files (`proofFor`) and checked. With `--week1`, week 0 is written first by a child process and
 * the timed run is week 1, reading week 0's file as its previous distribution.
 *
 * Then `bench/rewards-baseline.ts` runs in a separate process (so each peak RSS is its own): it regenerates
 * the same week from the same seed and builds the same tree the common way, leaves with ethers' ABI coder
 * and keccak256, then `new MerkleTree(leaves, keccak256, { sortPairs: true })`; the roots must be equal.
 *
 * The last line printed is
 *   bench:rewards vehicles=<n> wall_s=<s> peak_rss_mb=<mb> baseline_ratio=<ratio>
 * wall_s and peak_rss_mb cover the timed pipeline (peak RSS is read before proofs are served); the ratio is
 * the baseline's leaves + tree time over ours (leaves + layers, one thread, same accounts).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type ActivityRow, type SnapshotVehicle } from "../lib/rewards/activity";
import { computeAndWriteWeek, type WeekInputs } from "../lib/rewards/compute";
import { findAccountLine, proveEntry, RangeFile, readWeekHeader } from "../lib/rewards/lookup";
import { proofFor, processProofSync, readDistribution, type Distribution } from "../lib/rewards/distribution";
import { buildTree, keccakHasher } from "../lib/rewards/merkle";
import { DATA_TYPES, parsePolicy, type DataType, type Powertrain } from "../lib/rewards/policy";
import type { IHasher } from "hash-wasm";

/** sfc32: a small, fast, seedable PRNG (floats in [0, 1)). */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ (seed * 31);
  let c = 0xb7e15162;
  let d = 1;
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** EIP-55 checksum of 20 address bytes (hash-wasm keccak; ethers' getAddress is too slow for 700k). */
function checksum(h: IHasher, bytes: Uint8Array): string {
  const chars = Buffer.from(Buffer.from(bytes).toString("hex"), "latin1"); // 40 lowercase hex digits
  h.init();
  h.update(chars);
  const digest = h.digest("binary");
  for (let i = 0; i < 40; i++) {
    const nibble = (digest[i >> 1] >> (i & 1 ? 0 : 4)) & 15;
    if (nibble >= 8 && chars[i] >= 97) chars[i] -= 32; // a-f → A-F
  }
  return `0x${chars.toString("latin1")}`;
}

export interface SyntheticWeek {
  snapshot: SnapshotVehicle[];
  activity: ActivityRow[];
  owners: number;
}

/** The synthetic week of `vehicles` vehicles for `seed` (deterministic). */
/**
 * The synthetic week `week` of `vehicles` vehicles for `seed` (deterministic). The fleet (owners,
 * powertrains, connections: every vehicle has a device or an integration) depends on `seed` only; the
 * activity on `seed` and `week`. Referral codes appear in week 0 only.
 */
export async function syntheticWeek(vehicles: number, seed = 1, week = 0): Promise<SyntheticWeek> {
  const rnd = prng(seed);
  const h = await keccakHasher();
  const ownerCount = Math.max(1, Math.round(vehicles * 0.7));
  const owners: string[] = [];
  const bytes = new Uint8Array(20);
  for (let i = 0; i < ownerCount; i++) {
    for (let k = 0; k < 20; k += 4) {
      const x = (rnd() * 4294967296) >>> 0;
      bytes[k] = x >>> 24;
      bytes[k + 1] = (x >>> 16) & 255;
      bytes[k + 2] = (x >>> 8) & 255;
      bytes[k + 3] = x & 255;
    }
    owners.push(checksum(h, bytes));
  }
  const kinds: readonly (readonly ("software" | "oem")[])[] = [[], ["software"], ["oem"], ["software", "oem"]];
  const typeSets: (readonly DataType[])[] = [];
  for (let mask = 0; mask < 1 << DATA_TYPES.length; mask++)
    typeSets.push(Object.freeze(DATA_TYPES.filter((_, b) => mask & (1 << b))));
  const snapshot: SnapshotVehicle[] = [];
  for (let i = 0; i < vehicles; i++) {
    const owner = i < ownerCount ? owners[i] : owners[Math.floor(rnd() * ownerCount)];
    const r = rnd();
    const powertrain: Powertrain = r < 0.55 ? "ICE" : r < 0.7 ? "HEV" : r < 0.8 ? "PHEV" : "BEV";
    const device = rnd() < 0.45;
    const k = rnd();
    // without a device, at least one integration
    const connections = k < 0.6 ? (device ? 0 : 1) : k < 0.85 ? 1 : k < 0.95 ? 2 : 3;
    snapshot.push({
      vehicleId: i + 1,
      owner,
      powertrain,
      pairedDevice: device ? i + 1 : null,
      connectionKinds: kinds[connections],
    });
  }
  const act = prng(seed * 7919 + week + 1);
  const activity: ActivityRow[] = [];
  for (let i = 0; i < vehicles; i++) {
    if (act() >= 0.92) continue; // no row: inactive
    const active = act() < 0.85;
    const ref = week === 0 ? act() : 1;
    activity.push({
      vehicleId: String(i + 1),
      active,
      kmMeters: active ? Math.floor(act() * 600_000) : 0,
      dataTypes: typeSets[Math.floor(act() * typeSets.length)],
      referralCode: ref < 0.02 ? owners[Math.floor(act() * ownerCount)] : ref < 0.0205 ? snapshot[i].owner : null,
      line: activity.length + 2,
    });
  }
  return { snapshot, activity, owners: ownerCount };
}

export const BENCH_CHAIN_ID = 1;
export const BENCH_NETWORK = "bench";

/** The inputs of a synthetic week (week 0 unless `previous` is given). */
export function benchInputs(week: SyntheticWeek, previous: Distribution | null = null): WeekInputs {
  const policyText = fs.readFileSync(path.join(__dirname, "../config/rewards-policy.json"), "utf8");
  return {
    chainId: BENCH_CHAIN_ID,
    network: BENCH_NETWORK,
    week: previous ? previous.week + 1 : 0,
    policy: parsePolicy(policyText, "rewards-policy.json"),
    snapshot: week.snapshot,
    activity: week.activity,
    previous,
    referralBudgetWei: 1_000_000n * 10n ** 18n,
    inputFiles: {},
  };
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const rssMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

/** Spawns a TypeScript (or compiled) sibling script with the same runtime. */
function spawnScript(name: string, args: string[], inherit = false) {
  const ts = path.extname(__filename) === ".ts";
  return spawnSync(
    process.execPath,
    [
      ...(ts ? ["-r", "ts-node/register/transpile-only"] : []),
      path.join(__dirname, `${name}${path.extname(__filename)}`),
      ...args,
    ],
    { encoding: "utf8", stdio: ["ignore", inherit ? "inherit" : "pipe", "inherit"], maxBuffer: 1 << 24 },
  );
}

async function main(): Promise<void> {
  const vehicles = Number(arg("vehicles", "1000000"));
  const seed = Number(arg("seed", "1"));
  const log = (s: string) => console.log(s);
  const onlyWeek0 = arg("only-week0", "");
  if (onlyWeek0) {
    // helper mode for --week1: write week 0's files into the given directory, in a process of its own
    await computeAndWriteWeek(benchInputs(await syntheticWeek(vehicles, seed, 0)), onlyWeek0);
    return;
  }
  const week1 = process.argv.includes("--week1");
  log(
    `load: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")} (${os.cpus().length} CPUs)`,
  );
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-rewards-bench-"));
  const out = path.join(dir, BENCH_NETWORK);
  const week0Json = path.join(out, "week-0.json");
  if (week1) {
    const child = spawnScript(
      "rewards",
      ["--vehicles", String(vehicles), "--seed", String(seed), "--only-week0", out],
      true,
    );
    if (child.status !== 0) throw new Error(`writing week 0 failed (${child.status})`);
    log(`week 0 written (previous file ${(fs.statSync(week0Json).size / 1e6).toFixed(0)} MB); timing week 1`);
  }

  let t = process.hrtime.bigint();
  const week = await syntheticWeek(vehicles, seed, week1 ? 1 : 0);
  log(
    `inputs: ${vehicles} vehicles, ${week.owners} owners, ${week.activity.length} activity rows (${seconds(t).toFixed(2)} s, not timed)`,
  );
  const rssBefore = rssMb();

  // --- the timed pipeline ---
  const t0 = process.hrtime.bigint();
  let tRead = 0;
  let previous: Distribution | null = null;
  if (week1) {
    previous = readDistribution(week0Json, { keepEarnings: false });
    tRead = seconds(t0);
  }
  let tAmounts = 0;
  const written = await computeAndWriteWeek(benchInputs(week, previous), out, {
    onStage: (stage) => {
      if (stage === "amounts") tAmounts = seconds(t0);
    },
  });
  previous = null;
  const wall = seconds(t0);
  const peak = rssMb();
  // --- end of the timed pipeline ---
  const { distribution } = written;
  const cached = distribution.cachedLayer;

  // Our tree alone, on this thread (for the baseline ratio): leaves + layers from the same accounts.
  t = process.hrtime.bigint();
  const tree = await buildTree(distribution.accounts);
  const tTree = seconds(t);
  if (tree.root() !== distribution.root) throw new Error("the tree built on this thread differs");

  const jsonBytes = fs.statSync(written.jsonPath).size;
  const treeBytes = fs.statSync(written.treePath).size;
  log(
    `pipeline (week ${distribution.week}): ${week1 ? `read previous ${tRead.toFixed(2)} s, ` : ""}` +
      `amounts ${(tAmounts - tRead).toFixed(2)} s, then tree (worker thread) + files ${(wall - tAmounts).toFixed(2)} s ` +
      `(json ${(jsonBytes / 1e6).toFixed(0)} MB, tree ${(treeBytes / 1e6).toFixed(0)} MB); wall ${wall.toFixed(2)} s; ` +
      `peak RSS ${peak} MB (${rssBefore} MB after generating inputs)`,
  );
  log(
    `tree alone on one thread: ${tTree.toFixed(2)} s (${tree.leafCount} leaves, ${tree.layers.length} layers, ` +
      `${((tTree * 1e9) / (3 * tree.leafCount - 1)).toFixed(0)} ns per keccak)`,
  );
  log(
    `root ${distribution.root}, cumulative ${distribution.cumulativeTotalWei} wei, cached layer ${cached.layer} (${cached.nodes.length} nodes)`,
  );
  log(`content hash (sha256 of the JSON) ${written.contentHash}`);

  // Serve proofs from the written files.
  const rnd = prng(seed + 7);
  const samples = 1000;
  let worst = 0;
  t = process.hrtime.bigint();
  for (let s = 0; s < samples; s++) {
    const a = distribution.accounts[Math.floor(rnd() * distribution.accounts.length)];
    const t1 = process.hrtime.bigint();
    const p = proofFor(distribution, a.account);
    worst = Math.max(worst, seconds(t1));
    const top = processProofSync(p.shortProof, p.leaf);
    if (top !== distribution.cachedLayer.nodes[p.anchor - 1]) throw new Error(`short proof of ${a.account} is wrong`);
  }
  log(
    `proofFor: ${samples} proofs, mean ${((seconds(t) / samples) * 1000).toFixed(3)} ms, worst ${(worst * 1000).toFixed(3)} ms`,
  );
  // The claim page's lookup of one account by Range requests (cold cache each time, header included).
  const rangeFile = (file: string) => {
    const fd = fs.openSync(file, "r");
    const size = fs.fstatSync(fd).size;
    const f = new RangeFile(path.basename(file), size, async (start, end) => {
      const bytes = new Uint8Array(end - start);
      fs.readSync(fd, bytes, 0, bytes.length, start);
      return { offset: start, bytes, size };
    });
    return { f, close: () => fs.closeSync(fd) };
  };
  const lookups = 200;
  let requests = 0;
  let worstRequests = 0;
  let fetched = 0;
  t = process.hrtime.bigint();
  for (let s = 0; s < lookups; s++) {
    const a = distribution.accounts[Math.floor(rnd() * distribution.accounts.length)];
    const json = rangeFile(written.jsonPath);
    const treeFile = rangeFile(written.treePath);
    const h = await readWeekHeader(json.f);
    const line = await findAccountLine(json.f, h.accountsStart, a.account);
    const p = await proveEntry(treeFile.f, h, a.account, BigInt(line!.cumulativeWei as string), line!.index as number);
    if (p.anchor !== proofFor(distribution, a.account).anchor) throw new Error(`lookup of ${a.account} is wrong`);
    const n = json.f.requests + treeFile.f.requests;
    requests += n;
    worstRequests = Math.max(worstRequests, n);
    fetched += json.f.bytesFetched + treeFile.f.bytesFetched;
    json.close();
    treeFile.close();
  }
  log(
    `claim page lookup by Range requests (header + account line + proof, cold): ${lookups} accounts, mean ` +
      `${(requests / lookups).toFixed(1)} requests (worst ${worstRequests}), ${(fetched / lookups / 1024).toFixed(0)} KiB, ` +
      `${((seconds(t) / lookups) * 1000).toFixed(1)} ms each from local files`,
  );
  if (process.argv.includes("--read")) {
    t = process.hrtime.bigint();
    const back = readDistribution(written.jsonPath);
    log(`readDistribution: ${seconds(t).toFixed(2)} s (${back.accounts.length} accounts), RSS now ${rssMb()} MB`);
  }

  let ratio = Number.NaN;
  if (!process.argv.includes("--no-baseline")) {
    const child = spawnScript("rewards-baseline", [
      "--vehicles",
      String(vehicles),
      "--seed",
      String(seed),
      ...(week1 ? ["--previous", week0Json] : []),
    ]);
    if (child.status !== 0) throw new Error(`baseline failed (${child.status}): ${child.stdout}`);
    process.stdout.write(child.stdout);
    const result = JSON.parse(child.stdout.trim().split("\n").pop()!) as {
      root: string;
      leafSeconds: number;
      treeSeconds: number;
    };
    if (result.root !== distribution.root)
      throw new Error(`baseline root ${result.root} differs from ours ${distribution.root}`);
    const baseline = result.leafSeconds + result.treeSeconds;
    ratio = baseline / tTree;
    log(
      `baseline: merkletreejs + ethers ${baseline.toFixed(2)} s (leaves ${result.leafSeconds.toFixed(2)} s + tree ` +
        `${result.treeSeconds.toFixed(2)} s) vs ours ${tTree.toFixed(2)} s (leaves + tree), same root; ` +
        `tree-only ratio ${(result.treeSeconds / tTree).toFixed(1)}`,
    );
  }
  if (!process.argv.includes("--keep")) fs.rmSync(dir, { recursive: true, force: true });
  else log(`files kept in ${path.dirname(written.jsonPath)}`);
  log(
    `load: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
  log(
    `bench:rewards vehicles=${vehicles} wall_s=${wall.toFixed(2)} peak_rss_mb=${peak} baseline_ratio=${ratio.toFixed(1)}`,
  );
}

if (require.main === module) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
