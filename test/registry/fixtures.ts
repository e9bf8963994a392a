import { ethers } from "hardhat";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import type { BigNumberish, Signer } from "ethers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import type { CapacityDouble, DataAccess, DeviceRegistry, VehicleRegistry } from "../../typechain-types";
import {
  pairNonces,
  signConnectionConsent,
  signPairDevice,
  type DomainOverrides,
  type VehicleInfoInput,
} from "../helpers/eip712";

export const HOUR = 3_600;
export const DAY = 86_400;

/** `IVehicleRegistry.Powertrain`. */
export const Powertrain = { ICE: 0, HEV: 1, PHEV: 2, BEV: 3 } as const;
/** `IVehicleRegistry.ConnectionKind`. */
export const ConnectionKind = { None: 0, Software: 1, Oem: 2 } as const;

export const VIN_ALICE = "5YJ3E1EA7KF317000";
export const VIN_BOB = "1HGCM82633A004352";

/**
 * Test stand-in for the VIN commitment `keccak256("DIMO-VIN-v1" ‖ scrypt(normalizedVin))` of `lib/vin.ts`: the
 * registry only sees an opaque non-zero bytes32, so a keccak of the VIN in place of its scrypt is enough here.
 */
export function vinCommitment(vin: string): string {
  return ethers.solidityPackedKeccak256(["string", "bytes32"], ["DIMO-VIN-v1", ethers.id(vin.toUpperCase())]);
}

/** A valid vehicle (a 2021 Tesla Model 3 BEV by default). */
export function vehicleInfo(overrides: Partial<VehicleInfoInput> = {}, vin = VIN_ALICE): VehicleInfoInput {
  return {
    make: "Tesla",
    model: "Model 3",
    year: 2021,
    powertrain: Powertrain.BEV,
    vinCommitment: vinCommitment(vin),
    ...overrides,
  };
}

/** A deadline `seconds` after the latest block. */
export async function deadlineIn(seconds = HOUR): Promise<bigint> {
  return BigInt((await time.latest()) + seconds);
}

/** Deterministic device keys: the key pair inside each hardware unit. */
export function deviceKey(index: number): Signer & { address: string } {
  return new ethers.Wallet(ethers.id(`DIMO test device key ${index}`));
}

/**
 * The registry suite as the deploy wires it, with signers in the roles (the Timelock is a plain `admin` signer
 * here): one manufacturer, one software and one OEM integration, a data-access registry whose capacity is a
 * `CapacityDouble` that only it may call. No vehicle or device yet.
 */
export async function registryFixture() {
  const signers = await ethers.getSigners();
  const [admin, manufacturer, software, oem, alice, bob, carol, relayer, outsider, consumerA, consumerB, consumerC] =
    signers;
  // Eight more approved software integrations, to fill a vehicle's connections.
  const extraIntegrations = signers.slice(12, 20);

  const devices = await ethers.deployContract("DeviceRegistry", [admin.address]);
  const vehicles = await ethers.deployContract("VehicleRegistry", [await devices.getAddress(), admin.address]);
  const capacity = await ethers.deployContract("CapacityDouble");
  const access = await ethers.deployContract("DataAccess", [
    await vehicles.getAddress(),
    ethers.ZeroAddress,
    admin.address,
  ]);
  await devices.connect(admin).setVehicleRegistry(await vehicles.getAddress());
  await capacity.setCaller(await access.getAddress());
  await access.connect(admin).setCapacity(await capacity.getAddress());

  await devices.connect(admin).grantRole(await devices.MANUFACTURER_ROLE(), manufacturer.address);
  const softwareRole = await vehicles.SOFTWARE_INTEGRATION_ROLE();
  await vehicles.connect(admin).grantRole(softwareRole, software.address);
  await vehicles.connect(admin).grantRole(await vehicles.OEM_INTEGRATION_ROLE(), oem.address);
  for (const integration of extraIntegrations) {
    await vehicles.connect(admin).grantRole(softwareRole, integration.address);
  }

  // Each consumer accepts every grant from the three drivers (its on-chain rule), so the tests of grants focus on
  // the other checks; the outsider is accepted by nobody. Signed offers are tested in access.test.ts.
  for (const consumer of [consumerA, consumerB, consumerC]) {
    for (const owner of [alice, bob, carol]) await access.connect(consumer).setOwnerAcceptance(owner.address, true);
  }

  return {
    admin,
    manufacturer,
    software,
    oem,
    alice,
    bob,
    carol,
    relayer,
    outsider,
    consumerA,
    consumerB,
    consumerC,
    extraIntegrations,
    devices,
    vehicles,
    capacity,
    access,
  };
}

