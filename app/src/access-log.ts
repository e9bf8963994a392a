/**
 * The "Who read this vehicle's data" panels' talk with the data node (docs/data-api.md): the owner signs in with
 * Ethereum (EIP-4361, the wallet's `personal_sign`) and reads each vehicle's access log, `GET
 * /v1/vehicles/:id/access-log`.
 *
 * The node is reached on the page's own origin, under `node/` beside the page (`DIMO_APP_NODE`, vite.config.mts):
 * the sign-in message names the page's host, which is what a wallet shows and checks, and what the node expects;
 * the bearer token and the owner's log never leave that origin, and the node needs no CORS policy.
 *
 * No DOM here (main.ts draws), so tests import it to check the message against the node's own builder.
 */
import type { AccessLogEntry } from "../../lib/consent/access-log";

/** Seconds the sign-in message stays valid (the node accepts at most 600). */
export const SIGN_IN_LIFETIME_SECONDS = 300;

export const SIGN_IN_STATEMENT = "Sign in to see who read your vehicles' data.";

/** A refusal of the node, a transport failure (`NETWORK_ERROR`) or an answer the page cannot use. */
export class NodeRequestError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "NodeRequestError";
  }
}

/** The page and the node disagree on the sign-in's domain, URI or chain: signing would only be refused. */
export class SignInMismatchError extends Error {
  constructor(
    readonly field: "domain" | "uri" | "chainId",
    readonly page: string,
    readonly node: string,
  ) {
    super(`the data node expects sign-ins with ${field} ${node}, this page is ${page}`);
    this.name = "SignInMismatchError";
  }
}

export interface Nonce {
  nonce: string;
  /** The node's clock when it issued the nonce (unix seconds). */
  issuedAt: number;
  expiresAt: number;
  domain: string;
  uri: string;
  chainId: number;
}

/**
 * The EIP-4361 text, field by field as the spec's ABNF orders them (the node parses it with the `siwe` package;
 * test/app/access-log.test.ts checks it equals lib/consent/siwe.ts's `buildSignInMessage`). Built here rather than
 * with `siwe`, a CommonJS package with Node dependencies, to keep the page's bundle small.
 */
export function signInMessage(p: {
  domain: string;
  uri: string;
  chainId: number;
  address: string;
  nonce: string;
  issuedAt: number;
  expiresAt: number;
  statement?: string;
}): string {
  const iso = (t: number) => new Date(t * 1000).toISOString();
  return [
    `${p.domain} wants you to sign in with your Ethereum account:`,
    p.address,
    "",
    p.statement ?? SIGN_IN_STATEMENT,
    "",
    `URI: ${p.uri}`,
    "Version: 1",
    `Chain ID: ${p.chainId}`,
    `Nonce: ${p.nonce}`,
    `Issued At: ${iso(p.issuedAt)}`,
    `Expiration Time: ${iso(p.expiresAt)}`,
  ].join("\n");
}

/** The node's base URL for a page at `pageUrl`: `node/` beside the page. */
export function nodeBase(pageUrl: string): URL {
  return new URL("node/", pageUrl);
}

async function call<T>(base: URL, method: "GET" | "POST", path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  let res: Response;
  try {
    // `path` is relative ("v1/…"): resolved under `node/`, not at the origin's root.
    res = await fetch(new URL(path, base), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new NodeRequestError("NETWORK_ERROR", 0, `could not reach the data node (${(e as Error).message})`);
  }
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new NodeRequestError("BAD_RESPONSE", res.status, `the data node answered HTTP ${res.status}, not JSON`);
  }
  if (!res.ok) {
    const err = (json ?? {}) as { code?: unknown; message?: unknown; field?: unknown };
    throw new NodeRequestError(
      typeof err.code === "string" ? err.code : "BAD_RESPONSE",
      res.status,
      typeof err.message === "string" ? err.message : `HTTP ${res.status}`,
      typeof err.field === "string" ? err.field : null,
    );
  }
  return json as T;
}

function originOf(uri: string): string | undefined {
  try {
    return new URL(uri).origin;
  } catch {
    return undefined;
  }
}

