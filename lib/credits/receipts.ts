/**
 * DataCredits receipts (docs/data-credits.md): the EIP-712 domain and `Receipt` type the contract checks, and pure
 * sign / digest / verify helpers over ethers v6, and the data API's `X-Dimo-Receipt` header. No chain access (the
 * caller passes the chain id and the contract address) except `isReceiptSigned`'s ERC-1271 call through the
 * provider it is given.
 */
import {
  Interface,
  TypedDataEncoder,
  decodeBase64,
  encodeBase64,
  toUtf8Bytes,
  toUtf8String,
  getAddress,
  verifyTypedData,
  type TypedDataDomain,
  type Signer,
} from "ethers";

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

// ---------------------------------------------------------------- the data API's receipt header

/** The request header a consumer sends its receipt in (docs/data-api.md "Paying for reads"). */
export const RECEIPT_HEADER = "x-dimo-receipt";
/** Longest header value accepted, characters (a Safe's ERC-1271 signature of a few owners fits). */
export const MAX_RECEIPT_HEADER_LENGTH = 4_096;
/** ERC-1271 `isValidSignature` magic value. */
export const ERC1271_MAGIC = "0x1626ba7e";

/** What the header carries: the receipt's numbers (consumer and node are implied) and the signature. */
export interface ReceiptHeader {
  sequence: bigint;
  cumulativeCredits: bigint;
  maxPricePerCredit: bigint;
  signature: string;
}

const UINT256_TEXT = /^(0|[1-9][0-9]{0,77})$/;

/**
 * The header value: base64url (RFC 4648 §5, no padding) of the compact JSON
 * `{"sequence":"3","cumulativeCredits":"7","maxPricePerCredit":"1000000000000000","signature":"0x…"}` (decimal
 * strings: uint256 values). Base64url keeps quotes and
 * commas out of the header (proxies split on commas). Works in browsers (no Buffer).
 */
export function encodeReceiptHeader(h: ReceiptHeader): string {
  const json = JSON.stringify({
    sequence: h.sequence.toString(),
    cumulativeCredits: h.cumulativeCredits.toString(),
    maxPricePerCredit: h.maxPricePerCredit.toString(),
    signature: h.signature,
  });
  return encodeBase64(toUtf8Bytes(json)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A header value that does not decode: `field` names the part at fault (`receipt` for the whole value). */
export class ReceiptHeaderError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = "ReceiptHeaderError";
  }
}

/** Decodes the header value, or throws a ReceiptHeaderError naming the field. */
export function decodeReceiptHeader(value: string): ReceiptHeader {
  if (value.length > MAX_RECEIPT_HEADER_LENGTH)
    throw new ReceiptHeaderError("receipt", `longer than ${MAX_RECEIPT_HEADER_LENGTH} characters`);
  if (!/^[A-Za-z0-9_-]+$/.test(value)) throw new ReceiptHeaderError("receipt", "not base64url");
  let json: unknown;
  try {
    const b64 = value.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (value.length % 4)) % 4);
    json = JSON.parse(toUtf8String(decodeBase64(b64)));
  } catch {
    throw new ReceiptHeaderError("receipt", "not base64url of a JSON object");
  }
  if (json === null || typeof json !== "object" || Array.isArray(json))
    throw new ReceiptHeaderError("receipt", "not base64url of a JSON object");
  const o = json as Record<string, unknown>;
  const known = ["sequence", "cumulativeCredits", "maxPricePerCredit", "signature"];
  const extra = Object.keys(o).find((k) => !known.includes(k));
  if (extra !== undefined) throw new ReceiptHeaderError(`receipt.${extra}`, "unknown field");
  const num = (name: string): bigint => {
    const v = o[name];
    if (typeof v !== "string" || !UINT256_TEXT.test(v) || BigInt(v) >= 1n << 256n)
      throw new ReceiptHeaderError(`receipt.${name}`, "expected a decimal uint256 string");
    return BigInt(v);
  };
  const h = {
    sequence: num("sequence"),
    cumulativeCredits: num("cumulativeCredits"),
    maxPricePerCredit: num("maxPricePerCredit"),
    signature: o.signature,
  };
  if (typeof h.signature !== "string" || !/^0x([0-9a-fA-F]{2})+$/.test(h.signature))
    throw new ReceiptHeaderError("receipt.signature", "expected 0x-prefixed hex");
  return h as ReceiptHeader;
}

