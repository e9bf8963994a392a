/**
 * Refusals of the consent layer (sign-in, tokens, per-read permission checks, the access log), each with a
 * stable code that the node returns as `{code, message, field}` and that the SDK and tests assert, and the
 * HTTP status that says who is at fault.
 */

/** Sign-in with Ethereum (EIP-4361) refusals. */
export const SIWE_CODES = [
  "SIWE_MALFORMED",
  "SIWE_WRONG_DOMAIN",
  "SIWE_WRONG_URI",
  "SIWE_WRONG_CHAIN",
  "SIWE_BAD_EXPIRY",
  "SIWE_EXPIRED",
  "SIWE_NOT_YET_VALID",
  "SIWE_NONCE_UNKNOWN",
  "SIWE_NONCE_EXPIRED",
  "SIWE_REPLAYED",
  "SIWE_BAD_SIGNATURE",
  "SIWE_TOO_MANY_NONCES",
] as const;
/** Bearer-token refusals. */
export const TOKEN_CODES = ["TOKEN_MISSING", "TOKEN_EXPIRED", "TOKEN_INVALID"] as const;
/** Per-read permission refusals (and bad read requests). */
export const PERMISSION_CODES = [
  "INVALID_PARAMETER",
  "UNKNOWN_SIGNAL",
  "INVALID_RANGE",
  "NO_GRANT",
  "DATA_TYPE_NOT_GRANTED",
  "GRANT_EXPIRED",
  "GRANT_REVOKED",
  "VEHICLE_TRANSFERRED",
  "STAKE_NOT_COVERED",
  "CONSUMER_FROZEN",
  "INDEX_STALE",
  "NOT_VEHICLE_OWNER",
] as const;
/**
 * Payment refusals of a read (402, docs/data-api.md "Paying for reads"): the node serves read k+1 of a consumer only
 * holding its receipt for reads 1..k at the current price, and only while the consumer's available DataCredits
 * balance covers the unredeemed credits plus the read's most. Their bodies carry `details` the client acts on.
 */
export const CREDIT_CODES = ["RECEIPT_REQUIRED", "RECEIPT_INVALID", "PRICE_ABOVE_SIGNED", "CREDITS_EXHAUSTED"] as const;
/** Access-log verification failures. */
export const LOG_CODES = ["LOG_MALFORMED", "LOG_TAMPERED", "LOG_TRUNCATED"] as const;

export type SiweCode = (typeof SIWE_CODES)[number];
export type TokenCode = (typeof TOKEN_CODES)[number];
export type PermissionCode = (typeof PERMISSION_CODES)[number];
export type LogCode = (typeof LOG_CODES)[number];
export type CreditCode = (typeof CREDIT_CODES)[number];
export type ConsentCode = SiweCode | TokenCode | PermissionCode | LogCode | CreditCode;

/**
 * HTTP status of each refusal: 400 bad request, 401 not signed in, 402 payment (receipt or credits), 403 refused by
 * consent, 429, 503 node not ready.
 */
export const CONSENT_ERROR_STATUS: Readonly<Record<ConsentCode, number>> = {
  SIWE_MALFORMED: 400,
  SIWE_WRONG_DOMAIN: 401,
  SIWE_WRONG_URI: 401,
  SIWE_WRONG_CHAIN: 401,
  SIWE_BAD_EXPIRY: 401,
  SIWE_EXPIRED: 401,
  SIWE_NOT_YET_VALID: 401,
  SIWE_NONCE_UNKNOWN: 401,
  SIWE_NONCE_EXPIRED: 401,
  SIWE_REPLAYED: 401,
  SIWE_BAD_SIGNATURE: 401,
  SIWE_TOO_MANY_NONCES: 429,
  TOKEN_MISSING: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_INVALID: 401,
  INVALID_PARAMETER: 400,
  UNKNOWN_SIGNAL: 400,
  INVALID_RANGE: 400,
  NO_GRANT: 403,
  DATA_TYPE_NOT_GRANTED: 403,
  GRANT_EXPIRED: 403,
  GRANT_REVOKED: 403,
  VEHICLE_TRANSFERRED: 403,
  STAKE_NOT_COVERED: 403,
  CONSUMER_FROZEN: 403,
  INDEX_STALE: 503,
  NOT_VEHICLE_OWNER: 403,
  LOG_MALFORMED: 422,
  LOG_TAMPERED: 422,
  LOG_TRUNCATED: 422,
  RECEIPT_REQUIRED: 402,
  RECEIPT_INVALID: 402,
  PRICE_ABOVE_SIGNED: 402,
  CREDITS_EXHAUSTED: 402,
};

/**
 * A refusal with a stable `code`, a one-line message naming the offending values, the request `field` at fault
 * when there is one, and the values themselves in `details` (for tests and structured logs; never secrets).
 */
export class ConsentError<C extends ConsentCode = ConsentCode> extends Error {
  constructor(
    readonly code: C,
    message: string,
    readonly details: Readonly<Record<string, string | number | boolean | readonly string[] | null>> = {},
    readonly field?: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "ConsentError";
  }

  /** The HTTP status the node answers with. */
  get status(): number {
    return CONSENT_ERROR_STATUS[this.code];
  }

  /**
   * The body the node answers with (`{code, message, field}`, `field` null when no single field is at fault); a
   * payment refusal (402) also carries its `details` (what to sign next, the terms, the balance).
   */
  toJSON(): { code: C; message: string; field: string | null; details?: ConsentError["details"] } {
    const body = { code: this.code, message: this.message, field: this.field ?? null };
    return this.status === 402 ? { ...body, details: this.details } : body;
  }
}
