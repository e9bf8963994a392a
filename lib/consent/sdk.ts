/**
 * A typed client of the node's data API (docs/data-api.md): signs in with Ethereum, reads the latest values and
 * pages through history, and surfaces every refusal as a `DataApiError` with the node's stable code. When the node
 * charges for reads (402), it signs the DataCredits receipts itself ("Paying for reads"): it keeps its own tally of
 * the credits each answer charged (checked against what the answer returned) and signs only that.
 *
 * Pure apart from `fetch` (injected; the global one by default): usable in Node, browsers and tests.
 */
import { buildSignInMessage } from "./siwe";
import type { ConsentCode } from "./errors";
import type { AccessLogEntry, LogHead } from "./access-log";
import {
  checkReceipt,
  creditsDomain,
  encodeReceiptHeader,
  RECEIPT_HEADER,
  RECEIPT_TYPES,
  type CreditsStatus,
} from "../credits/receipts";

/** Anything that signs EIP-191 messages for an address: an ethers Signer, a wallet adapter. */
export interface MessageSigner {
  getAddress(): Promise<string>;
  signMessage(message: string): Promise<string>;
}

/** Signs EIP-712 typed data (the DataCredits receipts): an ethers Signer, a wallet adapter. */
export interface TypedDataSigner {
  getAddress(): Promise<string>;
  signTypedData(
    domain: Record<string, unknown>,
    types: Record<string, { name: string; type: string }[]>,
    value: Record<string, unknown>,
  ): Promise<string>;
}

