/**
 * What the registry tasks need from a network: its deployment record, typed instances of the registry
 * contracts, the local signers, the EIP-712 domain, and the registry's events read page by page.
 *
 * The record is `deployments/<network>.json`; `DIMO_DEPLOYMENTS_DIR` (or the `deploymentsDir` option)
 * points at another directory, so tests and benches never touch the repository's records.
 */
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { type BaseContract, type EventLog, id, type Log, type TypedDataDomain } from "ethers";
import { type DeploymentRecord, readDeploymentRecord } from "./deploy-suite";
import { DEVICE_EVENT_NAMES, REGISTRY_EVENT_NAMES, type RegistryEvent } from "../lib/registry-snapshot";
import type { DataAccess, DeviceRegistry, VehicleRegistry } from "../typechain-types";
import {
  CONNECTION_CONSENT_TYPES,
  DOMAIN_VERSION,
  MINT_VEHICLE_TYPES,
  PAIR_DEVICE_TYPES,
  REGISTRY_DOMAIN_NAME,
} from "../lib/typed-data";

/** Environment variable naming the directory of deployment records (default `<root>/deployments`). */
export const DEPLOYMENTS_DIR_ENV = "DIMO_DEPLOYMENTS_DIR";

/** The network has no usable deployment record (not deployed, incomplete, or the node was restarted). */
export class DeploymentRecordError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DeploymentRecordError";
  }
}

/** EIP-712 types of the VehicleRegistry (see IVehicleRegistry), by message. */
export const REGISTRY_TYPES = {
  MintVehicle: MINT_VEHICLE_TYPES,
  PairDevice: PAIR_DEVICE_TYPES,
  ConnectionConsent: CONNECTION_CONSENT_TYPES,
} as const;

export interface RegistryContext {
  network: string;
  chainId: bigint;
  record: DeploymentRecord;
  /** Path of the record, relative to the project root when inside it. */
  recordFile: string;
  vehicles: VehicleRegistry;
  devices: DeviceRegistry;
  access: DataAccess;
  /** Block of the VehicleRegistry deployment: where event replays start. */
  vehiclesDeployBlock: number;
  /** EIP-712 domain of the VehicleRegistry. */
  domain: TypedDataDomain;
  signers: HardhatEthersSigner[];
}

/** Path of a network's deployment record: `<dir>/<network>.json`. */
export function deploymentRecordPath(hre: HardhatRuntimeEnvironment, deploymentsDir?: string): string {
  const dir = deploymentsDir ?? process.env[DEPLOYMENTS_DIR_ENV] ?? path.join(hre.config.paths.root, "deployments");
  return path.resolve(dir, `${hre.network.name}.json`);
}

/** Where a deployment record is and how to (re)make it: what the record's error messages name. */
export interface DeploymentRecordRef {
  /** Absolute path of the record. */
  file: string;
  /** The record's path as printed: relative to the project root when inside it. */
  recordFile: string;
  network: string;
  /** `npx hardhat deploy --network <network>`. */
  deployCmd: string;
}

/** The messages of loadDeploymentRecord's errors (a task family may word them its own way). */
export interface DeploymentRecordMessages {
  missing(ref: DeploymentRecordRef): string;
  wrongChain(ref: DeploymentRecordRef, recordChainId: number, chainId: bigint): string;
  noContract(ref: DeploymentRecordRef, name: string): string;
  noCode(ref: DeploymentRecordRef, name: string, address: string): string;
}

const DEFAULT_RECORD_MESSAGES: DeploymentRecordMessages = {
  missing: (r) => `no ${r.recordFile}: run \`${r.deployCmd}\` first`,
  wrongChain: (r, recordChainId, chainId) =>
    `${r.recordFile} is for chain ${recordChainId} but ${r.network} is chain ${chainId}: run \`${r.deployCmd} --reset\``,
  noContract: (r, name) => `${r.recordFile} has no ${name}: run \`${r.deployCmd}\` to complete it`,
  noCode: (r, name, address) =>
    `${r.recordFile}: no code at ${name} ${address} on ${r.network} (was the node restarted?): run \`${r.deployCmd} --reset\``,
};

/** Hardhat's in-process network: what a task runs on without `--network`. */
export const HARDHAT_NETWORK = "hardhat";

/** What a task on the in-process network (no `--network`) says: it needs a network that outlives the command. */
export const NO_RUNNING_NETWORK =
  "tasks need a running network: start one with `npx hardhat node --hostname 127.0.0.1` (another terminal), " +
  "deploy with `npx hardhat deploy --network localhost`, then add `--network localhost` to every task";

