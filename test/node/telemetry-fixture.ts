/**
 * A registry on the in-process Hardhat network with paired devices and an attested connection, a node over
 * a store target, and helpers to sign batches: shared by the node's tests and the end-to-end test.
 */
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { ethers } from "hardhat";
import { RegistryIndex } from "../../node/registry-index";
import { buildNode } from "../../node/server";
import type { TelemetryStore } from "../../node/store";
import { signBatch, type SignedBatch, type TelemetryBatch } from "../../lib/telemetry/format";
import { NODE_DEFAULTS } from "../../lib/telemetry/settings";
import {
  connect,
  deviceKey,
  mintDevice,
  mintVehicle,
  pair,
  registryFixture,
  vehicleInfo,
  VIN_BOB,
} from "../registry/fixtures";

export async function telemetryRegistryFixture() {
  const ctx = await registryFixture();
  const { vehicles, devices, manufacturer, alice, bob, software } = ctx;
  const v1 = await mintVehicle(vehicles, alice);
  const v2 = await mintVehicle(vehicles, bob, vehicleInfo({}, VIN_BOB));
  const k1 = deviceKey(1);
  const k2 = deviceKey(2);
  const k3 = deviceKey(3);
  const d1 = await mintDevice(devices, manufacturer, alice.address, k1.address);
  const d2 = await mintDevice(devices, manufacturer, alice.address, k2.address); // never paired
  const d3 = await mintDevice(devices, manufacturer, bob.address, k3.address);
  await pair(vehicles, v1, d1, alice, k1, alice);
  await pair(vehicles, v2, d3, bob, k3, bob);
  await connect(vehicles, v1, software, alice);
  const pairedAt = await time.latest();
  await time.increase(3600);
  const { chainId } = await ethers.provider.getNetwork();
  return {
    ...ctx,
    v1: v1.toString(),
    v2: v2.toString(),
    d1: d1.toString(),
    d2: d2.toString(),
    d3: d3.toString(),
    k1,
    k2,
    k3,
    pairedAt,
    chainId: Number(chainId),
    registry: await vehicles.getAddress(),
  };
}
export type TelemetryRegistry = Awaited<ReturnType<typeof telemetryRegistryFixture>>;

/** A node (not listening: use `inject`) over `store`, its index caught up with the chain. */
export async function nodeOver(
  reg: TelemetryRegistry,
  store: TelemetryStore,
  now: () => number,
  /** Verify threads (node/verify-pool.ts); 0: inline. */
  verifyThreads = 0,
) {
  const index = new RegistryIndex(ethers.provider, reg.registry, store, {
    confirmations: 0,
    maxStaleBlocks: NODE_DEFAULTS.maxStaleBlocks,
    logPageBlocks: 7, // small pages, so paging is exercised
    maxPollAgeMs: 60_000,
  });
  await index.load();
  await index.poll();
  const app = buildNode({ store, index, chainId: reg.chainId, registry: reg.registry, now, verifyThreads });
  await app.verifyReady();
  return { app, index };
}

/** A realistic device batch: `n` seconds of driving from `start` at 50 km/h (odometer from `odo0` metres). */
export function drivingBatch(opts: {
  vehicleId: string;
  deviceId?: string;
  integration?: string;
  sequence: number;
  start: number;
  span?: number;
  odo0?: number;
}): TelemetryBatch {
  const span = opts.span ?? 600;
  const odo0 = opts.odo0 ?? 1_000_000;
  const signals: TelemetryBatch["signals"] = [];
  for (let t = 0; t <= span; t += 60) {
    const ts = opts.start + t;
    signals.push({ name: "location", timestamp: ts, values: [52_520_000 + t * 10, 13_404_000 + t * 10] });
    signals.push({ name: "speed", timestamp: ts, values: [5000] });
    signals.push({ name: "odometer", timestamp: ts, values: [odo0 + Math.round((t * 50_000) / 3600)] });
  }
  signals.push({ name: "fuel_level", timestamp: opts.start, values: [600] });
  signals.push({ name: "tire_pressure", timestamp: opts.start, values: [240, 240, 238, 238] });
  return {
    vehicleId: opts.vehicleId,
    deviceId: opts.deviceId ?? "0",
    integration: opts.integration ?? ethers.ZeroAddress,
    sequence: opts.sequence,
    startTime: opts.start,
    endTime: opts.start + span,
    signals,
  };
}

export async function signed(
  signer: Parameters<typeof signBatch>[0],
  reg: TelemetryRegistry,
  batch: TelemetryBatch,
): Promise<SignedBatch> {
  return signBatch(signer, batch, reg.chainId, reg.registry);
}