export type RegistryContext = Awaited<ReturnType<typeof registryFixture>>;

/** `owner` mints a vehicle for themselves; returns its id. */
export async function mintVehicle(
  vehicles: VehicleRegistry,
  owner: Signer,
  info: VehicleInfoInput = vehicleInfo(),
): Promise<bigint> {
  await vehicles.connect(owner).mintVehicle(info);
  return vehicles.totalVehicles();
}

/** The manufacturer mints a device bound to `key` to `to`; returns its id. */
export async function mintDevice(
  devices: DeviceRegistry,
  manufacturer: Signer,
  to: string,
  key: string,
  serial = `AP-${key.slice(2, 10)}`,
): Promise<bigint> {
  await devices.connect(manufacturer).mintDevice(to, key, serial, "rev-7");
  return devices.totalDevices();
}

/** Both signatures of a pairing for the current nonces. */
export async function pairSignatures(
  vehicles: VehicleRegistry,
  vehicleId: BigNumberish,
  deviceId: BigNumberish,
  owner: Signer,
  device: Signer,
  deadline: BigNumberish,
  ownerAddress?: string,
  overrides: DomainOverrides = {},
): Promise<{ ownerSignature: string; deviceSignature: string }> {
  const nonces = await pairNonces(vehicles, ownerAddress ?? (await owner.getAddress()), await device.getAddress());
  const vehicleEpoch = await vehicles.ownershipEpoch(vehicleId);
  const message = { vehicleId, vehicleEpoch, deviceId, ...nonces, deadline };
  return {
    ownerSignature: await signPairDevice(owner, vehicles, message, overrides),
    deviceSignature: await signPairDevice(device, vehicles, message, overrides),
  };
}

/** Pairs a device with a vehicle with both signatures; `submitter` sends the transaction. */
export async function pair(
  vehicles: VehicleRegistry,
  vehicleId: BigNumberish,
  deviceId: BigNumberish,
  owner: Signer,
  device: Signer,
  submitter: Signer,
): Promise<void> {
  const deadline = await deadlineIn();
  const { ownerSignature, deviceSignature } = await pairSignatures(
    vehicles,
    vehicleId,
    deviceId,
    owner,
    device,
    deadline,
  );
  await vehicles.connect(submitter).pairDevice(vehicleId, deviceId, deadline, ownerSignature, deviceSignature);
}

/** The owner's consent to `integration` for the current nonce. */
export async function consentSignature(
  vehicles: VehicleRegistry,
  vehicleId: BigNumberish,
  integration: string,
  owner: Signer,
  deadline: BigNumberish,
  ownerAddress?: string,
  overrides: DomainOverrides = {},
): Promise<string> {
  const nonce = await vehicles.nonces(ownerAddress ?? (await owner.getAddress()));
  return signConnectionConsent(owner, vehicles, { vehicleId, integration, nonce, deadline }, overrides);
}

/** `integration` attests a connection with the owner's fresh consent. */
export async function connect(
  vehicles: VehicleRegistry,
  vehicleId: BigNumberish,
  integration: HardhatEthersSigner,
  owner: Signer,
): Promise<void> {
  const deadline = await deadlineIn();
  const signature = await consentSignature(vehicles, vehicleId, integration.address, owner, deadline);
  await vehicles.connect(integration).attestConnection(vehicleId, deadline, signature);
}

