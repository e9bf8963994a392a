/**
 * Sign-in with Ethereum (EIP-4361) for data consumers, and the short-lived bearer token it earns.
 *
 * Flow: the node issues a single-use nonce (`issueNonce`); the consumer signs an EIP-4361 message for the node's
 * domain, URI and chain with that nonce and an expiry; `verifySignIn` checks every field, the nonce (known, not
 * expired, never used) and the signature (an EOA's ECDSA signature, or a contract wallet's ERC-1271
 * `isValidSignature` through the provider), then uses the nonce up; `issueToken` returns an HS256 JWT carrying
 * the consumer address, which `verifyToken` checks on every read.
 *
 * Pure: no Hardhat. Time is always passed in (`now`, unix seconds), so tests pin every boundary.
 * Parsing and signature checks are the `siwe` package's; tokens are `jose`'s.
 */
import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { checkContractWalletSignature, generateNonce, SiweMessage } from "siwe";
import { getAddress, hexlify, isHexString, randomBytes, type Provider } from "ethers";
import { InputError } from "../errors";
import { ConsentError } from "./errors";

/** What the node accepts. Every limit has its unit; defaults in `SIWE_DEFAULTS`. */
export interface SiweSettings {
  /** RFC 3986 authority the message must name (`example.com` or `127.0.0.1:8545`), compared exactly. */
  domain: string;
  /** Origin the message's URI must be on (scheme, host and port equal), e.g. `https://data.example.com`. */
  uri: string;
  /** EIP-155 chain id the message must name. */
  chainId: number;
  /** How long an issued nonce can be used, seconds. */
  nonceTtlSeconds: number;
  /** Longest `expirationTime - issuedAt` accepted, seconds (a message must carry an expiry). */
  maxMessageLifetimeSeconds: number;
  /** How far in the future `issuedAt` may be (client clocks), seconds. */
  clockSkewSeconds: number;
  /** Lifetime of a bearer token, seconds. */
  tokenTtlSeconds: number;
  /** Most nonces outstanding at once (issued, not yet expired); beyond it `SIWE_TOO_MANY_NONCES`. */
  maxOutstandingNonces: number;
  /** JWT `iss` and `aud`. */
  tokenIssuer: string;
  tokenAudience: string;
}

export const SIWE_DEFAULTS = {
  nonceTtlSeconds: 300,
  maxMessageLifetimeSeconds: 600,
  clockSkewSeconds: 30,
  tokenTtlSeconds: 900,
  maxOutstandingNonces: 100_000,
  tokenIssuer: "dimo-node",
  tokenAudience: "dimo-data-api",
} as const satisfies Partial<SiweSettings>;

/** Longest signature accepted, bytes (an ECDSA signature is 65; ERC-1271 wallets may send more, e.g. a Safe's). */
export const MAX_SIGNATURE_BYTES = 2_048;

/** Shortest HS256 key accepted, bytes (RFC 7518 §3.2: at least the hash size). */
export const MIN_TOKEN_KEY_BYTES = 32;

/**
 * Single-use nonces. The node may back it with its database; `MemoryNonceStore` serves one process.
 * `consume` must be atomic: of two concurrent calls with one fresh nonce, exactly one returns "consumed".
 */
export interface NonceStore {
  /** Records a fresh nonce usable while `now < expiresAt`. */
  put(nonce: string, expiresAt: number, now: number): Promise<void>;
  /** The nonce's state now, without changing it. */
  peek(nonce: string, now: number): Promise<NonceState>;
  /** Uses a fresh nonce up (kept as "used" until `retainUntil`, so replays are named as such); else its state. */
  consume(nonce: string, now: number, retainUntil: number): Promise<"consumed" | Exclude<NonceState, "fresh">>;
}
export type NonceState = "fresh" | "used" | "expired" | "unknown";

/** In-process nonce store; sweeps expired entries when it grows past its bound. */
export class MemoryNonceStore implements NonceStore {
  private readonly _nonces = new Map<string, { expiresAt: number; used: boolean }>();

  constructor(private readonly _maxOutstanding: number = SIWE_DEFAULTS.maxOutstandingNonces) {}

  async put(nonce: string, expiresAt: number, now: number): Promise<void> {
    if (this._nonces.size >= this._maxOutstanding) this._sweep(now);
    if (this._nonces.size >= this._maxOutstanding) {
      throw new ConsentError("SIWE_TOO_MANY_NONCES", `${this._nonces.size} nonces outstanding; try again later`, {
        outstanding: this._nonces.size,
        max: this._maxOutstanding,
      });
    }
    this._nonces.set(nonce, { expiresAt, used: false });
  }

