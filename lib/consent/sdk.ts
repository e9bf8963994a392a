/**
 * A typed client of the node's data API (docs/data-api.md): signs in with Ethereum, reads the latest values and
 * pages through history, and surfaces every refusal as a `DataApiError` with the node's stable code.
 *
 * Pure apart from `fetch` (injected; the global one by default): usable in Node, browsers and tests.
 */
import { buildSignInMessage } from "./siwe";
import type { ConsentCode } from "./errors";

/** Anything that signs EIP-191 messages for an address: an ethers Signer, a wallet adapter. */
export interface MessageSigner {
  getAddress(): Promise<string>;
  signMessage(message: string): Promise<string>;
}

/** A refusal of the node (or a transport failure, `code` "NETWORK_ERROR", `status` 0). */
export class DataApiError extends Error {
  constructor(
    readonly code: ConsentCode | "NETWORK_ERROR" | "BAD_RESPONSE" | (string & {}),
    readonly status: number,
    message: string,
    readonly field: string | null = null,
  ) {
    super(`${code}: ${message}`);
    this.name = "DataApiError";
  }
}

/** Refusals of a read by consent (403), each its own code. */
export type ReadRefusalCode =
  | "NO_GRANT"
  | "DATA_TYPE_NOT_GRANTED"
  | "GRANT_EXPIRED"
  | "GRANT_REVOKED"
  | "VEHICLE_TRANSFERRED"
  | "STAKE_NOT_COVERED"
  | "CONSUMER_FROZEN"
  | "NOT_VEHICLE_OWNER";

/** 401: not signed in, an expired or bad token, or a refused sign-in (sign in again). */
export class NotSignedInError extends DataApiError {
  override readonly name = "NotSignedInError";
}
/** 400: a bad parameter, named in `field`. */
export class BadRequestError extends DataApiError {
  override readonly name = "BadRequestError";
}
/** 403: the read is not covered by consent; `code` says which check refused it. */
export class ReadRefusedError extends DataApiError {
  override readonly name = "ReadRefusedError";
  declare readonly code: ReadRefusalCode;
}
/** 503 / 429 / network: the node cannot answer now (INDEX_STALE, SIWE_TOO_MANY_NONCES, NETWORK_ERROR); retry. */
export class NodeUnavailableError extends DataApiError {
  override readonly name = "NodeUnavailableError";
}

/** The typed error of a node answer. */
export function errorOf(code: string, status: number, message: string, field: string | null): DataApiError {
  if (status === 401) return new NotSignedInError(code, status, message, field);
  if (status === 400) return new BadRequestError(code, status, message, field);
  if (status === 403) return new ReadRefusedError(code, status, message, field);
  if (status === 0 || status === 429 || status === 503) return new NodeUnavailableError(code, status, message, field);
  return new DataApiError(code, status, message, field);
}

export type Aggregation = "avg" | "min" | "max" | "last";

export interface LatestSignal {
  name: string;
  timestamp: number | null;
  values: number[] | null;
}

export interface HistoryBucket {
  name: string;
  start: number;
  count: number;
  values: number[];
}

export interface HistoryPage {
  vehicleId: string;
  interval: number;
  agg: Aggregation;
  buckets: HistoryBucket[];
  nextCursor: string | null;
}

export interface HistoryQuery {
  names: readonly string[];
  from: number;
  to?: number;
  interval?: number;
  agg?: Aggregation;
  limit?: number;
}

export interface DataClientOptions {
  /** The node's base URL, e.g. `https://data.dimo.example`. */
  baseUrl: string;
  signer: MessageSigner;
  /** Seconds a sign-in message stays valid (at most the node's 600). */
  messageLifetimeSeconds?: number;
  fetch?: typeof fetch;
  /** Unix seconds now (tests pin it). */
  now?: () => number;
}

export class DataClient {
  private _token: { token: string; expiresAt: number } | undefined;
  private readonly _fetch: typeof fetch;
  private readonly _now: () => number;

