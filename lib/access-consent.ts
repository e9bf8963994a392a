/**
 * A data consumer's signed acceptance of one grant (`IDataAccess.grantWithConsent`): the EIP-712 `AccessConsent`
 * offer for a vehicle and its owner, with an unordered nonce (any value the consumer has not used or cancelled)
 * and a deadline. Pure: the signer is any ethers signer (a local account, a wallet, a backend key).
 */
import { randomBytes } from "node:crypto";
import type { Signer } from "ethers";
import { ACCESS_CONSENT_TYPES, DATA_ACCESS_DOMAIN_NAME, DOMAIN_VERSION } from "./typed-data";

export interface AccessConsent {
  vehicleId: bigint;
  owner: string;
  permissions: bigint;
  expiresAt: bigint;
  nonce: bigint;
  deadline: bigint;
}

/** The DataAccess contract the offer is bound to. */
export interface AccessConsentDomain {
  chainId: bigint;
  verifyingContract: string;
}

/** A fresh unordered nonce: 128 random bits, so offers signed in parallel (thousands of drivers) never collide. */
export function randomConsentNonce(): bigint {
  return BigInt(`0x${randomBytes(16).toString("hex")}`);
}

/** The consumer's signature of `consent` for the DataAccess contract of `domain`. */
export function signAccessConsent(
  consumer: Pick<Signer, "signTypedData">,
  domain: AccessConsentDomain,
  consent: AccessConsent,
): Promise<string> {
  return consumer.signTypedData(
    { name: DATA_ACCESS_DOMAIN_NAME, version: DOMAIN_VERSION, ...domain },
    ACCESS_CONSENT_TYPES,
    { ...consent },
  );
}