/** The part of an ethers Provider the ERC-1271 check needs. */
export interface CodeProvider {
  getCode(address: string): Promise<string>;
  call(tx: { to: string; data: string }): Promise<string>;
}

const ERC1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);

/**
 * Whether `signature` is `r.consumer`'s: its ECDSA signature (65 bytes), else, when a provider is given and the
 * consumer has code, its ERC-1271 `isValidSignature` (the contract's SignatureChecker rule). Never throws.
 */
export async function isReceiptSigned(
  domain: TypedDataDomain,
  r: Receipt,
  signature: string,
  provider?: CodeProvider,
): Promise<boolean> {
  if ((signature.length - 2) / 2 === 65 && verifyReceipt(domain, r, signature)) return true;
  if (provider === undefined) return false;
  try {
    if ((await provider.getCode(r.consumer)) === "0x") return false;
    const data = ERC1271.encodeFunctionData("isValidSignature", [receiptDigest(domain, r), signature]);
    const out = await provider.call({ to: getAddress(r.consumer), data });
    return out.length >= 10 && out.slice(0, 10).toLowerCase() === ERC1271_MAGIC;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- redemption

/** A receipt a node holds, with its signature. */
export interface HeldReceipt {
  receipt: Receipt;
  signature: string;
}

export type RedemptionSkip = "already-redeemed" | "no-new-credits" | "price-above-signed" | "balance-too-low";

/** What `redeemBatch` would charge for each held receipt, and why the others wait (they would revert the batch). */
export interface RedemptionPlan {
  redeem: (HeldReceipt & { credits: bigint; charge: bigint })[];
  skipped: (HeldReceipt & { reason: RedemptionSkip })[];
}

/**
 * Picks the receipts DataCredits would accept now, by its redeem rules (docs/data-credits.md): sequence above the
 * channel's, credits above the channel's, price within the signed max, charge within the balance (taken in order,
 * so two receipts of one consumer cannot together overdraw it). A receipt already redeemed (a re-run after a crash)
 * is skipped, never sent twice.
 */
export function planRedemption(
  held: readonly HeldReceipt[],
  chain: {
    pricePerCredit: bigint;
    channel: (consumer: string, node: string) => { credits: bigint; sequence: bigint };
    balance: (consumer: string) => bigint;
  },
): RedemptionPlan {
  const plan: RedemptionPlan = { redeem: [], skipped: [] };
  const spent = new Map<string, bigint>();
  for (const h of held) {
    const r = h.receipt;
    const c = chain.channel(r.consumer, r.node);
    if (r.sequence <= c.sequence) plan.skipped.push({ ...h, reason: "already-redeemed" });
    else if (r.cumulativeCredits <= c.credits) plan.skipped.push({ ...h, reason: "no-new-credits" });
    else if (chain.pricePerCredit > r.maxPricePerCredit) plan.skipped.push({ ...h, reason: "price-above-signed" });
    else {
      const credits = r.cumulativeCredits - c.credits;
      const charge = credits * chain.pricePerCredit;
      const consumer = getAddress(r.consumer);
      const left = chain.balance(consumer) - (spent.get(consumer) ?? 0n);
      if (charge > left) plan.skipped.push({ ...h, reason: "balance-too-low" });
      else {
        spent.set(consumer, (spent.get(consumer) ?? 0n) + charge);
        plan.redeem.push({ ...h, credits, charge });
      }
    }
  }
  return plan;
}

/** The lines `data:redeem` prints for a plan; `format` turns wei into DIMO text. */
export function redemptionLines(plan: RedemptionPlan, format: (wei: bigint) => string): string[] {
  return [
    ...plan.redeem.map(
      (x) =>
        `redeem ${x.receipt.consumer} sequence ${x.receipt.sequence}: ${x.credits} credits, ${format(x.charge)} DIMO`,
    ),
    ...plan.skipped.map((x) => `skip   ${x.receipt.consumer} sequence ${x.receipt.sequence}: ${x.reason}`),
  ];
}
