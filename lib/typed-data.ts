/**
 * The EIP-712 domains and types the contracts check (see the interfaces' NatSpec): one definition for the
 * tasks, scripts and tests that sign them.
 */

/** DimoToken's EIP-2612 domain name (ERC20Permit) and `Permit` type. */
export const TOKEN_DOMAIN_NAME = "Dimo";
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** RewardDistributor's domain name and the `ClaimTo` a relayer submits (`claimToWithSig`). */
export const DISTRIBUTOR_DOMAIN_NAME = "DIMO RewardDistributor";
export const CLAIM_TO_TYPES = {
  ClaimTo: [
    { name: "account", type: "address" },
    { name: "recipient", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** VehicleRegistry's domain name and its three signed messages. */
export const REGISTRY_DOMAIN_NAME = "DIMO VehicleRegistry";
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
    { name: "vehicleEpoch", type: "uint256" },
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

/** Every domain of the suite is version "1". */
export const DOMAIN_VERSION = "1";

/** DataAccess's domain name and the `AccessConsent` offer a consumer signs for one vehicle and its owner. */
export const DATA_ACCESS_DOMAIN_NAME = "DIMO DataAccess";
export const ACCESS_CONSENT_TYPES = {
  AccessConsent: [
    { name: "vehicleId", type: "uint256" },
    { name: "owner", type: "address" },
    { name: "permissions", type: "uint256" },
    { name: "expiresAt", type: "uint64" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};