async function hasAnyCode(hre: HardhatRuntimeEnvironment, record: DeploymentRecord): Promise<boolean> {
  for (const c of Object.values(record.contracts)) {
    if ((await hre.ethers.provider.getCode(c.address)) !== "0x") return true;
  }
  return false;
}

/**
 * Reads the network's deployment record and checks it is usable: it exists, is for the connected chain,
 * and names each of `requiredContracts` with code at its address. Any problem is a DeploymentRecordError.
 */
export async function loadDeploymentRecord(
  hre: HardhatRuntimeEnvironment,
  requiredContracts: readonly string[],
  opts: { deploymentsDir?: string; messages?: DeploymentRecordMessages } = {},
): Promise<{ record: DeploymentRecord; recordFile: string; chainId: bigint; deployCmd: string }> {
  const { ethers, network } = hre;
  const messages = opts.messages ?? DEFAULT_RECORD_MESSAGES;
  const file = deploymentRecordPath(hre, opts.deploymentsDir);
  const rel = path.relative(hre.config.paths.root, file);
  const recordFile = rel.startsWith("..") || path.isAbsolute(rel) ? file : rel;
  const deployCmd = `npx hardhat deploy --network ${network.name}`;
  const ref: DeploymentRecordRef = { file, recordFile, network: network.name, deployCmd };
  const record = readDeploymentRecord(file);
  // Without --network a task runs on Hardhat's in-process network, born and gone with this one command:
  // deploying there cannot help the next command, so say how to run against a network that stays up.
  const inProcess = network.name === HARDHAT_NETWORK && (!record || !(await hasAnyCode(hre, record)));
  if (inProcess) throw new DeploymentRecordError(NO_RUNNING_NETWORK);
  if (!record) throw new DeploymentRecordError(messages.missing(ref));
  const chainId = (await ethers.provider.getNetwork()).chainId;
  if (BigInt(record.chainId) !== chainId) {
    throw new DeploymentRecordError(messages.wrongChain(ref, record.chainId, chainId));
  }
  for (const name of requiredContracts) {
    const c = record.contracts[name];
    if (!c) throw new DeploymentRecordError(messages.noContract(ref, name));
    if ((await ethers.provider.getCode(c.address)) === "0x") {
      throw new DeploymentRecordError(messages.noCode(ref, name, c.address));
    }
  }
  return { record, recordFile, chainId, deployCmd };
}

/** Loads and checks the network's record and returns the registry contracts and signers. */
export async function loadRegistryContext(
  hre: HardhatRuntimeEnvironment,
  opts: { deploymentsDir?: string } = {},
): Promise<RegistryContext> {
  const { ethers, network } = hre;
  const { record, recordFile, chainId } = await loadDeploymentRecord(
    hre,
    ["DeviceRegistry", "VehicleRegistry", "DataAccess"],
    { deploymentsDir: opts.deploymentsDir },
  );
  const vehiclesAddress = record.contracts.VehicleRegistry.address;
  return {
    network: network.name,
    chainId,
    record,
    recordFile,
    vehicles: await ethers.getContractAt("VehicleRegistry", vehiclesAddress),
    devices: await ethers.getContractAt("DeviceRegistry", record.contracts.DeviceRegistry.address),
    access: await ethers.getContractAt("DataAccess", record.contracts.DataAccess.address),
    vehiclesDeployBlock: record.contracts.VehicleRegistry.blockNumber,
    domain: { name: REGISTRY_DOMAIN_NAME, version: DOMAIN_VERSION, chainId, verifyingContract: vehiclesAddress },
    signers: await ethers.getSigners(),
  };
}

/** The local signer with this address, if any. */
export function localSigner(ctx: Pick<RegistryContext, "signers">, address: string): HardhatEthersSigner | undefined {
  return ctx.signers.find((s) => s.address.toLowerCase() === address.toLowerCase());
}

/** VehicleRegistry's integration roles → `IVehicleRegistry.ConnectionKind` (1 software, 2 OEM). */
const INTEGRATION_ROLE_KINDS = new Map([
  [id("SOFTWARE_INTEGRATION_ROLE"), 1],
  [id("OEM_INTEGRATION_ROLE"), 2],
]);
/** DeviceRegistry.MANUFACTURER_ROLE. */
const MANUFACTURER_ROLE = id("MANUFACTURER_ROLE");

