/**
 * DataCredits receipts (docs/data-credits.md): the EIP-712 domain and `Receipt` type the contract checks, and pure
 * sign / digest / verify helpers over ethers v6. No chain access: the caller passes the chain id and the
 * contract address.
 */
import { TypedDataEncoder, getAddress, verifyTypedData, type TypedDataDomain, type Signer } from "ethers";

export const CREDITS_DOMAIN_NAME = "DIMO DataCredits";
export const CREDITS_DOMAIN_VERSION = "1";

export const RECEIPT_TYPES = {
  Receipt: [
    { name: "consumer", type: "address" },
    { name: "node", type: "address" },
    { name: "cumulativeCredits", type: "uint256" },
    { name: "sequence", type: "uint256" },
    { name: "maxPricePerCredit", type: "uint256" },
  ],
};

/** A consumer's cumulative receipt to one node (IDataCredits.Receipt). */
export interface Receipt {
  consumer: string;
  node: string;
  cumulativeCredits: bigint;
  sequence: bigint;
  maxPricePerCredit: bigint;
}

export function creditsDomain(chainId: bigint | number, verifyingContract: string): TypedDataDomain {
  return {
    name: CREDITS_DOMAIN_NAME,
    version: CREDITS_DOMAIN_VERSION,
    chainId: BigInt(chainId),
    verifyingContract: getAddress(verifyingContract),
  };
}

/** Refuses a receipt the contract could never accept, naming the field. */
export function checkReceipt(r: Receipt): Receipt {
  const fields: [keyof Receipt, bigint][] = [
    ["cumulativeCredits", r.cumulativeCredits],
    ["sequence", r.sequence],
    ["maxPricePerCredit", r.maxPricePerCredit],
  ];
  for (const [name, v] of fields) {
    if (typeof v !== "bigint" || v < 0n || v >= 1n << 256n) throw new Error(`receipt.${name}: not a uint256 (${v})`);
  }
  if (r.sequence === 0n) throw new Error("receipt.sequence: must be at least 1 (0 is the channel's start)");
  return {
    ...r,
    consumer: addressField("consumer", r.consumer),
    node: addressField("node", r.node),
  };
}

function addressField(name: string, value: string): string {
  try {
    return getAddress(value);
  } catch {
    throw new Error(`receipt.${name}: not an address (${value})`);
  }
}

/** The EIP-712 digest DataCredits.receiptDigest returns. */
export function receiptDigest(domain: TypedDataDomain, r: Receipt): string {
  return TypedDataEncoder.hash(domain, RECEIPT_TYPES, checkReceipt(r));
}

/** The consumer signs its receipt (65-byte ECDSA signature). */
export async function signReceipt(signer: Signer, domain: TypedDataDomain, r: Receipt): Promise<string> {
  return signer.signTypedData(domain, RECEIPT_TYPES, checkReceipt(r));
}

/** Whether `signature` is the EOA `r.consumer`'s (an ERC-1271 consumer is checked on chain only). */
export function verifyReceipt(domain: TypedDataDomain, r: Receipt, signature: string): boolean {
  try {
    return getAddress(verifyTypedData(domain, RECEIPT_TYPES, checkReceipt(r), signature)) === getAddress(r.consumer);
  } catch {
    return false;
  }
}

/**
 * What a node decides before serving `credits` more: the charge of its unredeemed signed credits plus the new
 * ones must fit the consumer's available balance (IDataCredits.available).
 */
export function canServe(args: {
  available: bigint;
  pricePerCredit: bigint;
  redeemedCredits: bigint;
  signedCredits: bigint;
  credits: bigint;
}): boolean {
  const owed = (args.signedCredits - args.redeemedCredits + args.credits) * args.pricePerCredit;
  return owed <= args.available;
}

/** A consumer's credits as `data:credits` prints them (all amounts in wei). */
export interface CreditsStatus {
  balance: bigint;
  deposited: bigint;
  redeemed: bigint;
  withdrawn: bigint;
  pendingWithdrawal: bigint;
  releaseAt: bigint;
  available: bigint;
  pricePerCredit: bigint;
}

/** The lines `data:credits` prints; `format` turns wei into DIMO text. */
export function creditsLines(consumer: string, s: CreditsStatus, format: (wei: bigint) => string): string[] {
  return [
    `consumer ${consumer}`,
    `  balance            ${format(s.balance)} DIMO (deposited ${format(s.deposited)}, redeemed ${format(s.redeemed)}, withdrawn ${format(s.withdrawn)})`,
    `  pending withdrawal ${format(s.pendingWithdrawal)} DIMO` +
      (s.releaseAt === 0n ? "" : ` (from ${new Date(Number(s.releaseAt) * 1000).toISOString()})`),
    `  remaining          ${format(s.available)} DIMO = ${s.available / s.pricePerCredit} credits at ${format(s.pricePerCredit)} DIMO each`,
  ];
}