export interface OwnerToken {
  token: string;
  expiresAt: number;
  owner: string;
}

/**
 * Signs `account` in: a nonce from the node, the message for this page's host, origin and chain dated by the
 * node's clock, the wallet's signature (`sign`; its refusal propagates as the wallet's error), the token.
 */
export async function signIn(o: {
  base: URL;
  page: { host: string; origin: string; chainId: number };
  account: string;
  sign: (message: string) => Promise<string>;
}): Promise<OwnerToken> {
  const n = await call<Nonce>(o.base, "POST", "v1/auth/nonce", {});
  // Checked before the wallet is asked: a message the node would refuse is not put in front of the owner.
  if (n.domain !== o.page.host) throw new SignInMismatchError("domain", o.page.host, n.domain);
  if (originOf(n.uri) !== o.page.origin) throw new SignInMismatchError("uri", o.page.origin, n.uri);
  if (n.chainId !== o.page.chainId) throw new SignInMismatchError("chainId", String(o.page.chainId), String(n.chainId));
  if (!Number.isSafeInteger(n.issuedAt))
    throw new NodeRequestError("BAD_RESPONSE", 200, "the data node's nonce answer has no issuedAt", "issuedAt");
  const message = signInMessage({
    domain: o.page.host,
    uri: o.page.origin,
    chainId: o.page.chainId,
    address: o.account,
    nonce: n.nonce,
    issuedAt: n.issuedAt,
    expiresAt: n.issuedAt + SIGN_IN_LIFETIME_SECONDS,
  });
  const signature = await o.sign(message);
  const t = await call<{ token: string; expiresAt: number; consumer: string }>(o.base, "POST", "v1/auth/siwe", {
    message,
    signature,
  });
  return { token: t.token, expiresAt: t.expiresAt, owner: t.consumer };
}

/** Most entries the page reads per vehicle (pages of the node's maximum, 1,000). */
export const ACCESS_LOG_MAX_ENTRIES = 10_000;

/** Every entry of the vehicle's log the owner may see, page by page (at most `ACCESS_LOG_MAX_ENTRIES`). */
export async function loadAccessLog(
  base: URL,
  token: string,
  vehicleId: bigint,
): Promise<{ entries: AccessLogEntry[]; truncated: boolean }> {
  const entries: AccessLogEntry[] = [];
  let after: number | null = -1;
  while (after !== null && entries.length < ACCESS_LOG_MAX_ENTRIES) {
    const q: string = after < 0 ? "?limit=1000" : `?limit=1000&after=${after}`;
    const page: { entries: AccessLogEntry[]; nextAfter: number | null } = await call(
      base,
      "GET",
      `v1/vehicles/${vehicleId}/access-log${q}`,
      undefined,
      token,
    );
    entries.push(...page.entries);
    after = page.nextAfter;
  }
  return { entries, truncated: after !== null };
}

/** What a failed sign-in or log read means, for the panel (the wallet's refusals are main.ts's `explain`). */
export function explainNodeError(e: unknown): string | undefined {
  if (e instanceof SignInMismatchError)
    return `The data node is set up for another site (${e.message}); its operator must set its sign-in ${e.field} to this page's. Nothing was signed.`;
  if (!(e instanceof NodeRequestError)) return undefined;
  if (e.code === "NETWORK_ERROR") return `The data node cannot be reached right now: ${e.message}. Try again later.`;
  if (e.code === "NOT_VEHICLE_OWNER")
    return "The data node does not count this account as the vehicle's current owner yet (a recent transfer?), so it shows no log. Try again in a minute.";
  if (e.code === "INDEX_STALE") return "The data node is catching up with the chain. Try again in a minute.";
  if (e.code.startsWith("SIWE_")) return `The data node refused the sign-in (${e.code}): ${e.message}.`;
  if (e.code.startsWith("TOKEN_")) return `Your sign-in is no longer valid (${e.code}); sign in again.`;
  return `The data node refused (${e.code}): ${e.message}.`;
}