/**
 * Converts a VehicleRegistry (`source` "vehicles") or DeviceRegistry ("devices") log to a replayable event
 * (undefined for events the snapshot ignores, e.g. admin role changes).
 */
export function toRegistryEvent(
  log: EventLog | Log,
  source: "vehicles" | "devices" = "vehicles",
): RegistryEvent | undefined {
  if (!("eventName" in log)) throw new Error(`undecodable log at block ${log.blockNumber} index ${log.index}`);
  const pos = { blockNumber: log.blockNumber, logIndex: log.index };
  const a = log.args;
  if (log.eventName === "RoleGranted" || log.eventName === "RoleRevoked") {
    const held = log.eventName === "RoleGranted";
    const role = a.role as string;
    if (source === "devices") {
      return role === MANUFACTURER_ROLE
        ? { ...pos, name: "ManufacturerRoleChanged", manufacturer: a.account as string, held }
        : undefined;
    }
    const kind = INTEGRATION_ROLE_KINDS.get(role);
    return kind === undefined
      ? undefined
      : { ...pos, name: "IntegrationRoleChanged", integration: a.account as string, kind, held };
  }
  if (source === "devices") {
    return log.eventName === "DeviceMinted"
      ? { ...pos, name: "DeviceMinted", deviceId: a.deviceId as bigint, manufacturer: a.manufacturer as string }
      : undefined;
  }
  switch (log.eventName) {
    case "VehicleMinted":
      return {
        ...pos,
        name: "VehicleMinted",
        vehicleId: a.vehicleId as bigint,
        owner: a.owner as string,
        make: a.make as string,
        model: a.model as string,
        year: Number(a.year),
        powertrain: Number(a.powertrain),
      };
    case "Transfer":
      return { ...pos, name: "Transfer", vehicleId: a.id as bigint, from: a.from as string, to: a.to as string };
    case "DevicePaired":
    case "DeviceUnpaired":
      return { ...pos, name: log.eventName, vehicleId: a.vehicleId as bigint, deviceId: a.deviceId as bigint };
    case "ConnectionAttested":
      return {
        ...pos,
        name: "ConnectionAttested",
        vehicleId: a.vehicleId as bigint,
        integration: a.integration as string,
        kind: Number(a.kind),
      };
    case "ConnectionRemoved":
      return {
        ...pos,
        name: "ConnectionRemoved",
        vehicleId: a.vehicleId as bigint,
        integration: a.integration as string,
      };
    default:
      return undefined;
  }
}

/**
 * Reads the snapshot events of the VehicleRegistry and the DeviceRegistry in blocks `[fromBlock, toBlock]`, two
 * `queryFilter`s (one eth_getLogs per contract for all its events) per window of `pageSize` blocks, merged in
 * chain order. `onPage` is called after each window with the events it held.
 */
export async function readRegistryEvents(
  ctx: RegistryContext,
  range: { fromBlock: number; toBlock: number; pageSize: number },
  onPage: (events: RegistryEvent[], page: { index: number; count: number; fromBlock: number; toBlock: number }) => void,
): Promise<void> {
  const topics = [REGISTRY_EVENT_NAMES.map((n) => ctx.vehicles.interface.getEvent(n).topicHash)];
  const deviceTopics = [DEVICE_EVENT_NAMES.map((n) => ctx.devices.interface.getEvent(n).topicHash)];
  const count = Math.max(0, Math.ceil((range.toBlock - range.fromBlock + 1) / range.pageSize));
  for (let index = 0; index < count; index++) {
    const fromBlock = range.fromBlock + index * range.pageSize;
    const toBlock = Math.min(range.toBlock, fromBlock + range.pageSize - 1);
    // A topic list (any of the six events) is plain ethers, which the typechain overloads do not declare.
    const [vehicleLogs, deviceLogs] = await Promise.all([
      (ctx.vehicles as BaseContract).queryFilter(topics, fromBlock, toBlock),
      (ctx.devices as BaseContract).queryFilter(deviceTopics, fromBlock, toBlock),
    ]);
    const events = [
      ...vehicleLogs.map((log) => toRegistryEvent(log, "vehicles")),
      ...deviceLogs.map((log) => toRegistryEvent(log, "devices")),
    ]
      .filter((e): e is RegistryEvent => e !== undefined)
      .sort((x, y) => x.blockNumber - y.blockNumber || x.logIndex - y.logIndex);
    onPage(events, { index, count, fromBlock, toBlock });
  }
}
