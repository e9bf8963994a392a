/**
 * Acceptance bench for `registry:snapshot`: registers 1,000 vehicles on a local node (mixed powertrains, paired
 * devices, software and OEM connections, transfers, unpairs, disconnects), times the snapshot (it must take
 * at most 30 s) and checks every CSV row against on-chain reads at the snapshot block (ownerOf, vehicle(),
 * pairedDevice, connections).
 *
 *   npx hardhat node --hostname 127.0.0.1 --port 8546        # optional: in another terminal
 *   npx hardhat run bench/registry-snapshot.ts --network localhost
 *
 * Port: hardhat.config.ts points `localhost` at 8545; before its first request this bench re-points it at
 * DIMO_BENCH_RPC_URL (default http://127.0.0.1:8546), so it never disturbs a node someone else runs on 8545.
 * When nothing answers there, the bench starts `hardhat node --hostname 127.0.0.1 --port 8546` itself and
 * stops that process (by its pid) at the end. With `--network hardhat` it runs in process instead.
 *
 * The deployment record goes to a fresh directory under the OS temp dir (DIMO_DEPLOYMENTS_DIR), never into
 * deployments/. BENCH_VEHICLES changes the number of vehicles (default 1000). Exit code 1 on a mismatch or
 * when the snapshot takes longer than 30 s.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import type { HttpNetworkConfig } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { Wallet } from "ethers";
import { deploySuite } from "../scripts/deploy-suite";
import { DEPLOYMENTS_DIR_ENV, REGISTRY_TYPES, loadRegistryContext } from "../scripts/registry-context";
import { vinCommitmentAsync } from "../lib/vin";
import { parseRegistrySnapshot } from "../lib/registry-snapshot";
import { POWERTRAINS, CONNECTION_KINDS } from "../lib/registry-args";

const VEHICLES = Number(process.env.BENCH_VEHICLES ?? 1000);
const LIMIT_SECONDS = 30;
const RPC_URL = process.env.DIMO_BENCH_RPC_URL ?? "http://127.0.0.1:8546";
const FIRST_DRIVER = 7; // accounts 0-6 are deployer, guardian, DAO members, manufacturer, integrations
const VIA_TASK = 10; // the first vehicles go through `vehicle:register` itself
const MAKES: [string, string][] = [
  ["Tesla", "Model 3"],
  ["Toyota", "Prius, Prime"],
  ["Ford", "F-150"],
  ["BMW", "i4 eDrive40"],
  ["Hyundai", "Ioniq 5"],
  ["Volkswagen", "ID.4"],
  ["Honda", "Accord"],
  ["Kia", "Niro (PHEV)"],
];
const WMI = ["5YJ", "JTD", "1FT", "WBA", "KMH", "WVW", "1HG", "KNA"];

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      signal: AbortSignal.timeout(2000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

async function startNode(url: string): Promise<ChildProcess> {
  const { hostname, port } = new URL(url);
  const args = ["node", "--hostname", hostname, "--port", port];
  console.log(`bench: starting \`npx hardhat ${args.join(" ")}\``);
  const child = spawn(process.execPath, [require.resolve("hardhat/internal/cli/cli"), ...args], {
    cwd: hre.config.paths.root,
    // `hardhat run --network localhost` exports HARDHAT_NETWORK; the node must run the in-process network.
    env: { ...process.env, HARDHAT_NETWORK: undefined },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let seen = "";
    const timer = setTimeout(() => reject(new Error(`hardhat node did not start:\n${seen}`)), 60_000);
    child.stdout!.on("data", (chunk: Buffer) => {
      if (seen.length < 100_000) seen += chunk.toString();
      if (seen.includes("Started HTTP")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (seen += chunk.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hardhat node exited (${code}):\n${seen}`));
    });
  });
  return child;
}

function vinOf(i: number): string {
  // WMI (3) + descriptor (5) + check position (1) + year (1) + plant (1) + serial (6) = 17 characters.
  return `${WMI[i % WMI.length]}ABCDE0R${"ABCDEFGH"[i % 8]}${String(100000 + i)}`;
}

async function inChunks<T>(items: T[], size: number, f: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < items.length; start += size) {
    await Promise.all(items.slice(start, start + size).map((item, k) => f(item, start + k)));
  }
}

async function main(): Promise<void> {
  let node: ChildProcess | undefined;
  if (hre.network.name === "localhost") {
    (hre.network.config as HttpNetworkConfig).url = RPC_URL; // before the provider's first request
    if (!(await answers(RPC_URL))) node = await startNode(RPC_URL);
    console.log(`bench: node at ${RPC_URL}`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-bench-"));
  process.env[DEPLOYMENTS_DIR_ENV] = dir;
  try {
    await bench(dir);
  } finally {
    if (node) {
      node.kill("SIGTERM");
      console.log(`bench: stopped the node it started (pid ${node.pid})`);
    }
  }
}

async function bench(dir: string): Promise<void> {
  const t0 = Date.now();
  const since = () => `${((Date.now() - t0) / 1000).toFixed(1)} s`;
  await deploySuite(hre, { recordPath: path.join(dir, `${hre.network.name}.json`), reset: true, log: () => undefined });
  const ctx = await loadRegistryContext(hre);
  const { vehicles, devices, domain } = ctx;
  const signers = ctx.signers;
  const drivers = signers.slice(FIRST_DRIVER);
  const [manufacturer, software, oem] = [signers[4], signers[5], signers[6]];
  const ownerOf = new Map<number, HardhatEthersSigner>();
  const deadline = 2n ** 64n;
  console.log(`bench: deployed (${since()}); ${drivers.length} drivers; records in ${dir}`);

  // 1. Vehicles: a few through the task, the rest straight to the contract (same commitment, computed in parallel).
  const log = console.log;
  for (let i = 0; i < Math.min(VIA_TASK, VEHICLES); i++) {
    const [make, model] = MAKES[i % MAKES.length];
    console.log = () => undefined;
    try {
      await hre.run("vehicle:register", {
        make,
        model,
        year: String(2000 + (i % 25)),
        powertrain: POWERTRAINS[i % 4],
        vin: vinOf(i),
        owner: String(FIRST_DRIVER + (i % drivers.length)),
      });
    } finally {
      console.log = log;
    }
    ownerOf.set(i + 1, drivers[i % drivers.length]);
  }
  const rest = Array.from({ length: Math.max(0, VEHICLES - VIA_TASK) }, (_, k) => VIA_TASK + k);
  const commitments = new Map<number, string>();
  await inChunks(rest, 8, async (i) => void commitments.set(i, await vinCommitmentAsync(vinOf(i))));
  console.log(`bench: ${rest.length} VIN commitments computed (${since()})`);
  for (const i of rest) {
    const [make, model] = MAKES[i % MAKES.length];
    const driver = drivers[i % drivers.length];
    await vehicles.connect(driver).mintVehicle({
      make,
      model,
      year: 2000 + (i % 25),
      powertrain: i % 4,
      vinCommitment: commitments.get(i)!,
    });
    ownerOf.set(i + 1, driver);
  }
  console.log(`bench: ${VEHICLES} vehicles registered (${since()})`);

  // 2. Devices for every third vehicle, paired with both signatures.
  let deviceCount = 0;
  async function pair(vehicleId: number): Promise<void> {
    const key = Wallet.createRandom();
    const owner = ownerOf.get(vehicleId)!;
    await devices.connect(manufacturer).mintDevice(owner.address, key.address, `AP-${vehicleId}`, "7.2");
    const deviceId = BigInt(++deviceCount);
    const value = {
      vehicleId: BigInt(vehicleId),
      vehicleEpoch: await vehicles.ownershipEpoch(vehicleId),
      deviceId,
      ownerNonce: await vehicles.nonces(owner.address),
      deviceNonce: 0n,
      deadline,
    };
    const ownerSig = await owner.signTypedData(domain, REGISTRY_TYPES.PairDevice, value);
    const deviceSig = await key.signTypedData(domain, REGISTRY_TYPES.PairDevice, value);
    await vehicles.connect(owner).pairDevice(vehicleId, deviceId, deadline, ownerSig, deviceSig);
  }
  async function attest(vehicleId: number, integration: HardhatEthersSigner): Promise<void> {
    const owner = ownerOf.get(vehicleId)!;
    const value = {
      vehicleId: BigInt(vehicleId),
      integration: integration.address,
      nonce: await vehicles.nonces(owner.address),
      deadline,
    };
    const sig = await owner.signTypedData(domain, REGISTRY_TYPES.ConnectionConsent, value);
    await vehicles.connect(integration).attestConnection(vehicleId, deadline, sig);
  }
  const ids = Array.from({ length: VEHICLES }, (_, k) => k + 1);
  for (const id of ids.filter((id) => id % 3 === 0)) await pair(id);
  console.log(`bench: ${deviceCount} devices minted and paired (${since()})`);
  // 3. Connections: software on every fourth vehicle, OEM on every fifth (some have both).
  for (const id of ids.filter((id) => id % 4 === 1)) await attest(id, software);
  for (const id of ids.filter((id) => id % 5 === 2)) await attest(id, oem);
  console.log(`bench: connections attested (${since()})`);
  // 4. Transfers (every tenth vehicle: clears its pairing and connections), some re-paired by the new owner;
  //    explicit unpairs and disconnects.
  for (const id of ids.filter((id) => id % 10 === 0)) {
    const from = ownerOf.get(id)!;
    const to = drivers[(drivers.indexOf(from) + 1) % drivers.length];
    await vehicles.connect(from).transferFrom(from.address, to.address, id);
    ownerOf.set(id, to);
  }
  for (const id of ids.filter((id) => id % 50 === 0)) await pair(id);
  for (const id of ids.filter((id) => id % 30 === 3)) await vehicles.connect(ownerOf.get(id)!).unpairDevice(id);
  for (const id of ids.filter((id) => id % 40 === 1)) await vehicles.connect(software).disconnect(id, software.address);
  console.log(`bench: transfers, unpairs and disconnects done (${since()})`);

  // 5. The timed snapshot.
  const out = path.join(dir, "vehicles.csv");
  const started = Date.now();
  const snap = await hre.run("registry:snapshot", { out });
  const seconds = (Date.now() - started) / 1000;
  const paged = await hre.run("registry:snapshot", { out: path.join(dir, "vehicles-paged.csv"), pageSize: "500" });

  // 6. Every row against the chain at the snapshot block.
  const rows = parseRegistrySnapshot(fs.readFileSync(out, "utf8"), out);
  const blockTag = snap.block as number;
  const total = Number(await vehicles.totalVehicles({ blockTag }));
  const mismatches: string[] = [];
  if (rows.length !== total) mismatches.push(`${rows.length} rows but ${total} vehicles on chain`);
  await inChunks(rows, 25, async (r) => {
    const [owner, info, device, [integrations, kinds]] = await Promise.all([
      vehicles.ownerOf(r.vehicleId, { blockTag }),
      vehicles.vehicle(r.vehicleId, { blockTag }),
      vehicles.pairedDevice(r.vehicleId, { blockTag }),
      vehicles.connections(r.vehicleId, { blockTag }),
    ]);
    const chain = {
      owner,
      powertrain: POWERTRAINS[Number(info.powertrain)],
      make: info.make,
      model: info.model,
      year: Number(info.year),
      pairedDevice: device === 0n ? null : device,
      connectionKinds: kinds.map((k) => CONNECTION_KINDS[Number(k) as 1 | 2]).sort(),
    };
    const { vehicleId: _id, ...csv } = r;
    if (JSON.stringify(chain, big) !== JSON.stringify(csv, big)) {
      mismatches.push(`vehicle ${r.vehicleId}: csv ${JSON.stringify(csv, big)} chain ${JSON.stringify(chain, big)}`);
    }
    if (integrations.length !== kinds.length) mismatches.push(`vehicle ${r.vehicleId}: connections() lengths differ`);
  });
  const count = (f: (r: (typeof rows)[number]) => boolean) => rows.filter(f).length;
  console.log(
    `bench: ${rows.length} rows (${POWERTRAINS.map((p) => `${p} ${count((r) => r.powertrain === p)}`).join(", ")}; ` +
      `paired ${count((r) => r.pairedDevice !== null)}; with connections ${count((r) => r.connectionKinds.length > 0)}; ` +
      `oem+software ${count((r) => r.connectionKinds.join(";") === "oem;software")})`,
  );
  console.log(`bench: ${snap.events} events over blocks ${ctx.vehiclesDeployBlock}-${snap.block}`);
  console.log(
    `bench: registry:snapshot took ${seconds.toFixed(2)} s wall (task's own figure ${snap.seconds.toFixed(2)} s; ${snap.pages} page(s) of 5000)`,
  );
  console.log(
    `bench: with --page-size 500: ${paged.seconds.toFixed(2)} s, ${paged.pages} pages, same bytes: ${paged.sha256 === snap.sha256}`,
  );
  if (paged.sha256 !== snap.sha256) mismatches.push("page size 500 gave a different file");
  if (mismatches.length > 0) {
    console.error(`bench: ${mismatches.length} mismatch(es):\n  ${mismatches.slice(0, 20).join("\n  ")}`);
    process.exitCode = 1;
  } else {
    console.log(
      `bench: all ${rows.length} rows match ownerOf, vehicle(), pairedDevice and connections at block ${blockTag}`,
    );
  }
  if (seconds > LIMIT_SECONDS) {
    console.error(`bench: FAIL: the snapshot took ${seconds.toFixed(2)} s, over the ${LIMIT_SECONDS} s limit`);
    process.exitCode = 1;
  } else {
    console.log(`bench: PASS: snapshot ${seconds.toFixed(2)} s <= ${LIMIT_SECONDS} s (total run ${since()})`);
  }
}

function big(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