  async peek(nonce: string, now: number): Promise<NonceState> {
    return this._state(nonce, now);
  }

  async consume(nonce: string, now: number, retainUntil: number) {
    // Synchronous from the read to the write: no await in between, so two concurrent calls cannot both see "fresh".
    const state = this._state(nonce, now);
    if (state !== "fresh") return state;
    this._nonces.set(nonce, { expiresAt: Math.max(retainUntil, now + 1), used: true });
    return "consumed" as const;
  }

  private _state(nonce: string, now: number): NonceState {
    const n = this._nonces.get(nonce);
    if (n === undefined) return "unknown";
    if (n.used) return now < n.expiresAt ? "used" : "unknown";
    return now < n.expiresAt ? "fresh" : "expired";
  }

  /** Entries held (fresh, used, or expired not yet swept). */
  get size(): number {
    return this._nonces.size;
  }

  private _sweep(now: number): void {
    for (const [nonce, n] of this._nonces) if (now >= n.expiresAt) this._nonces.delete(nonce);
  }
}

/** Issues a nonce (96 random bits, alphanumeric, as EIP-4361 asks) usable for `nonceTtlSeconds`. */
export async function issueNonce(
  store: NonceStore,
  settings: Pick<SiweSettings, "nonceTtlSeconds">,
  now: number,
): Promise<{ nonce: string; expiresAt: number }> {
  const nonce = generateNonce();
  const expiresAt = now + settings.nonceTtlSeconds;
  await store.put(nonce, expiresAt, now);
  return { nonce, expiresAt };
}

/** A verified sign-in. */
export interface SignIn {
  /** The consumer (EIP-55 checksummed): an EOA or a contract wallet. */
  address: string;
  chainId: number;
  nonce: string;
  /** The message's expiry, unix seconds. */
  expiresAt: number;
}

function seconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}

function origin(uri: string): string | undefined {
  try {
    return new URL(uri).origin;
  } catch {
    return undefined;
  }
}

/**
 * Verifies a signed EIP-4361 message and uses its nonce up. Checks, in this order (first failure wins):
 * parse (`SIWE_MALFORMED`), domain, URI origin, chain id, expiry present and at most `maxMessageLifetimeSeconds`
 * after `issuedAt` (`SIWE_BAD_EXPIRY`), `now < expirationTime` (`SIWE_EXPIRED`), `notBefore <= now` and
 * `issuedAt <= now + clockSkewSeconds` (`SIWE_NOT_YET_VALID`), nonce issued and unused (`SIWE_NONCE_UNKNOWN`,
 * `SIWE_NONCE_EXPIRED`, `SIWE_REPLAYED`), signature (`SIWE_BAD_SIGNATURE`; ERC-1271 when `provider` is given
 * and the ECDSA signer is not the message's address). The nonce is used only by a fully valid sign-in, so a
 * forged signature cannot burn someone else's nonce.
 */
