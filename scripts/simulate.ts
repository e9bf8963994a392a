/**
 * npm run simulate [-- --vehicles 20 --seed 7 --db file.sqlite] — a fleet of virtual devices on the
 * in-process Hardhat network: deploys a registry, registers vehicles (a fifth electric), mints and pairs one
 * hardware device per vehicle (one vehicle connected through a software integration instead), starts the
 * network node on 127.0.0.1, and has every device sign and POST a day of realistic telemetry (trips, idle,
 * EV charging). A few faulty devices send bad batches: a wrong key (forged), an unpaired device, replays,
 * GPS out of range, a clock far ahead. Ends with batches accepted and refused by reason, and the day's
 * derived activity.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import { WeekActivityBuilder, metersToKm } from "../lib/telemetry/activity";
import { signBatch, type SignedBatch, type TelemetryBatch } from "../lib/telemetry/format";
import { prng, simulateDay, type VirtualVehicle } from "../lib/telemetry/simulator";
import { CONNECTION_CONSENT_TYPES, DOMAIN_VERSION, PAIR_DEVICE_TYPES, REGISTRY_DOMAIN_NAME } from "../lib/typed-data";
import { RegistryIndex } from "../node/registry-index";
import { buildNode } from "../node/server";
import { openStore } from "../node/store";

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? "");
}
function positive(name: string, fallback: number): number {
  const v = option(name, String(fallback));
  if (!/^\d+$/.test(v) || Number(v) < 1) {
    console.error(`simulate: --${name}: expected a positive integer, got "${v}"`);
    process.exit(1);
  }
  return Number(v);
}

async function main(): Promise<void> {
  const vehiclesN = Math.max(2, positive("vehicles", 20));
  const seed = positive("seed", 7);
  const dbFile = option("db", path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dimo-simulate-")), "telemetry.sqlite"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hre = require("hardhat") as HardhatRuntimeEnvironment;
  const { ethers } = hre;
  console.log(`simulate: ${vehiclesN} vehicles, seed ${seed}, store ${dbFile}`);
  const [admin, manufacturer, software, owner] = await ethers.getSigners();
  const devices = await ethers.deployContract("DeviceRegistry", [admin.address]);
  const vehicles = await ethers.deployContract("VehicleRegistry", [await devices.getAddress(), admin.address]);
  await devices.grantRole(await devices.MANUFACTURER_ROLE(), manufacturer.address);
  await vehicles.grantRole(await vehicles.SOFTWARE_INTEGRATION_ROLE(), software.address);
  const registry = await vehicles.getAddress();
  const chainId = Number((await ethers.provider.getNetwork()).chainId);
  const domain = { name: REGISTRY_DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract: registry };
  const latest = async () => (await ethers.provider.getBlock("latest"))!.timestamp;

  const fleet: (VirtualVehicle & { key: InstanceType<typeof ethers.Wallet> | null })[] = [];
  for (let i = 0; i < vehiclesN; i++) {
    const electric = i % 5 === 0;
    const vin = ethers.keccak256(ethers.toUtf8Bytes(`simulate:${seed}:vin:${i}`));
    await vehicles.connect(owner).mintVehicle({
      make: electric ? "Tesla" : "Toyota",
      model: electric ? "3" : "Corolla",
      year: 2021,
      powertrain: electric ? 3 : 0,
      vinCommitment: vin,
    });
    const vehicleId = (await vehicles.totalVehicles()).toString();
    const base = {
      vehicleId,
      electric,
      lat: 48_137_000 + i * 1000,
      lon: 11_575_000 + i * 1000,
      odometer: 20_000_000 + i * 1_000_000,
      level: 700,
      sequence: 0,
    };
    if (i === 1) {
      const deadline = (await latest()) + 3600;
      const sig = await owner.signTypedData(domain, CONNECTION_CONSENT_TYPES, {
        vehicleId,
        integration: software.address,
        nonce: await vehicles.nonces(owner.address),
        deadline,
      });
      await vehicles.connect(software).attestConnection(vehicleId, deadline, sig);
      fleet.push({ ...base, deviceId: "0", integration: software.address, key: null });
      continue;
    }
    const key = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`simulate:${seed}:device:${i}`)));
    await devices.connect(manufacturer).mintDevice(owner.address, key.address, `SIM-${i}`, "1");
    const deviceId = (await devices.totalDevices()).toString();
    const deadline = (await latest()) + 3600;
    const msg = {
      vehicleId,
      vehicleEpoch: await vehicles.ownershipEpoch(vehicleId),
      deviceId,
      ownerNonce: await vehicles.nonces(owner.address),
      deviceNonce: await vehicles.nonces(key.address),
      deadline,
    };
    await vehicles
      .connect(owner)
      .pairDevice(
        vehicleId,
        deviceId,
        deadline,
        await owner.signTypedData(domain, PAIR_DEVICE_TYPES, msg),
        await key.signTypedData(domain, PAIR_DEVICE_TYPES, msg),
      );
    fleet.push({ ...base, deviceId, integration: ethers.ZeroAddress, key });
  }
  // One more device, minted but never paired (a faulty install).
  const strayKey = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`simulate:${seed}:stray`)));
  await devices.connect(manufacturer).mintDevice(owner.address, strayKey.address, "SIM-STRAY", "1");
  const strayId = (await devices.totalDevices()).toString();

  const dayStart = await latest();
  await ethers.provider.send("evm_increaseTime", [86_400]);
  await ethers.provider.send("evm_mine", []);
  const now = await latest();

  const store = await openStore({ sqliteFile: dbFile });
  const index = new RegistryIndex(ethers.provider, registry, store, {
    confirmations: 0,
    maxStaleBlocks: 12,
    logPageBlocks: 5000,
    maxPollAgeMs: 600_000,
  });
  await index.load();
  await index.poll();
  const app = buildNode({ store, index, chainId, registry, now: () => now });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/batches`;
  console.log(`simulate: node listening on ${url}`);

  const rand = prng(seed);
  const results = new Map<string, number>();
  const post = async (body: SignedBatch | object, label: string) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const code = res.status === 201 ? "accepted" : ((await res.json()) as { code: string }).code;
    results.set(code, (results.get(code) ?? 0) + 1);
    if (code !== "accepted" && process.env.SIMULATE_VERBOSE) console.log(`  ${label}: ${code}`);
  };
  const sign = (v: (typeof fleet)[number], b: TelemetryBatch) => signBatch(v.key ?? software, b, chainId, registry);
  const forger = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`simulate:${seed}:forger`)));
  let faulty = 0;
  for (const [i, v] of fleet.entries()) {
    const batches = simulateDay(v, dayStart, 86_400, rand);
    for (const [k, b] of batches.entries()) {
      await post(await sign(v, b), `vehicle ${v.vehicleId}`);
      // Faulty devices, every seventh vehicle from the third: one fault each, once.
      if (i >= 2 && i % 7 === 2 && k === 0) {
        faulty++;
        const kind = Math.floor(i / 7) % 4;
        if (kind === 0)
          await post(await signBatch(forger, { ...b, sequence: b.sequence + 1000 }, chainId, registry), "forged");
        if (kind === 1) await post(await sign(v, b), "replay");
        if (kind === 2) {
          const bad = structuredClone(b);
          bad.sequence += 1000;
          bad.signals[0].values[0] = 91_000_000;
          await post(await sign(v, bad), "gps out of range");
        }
        if (kind === 3)
          await post(
            await sign(v, {
              ...b,
              sequence: b.sequence + 1000,
              startTime: now + 3600,
              endTime: now + 3660,
              signals: b.signals.slice(0, 1).map((s) => ({ ...s, timestamp: now + 3600 })),
            }),
            "clock ahead",
          );
      }
    }
  }
  const strayVehicle: VirtualVehicle = { ...fleet[0], deviceId: strayId, sequence: 0 };
  for (const b of simulateDay(strayVehicle, dayStart, 86_400, rand).slice(0, 3))
    await post(await signBatch(strayKey, b, chainId, registry), "stray device");
  await app.close();

  const builder = new WeekActivityBuilder(dayStart, now + 1);
  for await (const page of store.batchesStartingIn(dayStart, now + 1)) for (const r of page) builder.add(r.summary);
  const activity = builder.result();
  await store.close();

  console.log(
    `\nBatches: ${[...results.entries()].map(([c, n]) => `${c} ${n}`).join(", ")} (${faulty} faulty devices and one unpaired device)`,
  );
  console.log("vehicle  kind      km       connected  data types");
  for (const a of activity) {
    const v = fleet.find((f) => f.vehicleId === a.vehicleId)!;
    console.log(
      `${a.vehicleId.padStart(7)}  ${(v.integration !== ethers.ZeroAddress ? "software" : v.electric ? "EV" : "ICE").padEnd(8)}  ${metersToKm(a.meters).padStart(7)}  ${(Math.round(a.connectedSeconds / 60) + " min").padStart(9)}  ${a.dataTypes.join(",")}`,
    );
  }
}

void main().catch((e: Error) => {
  console.error(`simulate: ${e.message}`);
  process.exit(1);
});