  constructor(private readonly _opts: DataClientOptions) {
    this._fetch = _opts.fetch ?? fetch;
    this._now = _opts.now ?? (() => Math.floor(Date.now() / 1000));
  }

  /** Signs in (nonce, EIP-4361 message, signature) and keeps the token. */
  async signIn(): Promise<{ consumer: string; expiresAt: number }> {
    const n = await this._call<{ nonce: string; domain: string; uri: string; chainId: number }>(
      "POST",
      "/v1/auth/nonce",
      {},
      false,
    );
    const now = this._now();
    const message = buildSignInMessage({
      domain: n.domain,
      uri: n.uri,
      chainId: n.chainId,
      address: await this._opts.signer.getAddress(),
      nonce: n.nonce,
      issuedAt: now,
      expiresAt: now + (this._opts.messageLifetimeSeconds ?? 300),
    });
    const signature = await this._opts.signer.signMessage(message);
    const t = await this._call<{ token: string; expiresAt: number; consumer: string }>(
      "POST",
      "/v1/auth/siwe",
      { message, signature },
      false,
    );
    this._token = { token: t.token, expiresAt: t.expiresAt };
    return { consumer: t.consumer, expiresAt: t.expiresAt };
  }

  /** The latest value of each signal (within the consumer's permitted window). */
  async latest(vehicleId: bigint | string, names: readonly string[]): Promise<LatestSignal[]> {
    const q = new URLSearchParams({ names: names.join(",") });
    const r = await this._read<{ signals: LatestSignal[] }>(`/v1/vehicles/${vehicleId}/signals/latest?${q}`);
    return r.signals;
  }

  /** One page of history; pass the previous page's `nextCursor` for the next. */
  async history(vehicleId: bigint | string, query: HistoryQuery, cursor?: string): Promise<HistoryPage> {
    const q = new URLSearchParams({ names: query.names.join(","), from: String(query.from) });
    if (query.to !== undefined) q.set("to", String(query.to));
    if (query.interval !== undefined) q.set("interval", String(query.interval));
    if (query.agg !== undefined) q.set("agg", query.agg);
    if (query.limit !== undefined) q.set("limit", String(query.limit));
    if (cursor !== undefined) q.set("cursor", cursor);
    return this._read<HistoryPage>(`/v1/vehicles/${vehicleId}/signals/history?${q}`);
  }

  /** Every bucket of a history query, page by page. */
  async *historyAll(vehicleId: bigint | string, query: HistoryQuery): AsyncGenerator<HistoryBucket> {
    let cursor: string | undefined;
    do {
      const page = await this.history(vehicleId, query, cursor);
      yield* page.buckets;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /** A read with the token; signs in first when there is none or it is about to expire, and once more on TOKEN_EXPIRED. */
  private async _read<T>(path: string): Promise<T> {
    if (this._token === undefined || this._token.expiresAt <= this._now() + 5) await this.signIn();
    try {
      return await this._call<T>("GET", path, undefined, true);
    } catch (e) {
      if (!(e instanceof DataApiError) || e.code !== "TOKEN_EXPIRED") throw e;
      await this.signIn();
      return this._call<T>("GET", path, undefined, true);
    }
  }

  private async _call<T>(method: "GET" | "POST", path: string, body: unknown, auth: boolean): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (auth && this._token) headers.authorization = `Bearer ${this._token.token}`;
    let res: Response;
    try {
      res = await this._fetch(new URL(path, this._opts.baseUrl), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (e) {
      throw new NodeUnavailableError("NETWORK_ERROR", 0, `${method} ${path}: ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      throw new DataApiError("BAD_RESPONSE", res.status, `${method} ${path}: not JSON`);
    }
    if (!res.ok) {
      const err = (json ?? {}) as { code?: string; message?: string; field?: string | null };
      throw errorOf(err.code ?? "BAD_RESPONSE", res.status, err.message ?? `HTTP ${res.status}`, err.field ?? null);
    }
    return json as T;
  }
}