export async function verifySignIn(
  message: string,
  signature: string,
  opts: { settings: SiweSettings; nonces: NonceStore; now: number; provider?: Provider },
): Promise<SignIn> {
  const { settings, nonces, now } = opts;
  let msg: SiweMessage;
  try {
    msg = new SiweMessage(message);
  } catch (e) {
    throw new ConsentError("SIWE_MALFORMED", `not an EIP-4361 message: ${(e as Error).message ?? e}`, {}, "message");
  }
  if (msg.domain !== settings.domain) {
    throw new ConsentError(
      "SIWE_WRONG_DOMAIN",
      `the message is for domain "${msg.domain}", this node is "${settings.domain}"`,
      { given: msg.domain, expected: settings.domain },
      "message",
    );
  }
  const expectedOrigin = origin(settings.uri);
  if (origin(msg.uri) !== expectedOrigin) {
    throw new ConsentError(
      "SIWE_WRONG_URI",
      `the message's URI "${msg.uri}" is not on ${expectedOrigin}`,
      { given: msg.uri, expected: expectedOrigin ?? settings.uri },
      "message",
    );
  }
  if (msg.chainId !== settings.chainId) {
    throw new ConsentError(
      "SIWE_WRONG_CHAIN",
      `the message is for chain ${msg.chainId}, this node serves chain ${settings.chainId}`,
      { given: msg.chainId, expected: settings.chainId },
      "message",
    );
  }
  const issuedAt = seconds(msg.issuedAt ?? "");
  if (msg.expirationTime === undefined) {
    throw new ConsentError("SIWE_BAD_EXPIRY", "the message has no Expiration Time", {}, "message");
  }
  const expiresAt = seconds(msg.expirationTime);
  if (expiresAt - issuedAt > settings.maxMessageLifetimeSeconds) {
    throw new ConsentError(
      "SIWE_BAD_EXPIRY",
      `the message is valid for ${expiresAt - issuedAt} s, at most ${settings.maxMessageLifetimeSeconds} s is accepted`,
      { lifetime: expiresAt - issuedAt, max: settings.maxMessageLifetimeSeconds },
      "message",
    );
  }
  if (now >= expiresAt) {
    throw new ConsentError(
      "SIWE_EXPIRED",
      `the message expired at ${msg.expirationTime} (now ${new Date(now * 1000).toISOString()})`,
      { expiresAt, now },
      "message",
    );
  }
  const notBefore = msg.notBefore === undefined ? issuedAt - settings.clockSkewSeconds : seconds(msg.notBefore);
  if (now < notBefore || issuedAt > now + settings.clockSkewSeconds) {
    throw new ConsentError(
      "SIWE_NOT_YET_VALID",
      `the message is not valid before ${new Date(Math.max(notBefore, issuedAt - settings.clockSkewSeconds) * 1000).toISOString()}`,
      { notBefore, issuedAt, now },
      "message",
    );
  }
  nonceRefusal(msg.nonce, await nonces.peek(msg.nonce, now));
  if (!isHexString(signature) || signature.length < 4 || (signature.length - 2) / 2 > MAX_SIGNATURE_BYTES) {
    throw new ConsentError(
      "SIWE_MALFORMED",
      `the signature is not 0x-prefixed hex of 1 to ${MAX_SIGNATURE_BYTES} bytes`,
      {},
      "signature",
    );
  }

  // A 65-byte signature is checked by siwe (ECDSA, then ERC-1271 through the provider); any other length can only
  // be a contract wallet's, asked directly (siwe's ECDSA attempt would log a stack trace for it).
  const verified =
    (signature.length - 2) / 2 === 65
      ? (
          await msg
            .verify(
              { signature, domain: settings.domain, nonce: msg.nonce, time: new Date(now * 1000).toISOString() },
              // siwe's types name ethers v5's provider; at run time it calls `new Contract(address, abi, provider)` (v6).
              { provider: opts.provider as never, suppressExceptions: true },
            )
            .catch(() => ({ success: false }))
        ).success
      : opts.provider !== undefined &&
        (await checkContractWalletSignature(msg, signature, opts.provider as never).catch(() => false));
  if (!verified) {
    throw new ConsentError(
      "SIWE_BAD_SIGNATURE",
      `the signature is not ${msg.address}'s (neither its ECDSA signature nor an ERC-1271 signature of a contract wallet)`,
      { address: msg.address },
      "signature",
    );
  }
  const retainUntil = expiresAt + settings.clockSkewSeconds;
  const consumed = await nonces.consume(msg.nonce, now, retainUntil);
  if (consumed !== "consumed") nonceRefusal(msg.nonce, consumed);
  return { address: getAddress(msg.address), chainId: msg.chainId, nonce: msg.nonce, expiresAt };
}

function nonceRefusal(nonce: string, state: NonceState): void {
  if (state === "fresh") return;
  if (state === "used") {
    throw new ConsentError("SIWE_REPLAYED", `nonce ${nonce} was already used`, { nonce }, "message");
  }
  if (state === "expired") {
    throw new ConsentError("SIWE_NONCE_EXPIRED", `nonce ${nonce} expired; ask for a new one`, { nonce }, "message");
  }
  throw new ConsentError("SIWE_NONCE_UNKNOWN", `nonce ${nonce} was not issued by this node`, { nonce }, "message");
}

/**
 * Parses the token key setting: 0x-prefixed hex of at least `MIN_TOKEN_KEY_BYTES` bytes. Throws an InputError
 * naming `source` and `field` (never the value: it is a secret).
 */
