import { ethers } from "hardhat";
import type { BigNumberish, BytesLike, Signer, TypedDataDomain } from "ethers";
import type { VehicleRegistry } from "../../typechain-types";

/** EIP-712 domain of the vehicle registry (name and version as in its constructor). */
export const REGISTRY_DOMAIN_NAME = "DIMO VehicleRegistry";
export const REGISTRY_DOMAIN_VERSION = "1";

export const MINT_VEHICLE_TYPES = {
  MintVehicle: [
    { name: "owner", type: "address" },
    { name: "make", type: "string" },
    { name: "model", type: "string" },
    { name: "year", type: "uint16" },
    { name: "powertrain", type: "uint8" },
    { name: "vinCommitment", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export const PAIR_DEVICE_TYPES = {
  PairDevice: [
    { name: "vehicleId", type: "uint256" },
    { name: "deviceId", type: "uint256" },
    { name: "ownerNonce", type: "uint256" },
    { name: "deviceNonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

export const CONNECTION_CONSENT_TYPES = {
  ConnectionConsent: [
    { name: "vehicleId", type: "uint256" },
    { name: "integration", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/**
 * Overrides that make a signature deliberately wrong: another chain id or another verifying contract than
 * the registry the signature is submitted to.
 */
export interface DomainOverrides {
  chainId?: BigNumberish;
  verifyingContract?: string;
}

/** The registry's EIP-712 domain, with optional overrides. */
export async function registryDomain(
  registry: VehicleRegistry,
  overrides: DomainOverrides = {},
): Promise<TypedDataDomain> {
  const { chainId } = await ethers.provider.getNetwork();
  return {
    name: REGISTRY_DOMAIN_NAME,
    version: REGISTRY_DOMAIN_VERSION,
    chainId: overrides.chainId ?? chainId,
    verifyingContract: overrides.verifyingContract ?? (await registry.getAddress()),
  };
}

/** A vehicle's data as `mintVehicle` takes it. */
export interface VehicleInfoInput {
  make: string;
  model: string;
  year: BigNumberish;
  powertrain: BigNumberish;
  vinCommitment: BytesLike;
}

export interface MintVehicleMessage {
  owner: string;
  info: VehicleInfoInput;
  nonce: BigNumberish;
  deadline: BigNumberish;
}

export interface PairDeviceMessage {
  vehicleId: BigNumberish;
  deviceId: BigNumberish;
  ownerNonce: BigNumberish;
  deviceNonce: BigNumberish;
  deadline: BigNumberish;
}

export interface ConnectionConsentMessage {
  vehicleId: BigNumberish;
  integration: string;
  nonce: BigNumberish;
  deadline: BigNumberish;
}

/** `signer` signs `MintVehicle` (normally `signer` is the owner, or the EOA behind a contract-wallet owner). */
export async function signMintVehicle(
  signer: Signer,
  registry: VehicleRegistry,
  message: MintVehicleMessage,
  overrides: DomainOverrides = {},
): Promise<string> {
  const { owner, info, nonce, deadline } = message;
  return signer.signTypedData(await registryDomain(registry, overrides), MINT_VEHICLE_TYPES, {
    owner,
    make: info.make,
    model: info.model,
    year: info.year,
    powertrain: info.powertrain,
    vinCommitment: info.vinCommitment,
    nonce,
    deadline,
  });
}

/** `signer` signs `PairDevice` (both the vehicle owner and the device key sign the same message). */
export async function signPairDevice(
  signer: Signer,
  registry: VehicleRegistry,
  message: PairDeviceMessage,
  overrides: DomainOverrides = {},
): Promise<string> {
  return signer.signTypedData(await registryDomain(registry, overrides), PAIR_DEVICE_TYPES, { ...message });
}

/** `signer` signs `ConnectionConsent` (normally the vehicle owner). */
export async function signConnectionConsent(
  signer: Signer,
  registry: VehicleRegistry,
  message: ConnectionConsentMessage,
  overrides: DomainOverrides = {},
): Promise<string> {
  return signer.signTypedData(await registryDomain(registry, overrides), CONNECTION_CONSENT_TYPES, { ...message });
}

/**
 * The nonces the registry will use for a pairing right now: the owner's, then the device key's (owners and
 * device keys share one nonce space, so a key that is also the owner uses the next one).
 */
export async function pairNonces(
  registry: VehicleRegistry,
  owner: string,
  deviceKey: string,
): Promise<{ ownerNonce: bigint; deviceNonce: bigint }> {
  const ownerNonce = await registry.nonces(owner);
  const deviceNonce = owner === deviceKey ? ownerNonce + 1n : await registry.nonces(deviceKey);
  return { ownerNonce, deviceNonce };
}