/** Number of grant records (non-zero permissions) a consumer holds over the given vehicles. */
export async function grantRecords(access: DataAccess, consumer: string, vehicleIds: BigNumberish[]): Promise<number> {
  let n = 0;
  for (const id of vehicleIds) {
    if ((await access.grantOf(id, consumer)).permissions !== 0n) n++;
  }
  return n;
}

/** Whether a consumer can read any of the 256 data types of a vehicle. */
export async function canReadAny(access: DataAccess, consumer: string, vehicleId: BigNumberish): Promise<boolean> {
  for (let t = 0; t < 256; t++) {
    if (await access.canRead(consumer, vehicleId, t)) return true;
  }
  return false;
}

/** Permission bits with the given data types set. */
export function permissionsOf(...dataTypes: number[]): bigint {
  return dataTypes.reduce((bits, t) => bits | (1n << BigInt(t)), 0n);
}

/**
 * Alice owns vehicle 1 (VIN_ALICE) and device 1 (bound to device key 1); Bob owns vehicle 2 (VIN_BOB) and
 * device 2 (device key 2). Nothing is paired, connected or granted. Each consumer may read 5 vehicles.
 */
export async function vehiclesFixture() {
  const ctx = await registryFixture();
  const { vehicles, devices, manufacturer, alice, bob, capacity, consumerA, consumerB, consumerC } = ctx;
  const key1 = deviceKey(1);
  const key2 = deviceKey(2);
  const aliceVehicle = await mintVehicle(vehicles, alice, vehicleInfo({}, VIN_ALICE));
  const bobVehicle = await mintVehicle(
    vehicles,
    bob,
    vehicleInfo({ make: "Honda", model: "Accord", year: 2003, powertrain: Powertrain.ICE }, VIN_BOB),
  );
  const device1 = await mintDevice(devices, manufacturer, alice.address, key1.address);
  const device2 = await mintDevice(devices, manufacturer, bob.address, key2.address);
  for (const consumer of [consumerA, consumerB, consumerC]) await capacity.setLimit(consumer.address, 5);
  return { ...ctx, key1, key2, aliceVehicle, bobVehicle, device1, device2 };
}

export const GRANT_A_PERMISSIONS = permissionsOf(0, 1, 2); // location, odometer, fuel/battery level
export const GRANT_B_PERMISSIONS = permissionsOf(3, 4, 255); // diagnostics, tire pressure, the last type

/**
 * `vehiclesFixture` plus, on Alice's vehicle 1: device 1 paired, the software and the OEM integrations
 * connected, and 30-day grants to consumers A and B (each holds one unit of capacity).
 */
export async function equippedFixture() {
  const ctx = await vehiclesFixture();
  const { vehicles, access, alice, relayer, software, oem, consumerA, consumerB, key1, aliceVehicle, device1 } = ctx;
  await pair(vehicles, aliceVehicle, device1, alice, key1, relayer);
  await connect(vehicles, aliceVehicle, software, alice);
  await connect(vehicles, aliceVehicle, oem, alice);
  const expiresAt = BigInt((await time.latest()) + 30 * DAY);
  await access.connect(alice).grant(aliceVehicle, consumerA.address, GRANT_A_PERMISSIONS, expiresAt);
  await access.connect(alice).grant(aliceVehicle, consumerB.address, GRANT_B_PERMISSIONS, expiresAt);
  return { ...ctx, expiresAt };
}

/** A contract wallet owned by `owner` (an EOA that signs for it through ERC-1271). */
export async function deployWallet(owner: HardhatEthersSigner) {
  return ethers.deployContract("ERC1271WalletDouble", [owner.address]);
}

export type { CapacityDouble, DataAccess, DeviceRegistry, VehicleRegistry };