/** A refusal of the node (or a transport failure, `code` "NETWORK_ERROR", `status` 0). */
export class DataApiError extends Error {
  constructor(
    readonly code: ConsentCode | "NETWORK_ERROR" | "BAD_RESPONSE" | (string & {}),
    readonly status: number,
    message: string,
    readonly field: string | null = null,
    /** The refusal's details (402 payment refusals: what to sign, the terms, the balance). */
    readonly details: Readonly<Record<string, unknown>> = {},
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

/**
 * 402 RECEIPT_REQUIRED / RECEIPT_INVALID / PRICE_ABOVE_SIGNED that the client could not settle by itself: the node
 * asks for a receipt the client's own tally does not support, or the price rose above `maxPricePerCredit`.
 */
export class PaymentRequiredError extends DataApiError {
  override readonly name = "PaymentRequiredError";
}
/** 402 CREDITS_EXHAUSTED: the consumer's available DataCredits balance does not cover the read; deposit more. */
export class CreditsExhaustedError extends DataApiError {
  override readonly name = "CreditsExhaustedError";
}

/** The typed error of a node answer. */
export function errorOf(
  code: string,
  status: number,
  message: string,
  field: string | null,
  details: Readonly<Record<string, unknown>> = {},
): DataApiError {
  if (status === 402 && code === "CREDITS_EXHAUSTED")
    return new CreditsExhaustedError(code, status, message, field, details);
  if (status === 402) return new PaymentRequiredError(code, status, message, field, details);
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

/** `GET /v1/vehicles/:id/access-log`: a page of the vehicle's log as its owner sees it (docs/data-api.md). */
export interface AccessLogPage {
  vehicleId: string;
  owner: string;
  epoch: number;
  head: LogHead;
  entries: AccessLogEntry[];
  /** The `after` of the next page; null on the last. */
  nextAfter: number | null;
}

/** `GET /v1/credits/terms`: where and at what price the node is paid. */
export interface CreditsTerms {
  dataCredits: string;
  chainId: number;
  node: string;
  pricePerCredit: bigint;
}

/** What a served read charged and what the consumer signs next (the answer's `credits`). */
export interface ReadCredits {
  charged: number;
  cumulativeCredits: number;
  sequence: number;
}

/** `credits()`: the consumer's DataCredits account as the node indexes it, and the receipts signed here. */
export interface ClientCredits extends CreditsStatus {
  node: string;
  /** Credits of the channel to this node already redeemed on chain. */
  redeemedCredits: bigint;
  /** The node's count of the consumer's reads: sequence k and cumulative(k). */
  reads: { sequence: number; cumulativeCredits: number };
  /** The last receipt this client signed (null before any). */
  signed: { sequence: number; cumulativeCredits: number; maxPricePerCredit: bigint } | null;
}

export interface DataClientOptions {
  /** The node's base URL, e.g. `https://data.dimo.example`. */
  baseUrl: string;
  /** Signs in; also signs the receipts when it can sign typed data (an ethers Signer does) and `receiptSigner` is unset. */
  signer: MessageSigner & Partial<Pick<TypedDataSigner, "signTypedData">>;
  /** Signs the DataCredits receipts (default: `signer`). */
  receiptSigner?: TypedDataSigner;
  /**
   * Highest price per credit (wei) the client signs; default: the node's price at the first paid read, so a later
   * Timelock rise surfaces as PaymentRequiredError (PRICE_ABOVE_SIGNED) instead of being signed silently.
   */
  maxPricePerCredit?: bigint;
  /** Seconds a sign-in message stays valid (at most the node's 600). */
  messageLifetimeSeconds?: number;
  fetch?: typeof fetch;
  /** Unix seconds now (tests pin it). */
  now?: () => number;
}

export class DataClient {
  private _token: { token: string; expiresAt: number } | undefined;
  private _terms: CreditsTerms | undefined;
  /** The reads this client was served and paid for: k and cumulative(k) (undefined until known). */
  private _tally: { sequence: number; cumulativeCredits: number } | undefined;
  private _signed:
    { sequence: number; cumulativeCredits: number; maxPricePerCredit: bigint; header: string } | undefined;
  /** Highest price per credit signed: `maxPricePerCredit`, else the node's price at the first paid read. */
  private _cap: bigint | undefined;
  /** The `credits` of the last served read (undefined when the node does not charge). */
  lastCredits: ReadCredits | undefined;
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
    const r = await this._read<{ signals: LatestSignal[]; credits?: ReadCredits }>(
      `/v1/vehicles/${vehicleId}/signals/latest?${q}`,
      (a) => a.signals.filter((x) => x.values !== null).length,
    );
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
    const page = await this._read<HistoryPage & { credits?: ReadCredits }>(
      `/v1/vehicles/${vehicleId}/signals/history?${q}`,
      (a) => a.buckets.length,
    );
    const { credits: _credits, ...rest } = page;
    return rest;
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

  /**
   * For a vehicle's owner (the signer): one page of who read the vehicle's data, `GET /v1/vehicles/:id/access-log`
   * (the reads under grants of the owner's current ownership epoch). Pass the previous page's `nextAfter` for the
   * next. `NOT_VEHICLE_OWNER` (ReadRefusedError) when the signer is not the vehicle's current owner.
   */
  async accessLog(vehicleId: bigint | string, page: { after?: number; limit?: number } = {}): Promise<AccessLogPage> {
    const q = new URLSearchParams();
    if (page.after !== undefined) q.set("after", String(page.after));
    if (page.limit !== undefined) q.set("limit", String(page.limit));
    const query = q.toString();
    return this._signedInGet<AccessLogPage>(`/v1/vehicles/${vehicleId}/access-log${query ? `?${query}` : ""}`);
  }

  /** `GET /v1/credits/terms` (fetched once, again after a price change). */
  async terms(refresh = false): Promise<CreditsTerms> {
    if (this._terms === undefined || refresh) {
      const t = await this._call<{ dataCredits: string; chainId: number; node: string; pricePerCredit: string }>(
        "GET",
        "/v1/credits/terms",
        undefined,
        false,
      );
      this._terms = { ...t, pricePerCredit: BigInt(t.pricePerCredit) };
    }
    return this._terms;
  }

  /** Balance, redeemed, pending withdrawal and available (from the node's index) and what this client signed. */
  async credits(): Promise<ClientCredits> {
    await this._ensureToken();
    const a = await this._call<{
      node: string;
      balance: string;
      deposited: string;
      redeemed: string;
      withdrawn: string;
      pendingWithdrawal: string;
      releaseAt: string;
      available: string;
      pricePerCredit: string;
      channel: { redeemedCredits: string };
      reads: { sequence: number; cumulativeCredits: number };
    }>("GET", "/v1/credits/account", undefined, true);
    const s = this._signed;
    return {
      node: a.node,
      balance: BigInt(a.balance),
      deposited: BigInt(a.deposited),
      redeemed: BigInt(a.redeemed),
      withdrawn: BigInt(a.withdrawn),
      pendingWithdrawal: BigInt(a.pendingWithdrawal),
      releaseAt: BigInt(a.releaseAt),
      available: BigInt(a.available),
      pricePerCredit: BigInt(a.pricePerCredit),
      redeemedCredits: BigInt(a.channel.redeemedCredits),
      reads: a.reads,
      signed:
        s === undefined
          ? null
          : { sequence: s.sequence, cumulativeCredits: s.cumulativeCredits, maxPricePerCredit: s.maxPricePerCredit },
    };
  }

  /**
   * Pays the reads served so far without reading more (`POST /v1/credits/receipt`): the last read's receipt
   * otherwise travels with the next read. A no-op before any paid read.
   */
  async payReads(): Promise<void> {
    if (this._tally === undefined || this._tally.sequence === 0) return;
    await this._ensureToken();
    await this._call("POST", "/v1/credits/receipt", undefined, true, { [RECEIPT_HEADER]: await this._receiptHeader() });
  }

  private async _ensureToken(): Promise<void> {
    if (this._token === undefined || this._token.expiresAt <= this._now() + 5) await this.signIn();
  }

  /**
   * An authenticated GET: signs in first without a live token, and once more when the node says the token expired
   * (its clock is the judge).
   */
  private async _signedInGet<T>(path: string, extraHeaders: Record<string, string> = {}): Promise<T> {
    await this._ensureToken();
    try {
      return await this._call<T>("GET", path, undefined, true, extraHeaders);
    } catch (e) {
      if (!(e instanceof DataApiError) || e.code !== "TOKEN_EXPIRED") throw e;
      await this.signIn();
      return this._call<T>("GET", path, undefined, true, extraHeaders);
    }
  }

  /** The header of the receipt for the tally (signed once per tally and price). */
  private async _receiptHeader(): Promise<string> {
    const tally = this._tally!;
    const terms = await this.terms();
    const max = this._cap ?? (this._cap = this._opts.maxPricePerCredit ?? terms.pricePerCredit);
    const s = this._signed;
    if (s !== undefined && s.sequence === tally.sequence && s.maxPricePerCredit === max) return s.header;
    const signer = this._opts.receiptSigner ?? (this._opts.signer as TypedDataSigner);
    if (typeof signer.signTypedData !== "function")
      throw new PaymentRequiredError("RECEIPT_REQUIRED", 402, "the node charges for reads: give a receiptSigner");
    const receipt = checkReceipt({
      consumer: await this._opts.signer.getAddress(),
      node: terms.node,
      cumulativeCredits: BigInt(tally.cumulativeCredits),
      sequence: BigInt(tally.sequence),
      maxPricePerCredit: max,
    });
    const domain = creditsDomain(terms.chainId, terms.dataCredits);
    const signature = await signer.signTypedData({ ...domain, chainId: Number(domain.chainId) }, RECEIPT_TYPES, {
      ...receipt,
    });
    const header = encodeReceiptHeader({ ...receipt, signature });
    this._signed = {
      sequence: tally.sequence,
      cumulativeCredits: tally.cumulativeCredits,
      maxPricePerCredit: max,
      header,
    };
    return header;
  }

  /**
   * A read with the token; signs in first when there is none or it is about to expire, and once more on
   * TOKEN_EXPIRED. When the node charges, sends the receipt for the reads so far, and settles a 402 once: adopts the
   * node's count when this client has none yet (a new session), re-signs after a price change within
   * `maxPricePerCredit`; then checks the answer's `credits` against what it returned (`resultSize`).
   */
  private async _read<T extends { credits?: ReadCredits }>(
    path: string,
    resultSize: (answer: T) => number,
  ): Promise<T> {
    const attempt = async (): Promise<T> => {
      const extra: Record<string, string> =
        this._tally !== undefined && this._tally.sequence > 0 ? { [RECEIPT_HEADER]: await this._receiptHeader() } : {};
      return this._signedInGet<T>(path, extra);
    };
    let answer: T;
    try {
      answer = await attempt();
    } catch (e) {
      if (!(e instanceof PaymentRequiredError) || !(await this._settle(e))) throw e;
      answer = await attempt();
    }
    if (answer.credits !== undefined) {
      this._account(answer.credits, resultSize(answer));
      // The terms once, at the first paid read: their price is the cap unless `maxPricePerCredit` was given.
      if (this._cap === undefined) this._cap = this._opts.maxPricePerCredit ?? (await this.terms()).pricePerCredit;
    }
    return answer;
  }

  /** Whether a 402 can be settled by signing again (then the read is retried once). */
  private async _settle(e: PaymentRequiredError): Promise<boolean> {
    const d = e.details as { sequence?: unknown; cumulativeCredits?: unknown };
    if (typeof d.sequence !== "number" || typeof d.cumulativeCredits !== "number") return false;
    if (this._tally === undefined) {
      // A new session: the node's count of earlier reads is taken as it is (check it against the access log).
      this._tally = { sequence: d.sequence, cumulativeCredits: d.cumulativeCredits };
    } else if (this._tally.sequence !== d.sequence || this._tally.cumulativeCredits !== d.cumulativeCredits) {
      return false; // the node asks for another count than this client's: surface it
    }
    if (e.code === "PRICE_ABOVE_SIGNED") {
      // Re-sign only within the cap: a price rise above it is the application's decision.
      const terms = await this.terms(true);
      return terms.pricePerCredit <= (this._cap ?? terms.pricePerCredit) && this._signed === undefined;
    }
    return e.code === "RECEIPT_REQUIRED" && d.sequence > 0;
  }

  /** Checks a served read's `credits` against the tally and the answer, and moves the tally. */
  private _account(c: ReadCredits, returned: number): void {
    const prev = this._tally ?? { sequence: 0, cumulativeCredits: 0 };
    if (
      c.sequence !== prev.sequence + 1 ||
      c.charged !== returned ||
      c.cumulativeCredits !== prev.cumulativeCredits + returned
    ) {
      throw new DataApiError(
        "BAD_RESPONSE",
        200,
        `the node charged {sequence ${c.sequence}, charged ${c.charged}, cumulative ${c.cumulativeCredits}}; this client counts ` +
          `{sequence ${prev.sequence + 1}, charged ${returned}, cumulative ${prev.cumulativeCredits + returned}}`,
        "credits",
      );
    }
    this._tally = { sequence: c.sequence, cumulativeCredits: c.cumulativeCredits };
    this.lastCredits = c;
  }

  private async _call<T>(
    method: "GET" | "POST",
    path: string,
    body: unknown,
    auth: boolean,
    extraHeaders: Record<string, string> = {},
  ): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json", ...extraHeaders };
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
      const err = (json ?? {}) as {
        code?: string;
        message?: string;
        field?: string | null;
        details?: Record<string, unknown>;
      };
      throw errorOf(
        err.code ?? "BAD_RESPONSE",
        res.status,
        err.message ?? `HTTP ${res.status}`,
        err.field ?? null,
        err.details ?? {},
      );
    }
    return json as T;
  }
}