export function parseTokenKey(value: string | undefined, source: string, field: string): Uint8Array {
  if (value === undefined || value === "") throw new InputError(source, field, "missing (0x + 64 hex digits or more)");
  if (!isHexString(value)) throw new InputError(source, field, "not 0x-prefixed hex");
  const bytes = Buffer.from(value.slice(2), "hex");
  if (bytes.length < MIN_TOKEN_KEY_BYTES) {
    throw new InputError(source, field, `${bytes.length} bytes; at least ${MIN_TOKEN_KEY_BYTES} are needed`);
  }
  return new Uint8Array(bytes);
}

/** A fresh random token key, as the setting's hex. */
export function generateTokenKey(): string {
  return hexlify(randomBytes(MIN_TOKEN_KEY_BYTES));
}

/** A verified bearer token. */
export interface TokenClaims {
  /** The consumer (checksummed). */
  consumer: string;
  chainId: number;
  issuedAt: number;
  expiresAt: number;
}

/** Issues an HS256 JWT (`sub` = consumer, `chain_id`, `iat`, `exp` = now + tokenTtlSeconds, `iss`, `aud`, `jti`). */
export async function issueToken(
  signIn: Pick<SignIn, "address" | "chainId">,
  key: Uint8Array,
  settings: Pick<SiweSettings, "tokenTtlSeconds" | "tokenIssuer" | "tokenAudience">,
  now: number,
): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = now + settings.tokenTtlSeconds;
  const token = await new SignJWT({ chain_id: signIn.chainId })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(getAddress(signIn.address))
    .setIssuer(settings.tokenIssuer)
    .setAudience(settings.tokenAudience)
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .setJti(hexlify(randomBytes(16)))
    .sign(key);
  return { token, expiresAt };
}

/**
 * Verifies a bearer token: HS256 only, signed with `key`, issuer and audience as set, chain id equal, `now < exp`
 * (no tolerance). `TOKEN_MISSING` when empty, `TOKEN_EXPIRED` when past `exp`, `TOKEN_INVALID` for anything else.
 */
export async function verifyToken(
  token: string | undefined,
  key: Uint8Array,
  settings: Pick<SiweSettings, "chainId" | "tokenIssuer" | "tokenAudience">,
  now: number,
): Promise<TokenClaims> {
  if (token === undefined || token === "") {
    throw new ConsentError(
      "TOKEN_MISSING",
      "sign in first (POST /v1/auth/siwe) and send Authorization: Bearer <token>",
    );
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ["HS256"],
      issuer: settings.tokenIssuer,
      audience: settings.tokenAudience,
      currentDate: new Date(now * 1000),
      clockTolerance: 0,
      requiredClaims: ["sub", "exp", "iat"],
    }));
  } catch (e) {
    if (e instanceof joseErrors.JWTExpired) {
      const exp = Number((e.payload as { exp?: number }).exp);
      throw new ConsentError("TOKEN_EXPIRED", `the token expired at ${exp} (now ${now}); sign in again`, { exp, now });
    }
    throw new ConsentError("TOKEN_INVALID", `the token is not valid: ${(e as Error).message}`);
  }
  let consumer: string;
  try {
    consumer = getAddress(String(payload.sub));
  } catch {
    throw new ConsentError("TOKEN_INVALID", `the token's subject is not an address`);
  }
  if (payload.chain_id !== settings.chainId) {
    throw new ConsentError(
      "TOKEN_INVALID",
      `the token is for chain ${String(payload.chain_id)}, not ${settings.chainId}`,
    );
  }
  return { consumer, chainId: settings.chainId, issuedAt: Number(payload.iat), expiresAt: Number(payload.exp) };
}

/** The EIP-4361 text a consumer signs (client side: the SDK and tests build it with this). */
export function buildSignInMessage(p: {
  domain: string;
  uri: string;
  chainId: number;
  address: string;
  nonce: string;
  issuedAt: number;
  expiresAt: number;
  notBefore?: number;
  statement?: string;
}): string {
  const iso = (t: number) => new Date(t * 1000).toISOString();
  return new SiweMessage({
    domain: p.domain,
    uri: p.uri,
    chainId: p.chainId,
    address: getAddress(p.address),
    nonce: p.nonce,
    version: "1",
    statement: p.statement ?? "Sign in to read vehicle data under your DIMO grants.",
    issuedAt: iso(p.issuedAt),
    expirationTime: iso(p.expiresAt),
    ...(p.notBefore === undefined ? {} : { notBefore: iso(p.notBefore) }),
  }).prepareMessage();
}
