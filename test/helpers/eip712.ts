import { ethers } from "hardhat";
import type { BigNumberish, BytesLike, Signer, TypedDataDomain } from "ethers";
import type { VehicleRegistry } from "../../typechain-types";

import {
  CONNECTION_CONSENT_TYPES,
  DOMAIN_VERSION as REGISTRY_DOMAIN_VERSION,
  MINT_VEHICLE_TYPES,
  PAIR_DEVICE_TYPES,
  REGISTRY_DOMAIN_NAME,
} from "../../lib/typed-data";

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
  /** The vehicle's ownership epoch when signed (`ownershipEpoch(vehicleId)`). */
  vehicleEpoch: BigNumberish;
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
