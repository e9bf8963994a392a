/**
 * The read side of the node (issue 14, docs/data-api.md): sign-in with Ethereum (`POST /v1/auth/nonce`,
 * `POST /v1/auth/siwe`, EOAs and ERC-1271 contract wallets), the bearer-token hook of the authenticated routes,
 * and the access log: `GET /v1/access-log/head` (public: count and hash) and `GET /v1/vehicles/:id/access-log`
 * (the vehicle's current owner only, by the owner's SIWE token, and only the reads under grants of the owner's own
 * ownership epoch: a buyer does not learn who read the seller's data, the seller no longer sees the vehicle's log). Refusals are `ConsentError`s (UPPER_SNAKE codes),
 * answered by the node's error handler as `{code, message, field}`.
 *
 * The rules are lib/consent's; this file is the HTTP wiring only.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { getAddress, type Provider } from "ethers";
import type { ConsentIndex } from "../lib/consent/chain-index";
import { ConsentError } from "../lib/consent/errors";
import {
  issueNonce,
  issueToken,
  MemoryNonceStore,
  SIWE_DEFAULTS,
  verifySignIn,
  verifyToken,
  type NonceStore,
  type SiweSettings,
  type TokenClaims,
} from "../lib/consent/siwe";
import type { AccessRead } from "../lib/consent/access-log";
import type { ReadPermit } from "../lib/consent/permissions";
import {
  decodeCursor,
  encodeCursor,
  HISTORY_QUERY_SCHEMA,
  LATEST_QUERY_SCHEMA,
  parseParams,
  queryKey,
  VEHICLE_PARAMS_SCHEMA,
  type HistoryQuery,
  type LatestQuery,
} from "../lib/consent/read-query";
import {
  canServe,
  creditsDomain,
  decodeReceiptHeader,
  isReceiptSigned,
  RECEIPT_HEADER,
  ReceiptHeaderError,
  type ReceiptHeader,
} from "../lib/credits/receipts";
import { accountOf, availableOf, channelOf } from "../lib/credits/credits-state";
import { readHistoryPage, readLatest } from "./reads";
import { ReadCountMoved, type ReadCount, type StoredReceipt, type TelemetryStore } from "./store";

export interface DataApiDeps {
  /** Domain, URI and chain the sign-in messages must name; the rest defaults to `SIWE_DEFAULTS`. */
  siwe: Pick<SiweSettings, "domain" | "uri" | "chainId"> & Partial<SiweSettings>;
  /** HS256 key of the bearer tokens (`parseTokenKey`). */
  tokenKey: Uint8Array;
  /** The consent index the node keeps current (ownership, grants, stake). */
  consent: ConsentIndex;
  /** For ERC-1271 `isValidSignature` of contract wallets. */
  provider?: Provider;
  nonces?: NonceStore;
  /**
   * Paying for reads (docs/data-api.md "Paying for reads"): when set, the node serves read k+1 of a consumer only
   * holding its receipt for reads 1..k and while its DataCredits balance covers them. Off when absent. The consent
   * index must then follow DataCredits too (`ConsentContracts.credits`).
   */
  credits?: CreditsSettings;
}

export interface CreditsSettings {
  /** The DataCredits contract. */
  dataCredits: string;
  /** The node's address: the receipts name it and it redeems them (the operator's key). */
  node: string;
}

/** What a served read's answer says about payment: what it charged and what the consumer signs next. */
export interface ReadCredits {
  /** Credits of this read (its access-log entry's `resultSize`). */
  charged: number;
  /** cumulative(k): every credit the consumer read from this node, this read included. */
  cumulativeCredits: number;
  /** k: this read's number among the consumer's entries in the node's log. */
  sequence: number;
}

/** Most access-log entries per page of the owner route. */
export const ACCESS_LOG_PAGE_MAX = 1_000;

declare module "fastify" {
  interface FastifyRequest {
    /** The signed-in consumer (or owner), set by the bearer-token hook. */
    claims?: TokenClaims;
  }
}

export function registerDataApi(
  app: FastifyInstance,
  deps: DataApiDeps & { store: TelemetryStore; now: () => number },
): { authenticate: (req: FastifyRequest) => Promise<void> } {
  const settings: SiweSettings = { ...SIWE_DEFAULTS, ...deps.siwe };
  const nonces = deps.nonces ?? new MemoryNonceStore(settings.maxOutstandingNonces);
  const { store, now } = deps;

  const authenticate = async (req: FastifyRequest): Promise<void> => {
    const header = req.headers.authorization;
    let token: string | undefined;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new ConsentError("TOKEN_INVALID", "the Authorization header is not `Bearer <token>`");
      token = m[1];
    }
    req.claims = await verifyToken(token, deps.tokenKey, settings, now());
  };

  app.post("/v1/auth/nonce", async () => {
    const t = now();
    const n = await issueNonce(nonces, settings, t);
    // `issuedAt` is the node's clock: a client whose clock differs (a browser beside a local chain whose time was
    // moved, `--clock chain`) dates its message by it, so `Issued At` and `Expiration Time` pass the node's checks.
    return { ...n, issuedAt: t, domain: settings.domain, uri: settings.uri, chainId: settings.chainId };
  });

  app.post("/v1/auth/siwe", { bodyLimit: 4_096 }, async (req) => {
    const body = req.body as { message?: unknown; signature?: unknown } | null;
    if (body === null || typeof body !== "object") {
      throw new ConsentError("SIWE_MALFORMED", 'send {"message": "…", "signature": "0x…"}', {}, "message");
    }
    if (typeof body.message !== "string") {
      throw new ConsentError("SIWE_MALFORMED", "message: expected the EIP-4361 text (a string)", {}, "message");
    }
    if (typeof body.signature !== "string") {
      throw new ConsentError("SIWE_MALFORMED", "signature: expected 0x-prefixed hex", {}, "signature");
    }
    const t = now();
    const signIn = await verifySignIn(body.message, body.signature, {
      settings,
      nonces,
      now: t,
      provider: deps.provider,
    });
    const { token, expiresAt } = await issueToken(signIn, deps.tokenKey, settings, t);
    return { token, tokenType: "Bearer", expiresAt, consumer: signIn.address };
  });

  app.get("/v1/access-log/head", async () => store.accessLogHead());

  // Validation at the edge: the read routes' zod schemas (lib/consent/read-query.ts) run as Fastify validators,
  // after the bearer-token hook (401 before 400), and refuse with INVALID_PARAMETER / UNKNOWN_SIGNAL /
  // INVALID_RANGE naming the parameter.
  const zodValidator = ({ schema }: { schema: unknown }) => {
    const zod = schema as Parameters<typeof parseParams>[0];
    return (data: unknown) => {
      try {
        return { value: parseParams(zod, data) };
      } catch (e) {
        return { error: e as Error };
      }
    };
  };
  const readRoute = (querystring: unknown) => ({
    onRequest: authenticate,
    schema: { params: VEHICLE_PARAMS_SCHEMA, querystring },
    validatorCompiler: zodValidator,
  });

  /** The permit for this read, decided now by the consent index (every read, no caching). */
  const permitFor = (req: FastifyRequest, names: string[], t: number, range: { from?: number; to?: number } = {}) =>
    deps.consent.check({
      consumer: req.claims!.consumer,
      vehicleId: BigInt((req.params as { id: string }).id),
      names,
      now: t,
      ...range,
    });

  /**
   * The access-log entry of a served read, committed before the answer is sent: if the append fails the read
   * fails (500) and nothing is served. A crash after the commit and before the answer leaves a logged read the
   * consumer did not receive (the log may over-state reads, never under-state them).
   */
  const logRead = (
    permit: ReadPermit,
    t: number,
    resultSize: number,
    asked: { from: number; to: number },
    opts?: Parameters<TelemetryStore["appendAccess"]>[1],
  ) => {
    const windows = permit.signals.flatMap((s) => (s.window === null ? [] : [s.window]));
    const read: AccessRead = {
      at: t,
      consumer: permit.consumer,
      vehicleId: permit.vehicleId.toString(),
      signals: permit.signals.map((s) => s.dataType),
      // The range of data the read could return (the union of the permitted windows), else the range asked for.
      from: windows.length ? Math.min(...windows.map((w) => w.from)) : asked.from,
      to: windows.length ? Math.max(...windows.map((w) => w.to)) : asked.to,
      resultSize,
      grant: { ...permit.grant, permissions: permit.grant.permissions.toString() },
    };
    return store.appendAccess(read, opts);
  };

  const credits = deps.credits === undefined ? undefined : paymentGate(deps, deps.credits);

  /**
   * Logs a served read (and the receipt that admitted it, in the same transaction) and returns its `credits`; with
   * payments off, logs it only. A concurrent read of the same consumer logged first makes the admission stale:
   * RECEIPT_INVALID, nothing logged.
   */
  const logPaid = async (
    permit: ReadPermit,
    t: number,
    resultSize: number,
    asked: { from: number; to: number },
    admitted: Admission | undefined,
  ): Promise<{ credits?: ReadCredits }> => {
    if (admitted === undefined) {
      await logRead(permit, t, resultSize, asked);
      return {};
    }
    try {
      await logRead(permit, t, resultSize, asked, { expect: admitted.count, receipt: admitted.receipt });
    } catch (e) {
      if (e instanceof ReadCountMoved) throw credits!.moved(e);
      throw e;
    }
    return {
      credits: {
        charged: resultSize,
        cumulativeCredits: admitted.count.credits + resultSize,
        sequence: admitted.count.reads + 1,
      },
    };
  };

  app.get("/v1/vehicles/:id/signals/latest", readRoute(LATEST_QUERY_SCHEMA), async (req) => {
    const q = req.query as LatestQuery;
    const t = now();
    const permit = permitFor(req, q.names.asked, t);
    // At most one credit per name asked.
    const admitted = await credits?.admit(req, q.names.asked.length, t);
    const signals = await readLatest(store, permit);
    const paid = await logPaid(
      permit,
      t,
      signals.filter((s) => s.values !== null).length,
      { from: t, to: t },
      admitted,
    );
    return { vehicleId: permit.vehicleId.toString(), signals, ...paid };
  });

  app.get("/v1/vehicles/:id/signals/history", readRoute(HISTORY_QUERY_SCHEMA), async (req) => {
    const q = req.query as HistoryQuery;
    const t = now();
    const key = queryKey(q);
    const start =
      q.cursor === undefined
        ? { position: { signal: 0, start: null }, to: q.to ?? t }
        : decodeCursor(q.cursor, key, q.names.asked.length);
    const permit = permitFor(req, q.names.asked, t, { from: q.from, to: start.to });
    // At most one credit per bucket of the page: `limit`.
    const admitted = await credits?.admit(req, q.limit, t);
    const page = await readHistoryPage(store, permit, {
      interval: q.interval,
      agg: q.agg,
      limit: q.limit,
      position: start.position,
    });
    const paid = await logPaid(permit, t, page.buckets.length, { from: q.from, to: start.to }, admitted);
    return {
      vehicleId: permit.vehicleId.toString(),
      interval: q.interval,
      agg: q.agg,
      buckets: page.buckets,
      nextCursor: page.next === null ? null : encodeCursor(page.next, start.to, key),
      ...paid,
    };
  });

  if (credits !== undefined) {
    app.get("/v1/credits/terms", async () => credits.terms());

    // The signed-in consumer's credits as the node sees them: the DataCredits account (from the index), what the
    // channel redeemed, the node's count of the consumer's reads and the receipt it holds.
    app.get("/v1/credits/account", { onRequest: authenticate }, async (req) => credits.account(req.claims!.consumer));

    // Pays the reads already served without reading more (the last read's receipt otherwise waits for the next
    // read): the X-Dimo-Receipt header for exactly reads 1..k, checked like a read's; stored; answers the count.
    app.post("/v1/credits/receipt", { onRequest: authenticate, bodyLimit: 1_024 }, async (req) => {
      const consumer = req.claims!.consumer;
      const { count, price, terms } = await credits.context(consumer);
      const header = credits.headerOf(req);
      if (header === undefined) throw credits.required(count, terms);
      const receipt = await credits.verify(consumer, header, count, price, now());
      try {
        await store.saveReceipt(receipt, count);
      } catch (e) {
        if (e instanceof ReadCountMoved) throw credits.moved(e);
        throw e;
      }
      return { sequence: count.reads, cumulativeCredits: count.credits };
    });
  }

  app.get("/v1/vehicles/:id/access-log", { onRequest: authenticate }, async (req) => {
    const { id } = parseParams(VEHICLE_PARAMS_SCHEMA, req.params);
    const q = req.query as { after?: string; limit?: string };
    const after = q.after === undefined ? -1 : intParam("after", q.after, -1, Number.MAX_SAFE_INTEGER);
    const limit = q.limit === undefined ? 100 : intParam("limit", q.limit, 1, ACCESS_LOG_PAGE_MAX);
    const f = deps.consent.freshness();
    if (!f.fresh) {
      throw new ConsentError("INDEX_STALE", `the node's consent index is ${f.ageMs} ms old; retry shortly`, {
        ageMs: Number.isFinite(f.ageMs) ? f.ageMs : null,
      });
    }
    const vehicle = deps.consent.state.vehicles.get(id);
    const caller = req.claims!.consumer;
    if (vehicle === undefined || vehicle.owner !== caller) {
      throw new ConsentError(
        "NOT_VEHICLE_OWNER",
        `${caller} is not the current owner of vehicle ${id}; only the owner sees its access log`,
        { vehicleId: id, caller },
      );
    }
    const entries = await store.accessLog({ vehicleId: id, epoch: vehicle.epoch, afterSeq: after, limit: limit + 1 });
    const page = entries.slice(0, limit);
    return {
      vehicleId: id,
      owner: vehicle.owner,
      epoch: vehicle.epoch,
      head: await store.accessLogHead(),
      entries: page,
      nextAfter: entries.length > limit ? page[page.length - 1].seq : null,
    };
  });

  return { authenticate };
}

/** An integer query parameter in [min, max], else `INVALID_PARAMETER` naming it. */
export function intParam(name: string, text: string, min: number, max: number): number {
  if (!/^-?\d{1,16}$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ConsentError(
      "INVALID_PARAMETER",
      `${name}: expected an integer ${min} – ${max}, got "${text}"`,
      {},
      name,
    );
  }
  return Number(text);
}

/** A read admitted by the payment gate: the consumer's count it was admitted at, and the receipt to store with it. */
interface Admission {
  count: ReadCount;
  receipt?: Omit<StoredReceipt, "redeemedSequence">;
}

/**
 * The payment rule of the read routes (docs/data-api.md "Paying for reads"). Before serving read k+1 of consumer C
 * (k = C's entries in the node's access log, cumulative(k) their `resultSize`s), the node must hold C's receipt
 * `{C, node, cumulative(k), k, maxPricePerCredit}` with maxPricePerCredit >= the current price (sent in
 * `X-Dimo-Receipt`, or already held), and C's available DataCredits balance must cover
 * (cumulative(k) − redeemed + maxNew) × price (`canServe`). The chain figures are the consent index's (no RPC per
 * read, except an ERC-1271 wallet's `isValidSignature`).
 */
function paymentGate(deps: DataApiDeps & { store: TelemetryStore; now: () => number }, c: CreditsSettings) {
  const { store, consent } = deps;
  const chainId = deps.siwe.chainId;
  const domain = creditsDomain(chainId, c.dataCredits);
  const node = getAddress(c.node);
  const dataCredits = getAddress(c.dataCredits);

  const termsAt = (price: bigint) => ({ dataCredits, chainId, node, pricePerCredit: price.toString() });

  /** The index's price (fresh), else INDEX_STALE. */
  const priceNow = (): bigint => {
    consent.assertFresh();
    const price = consent.credits.pricePerCredit;
    if (price === 0n) {
      throw new ConsentError(
        "INDEX_STALE",
        `the node has not indexed DataCredits' price (${dataCredits}); its index must start at or before the deployment`,
        { dataCredits },
      );
    }
    return price;
  };

  /** The price, the consumer's count and the terms. */
  const context = async (consumer: string) => {
    const price = priceNow();
    return { price, count: await store.readCount(consumer), terms: termsAt(price) };
  };

  const expectedOf = (count: ReadCount) => ({ sequence: count.reads, cumulativeCredits: count.credits });

  const required = (count: ReadCount, terms: ReturnType<typeof termsAt>) =>
    new ConsentError(
      "RECEIPT_REQUIRED",
      `read ${count.reads + 1} needs your receipt for reads 1..${count.reads}: sign {sequence ${count.reads}, ` +
        `cumulativeCredits ${count.credits}, maxPricePerCredit >= ${terms.pricePerCredit}} and send it in X-Dimo-Receipt`,
      { ...expectedOf(count), ...terms },
      "receipt",
    );

  const invalid = (field: string, message: string, count: ReadCount, extra: Record<string, string | number> = {}) =>
    new ConsentError("RECEIPT_INVALID", message, { ...expectedOf(count), ...extra }, field);

  const headerOf = (req: FastifyRequest): ReceiptHeader | undefined => {
    const raw = req.headers[RECEIPT_HEADER];
    if (raw === undefined) return undefined;
    if (Array.isArray(raw)) throw new ConsentError("RECEIPT_INVALID", "send one X-Dimo-Receipt header", {}, "receipt");
    try {
      return decodeReceiptHeader(raw);
    } catch (e) {
      if (e instanceof ReceiptHeaderError)
        throw new ConsentError("RECEIPT_INVALID", `X-Dimo-Receipt: ${e.field}: ${e.message}`, {}, e.field);
      throw e;
    }
  };

  /** Checks a sent receipt against the node's count, the signature and the price; returns it to store. */
  const verify = async (
    consumer: string,
    h: ReceiptHeader,
    count: ReadCount,
    price: bigint,
    t: number,
  ): Promise<Omit<StoredReceipt, "redeemedSequence">> => {
    if (count.reads === 0) {
      throw invalid(
        "receipt.sequence",
        "no read of yours is logged yet: the first read needs no receipt (send none)",
        count,
        { sent: h.sequence.toString() },
      );
    }
    if (h.sequence !== BigInt(count.reads)) {
      throw invalid(
        "receipt.sequence",
        `sequence ${h.sequence} is not ${count.reads}, the number of your reads this node logged` +
          (h.sequence < BigInt(count.reads) ? " (an older receipt)" : ""),
        count,
        { sent: h.sequence.toString() },
      );
    }
    if (h.cumulativeCredits !== BigInt(count.credits)) {
      throw invalid(
        "receipt.cumulativeCredits",
        `cumulativeCredits ${h.cumulativeCredits} is not ${count.credits}, the credits of your ${count.reads} logged reads`,
        count,
        { sent: h.cumulativeCredits.toString() },
      );
    }
    const r = {
      consumer,
      node,
      cumulativeCredits: h.cumulativeCredits,
      sequence: h.sequence,
      maxPricePerCredit: h.maxPricePerCredit,
    };
    if (!(await isReceiptSigned(domain, r, h.signature, deps.provider))) {
      throw invalid(
        "receipt.signature",
        `the signature is not ${consumer}'s over the receipt to node ${node} (EIP-712, DataCredits ${dataCredits}, chain ${chainId})`,
        count,
      );
    }
    if (h.maxPricePerCredit < price) throw priceAbove(h.maxPricePerCredit, price, count);
    return {
      consumer,
      node,
      sequence: count.reads,
      cumulativeCredits: count.credits,
      maxPricePerCredit: h.maxPricePerCredit,
      signature: h.signature,
      receivedAt: t,
    };
  };

  const priceAbove = (signed: bigint, price: bigint, count: ReadCount) =>
    new ConsentError(
      "PRICE_ABOVE_SIGNED",
      `the price per credit is ${price} wei, above the ${signed} wei your receipt allows; sign it again at the new price`,
      { ...expectedOf(count), ...termsAt(price), maxPricePerCredit: signed.toString() },
      "receipt.maxPricePerCredit",
    );

  return {
    context,
    required,
    headerOf,
    verify,

    terms: () => termsAt(priceNow()),

    /** A concurrent read of the consumer was logged between admission and logging. */
    moved: (e: ReadCountMoved) =>
      invalid(
        "receipt.sequence",
        `another read of yours was served first: this node now counts ${e.actual.reads} reads (${e.actual.credits} credits)`,
        e.actual,
      ),

    /** Admits read k+1 of the signed-in consumer, of at most `maxNew` credits, or throws the 402 refusal. */
    async admit(req: FastifyRequest, maxNew: number, t: number): Promise<Admission> {
      const consumer = req.claims!.consumer;
      const { price, count, terms } = await context(consumer);
      const h = headerOf(req);
      let receipt: Admission["receipt"];
      if (h !== undefined) receipt = await verify(consumer, h, count, price, t);
      else if (count.reads > 0) {
        const held = await store.receiptOf(consumer, node);
        if (held === undefined || held.sequence !== count.reads || held.cumulativeCredits !== count.credits)
          throw required(count, terms);
        if (held.maxPricePerCredit < price) throw priceAbove(held.maxPricePerCredit, price, count);
      }
      const account = accountOf(consent.credits, consumer);
      const channel = channelOf(consent.credits, consumer, node);
      const available = availableOf(account);
      const signedCredits = BigInt(count.credits);
      if (
        !canServe({
          available,
          pricePerCredit: price,
          redeemedCredits: channel.credits,
          signedCredits,
          credits: BigInt(maxNew),
        })
      ) {
        // A valid receipt is kept all the same: it pays the reads already served.
        if (receipt !== undefined) await store.saveReceipt(receipt, count).catch(() => undefined);
        const unredeemed = signedCredits > channel.credits ? signedCredits - channel.credits : 0n;
        const owed = unredeemed * price;
        throw new ConsentError(
          "CREDITS_EXHAUSTED",
          `this read may cost ${maxNew} credits; your available DataCredits balance ${available} wei covers ` +
            `${available > owed ? (available - owed) / price : 0n} more at ${price} wei (${unredeemed} credits signed, not yet redeemed)`,
          {
            ...expectedOf(count),
            ...terms,
            available: available.toString(),
            unredeemedCredits: unredeemed.toString(),
            servableCredits: (available > owed ? (available - owed) / price : 0n).toString(),
            maxCredits: maxNew,
          },
        );
      }
      return { count, receipt };
    },

    async account(consumer: string) {
      const { price, count } = await context(consumer);
      const a = accountOf(consent.credits, consumer);
      const ch = channelOf(consent.credits, consumer, node);
      const held = await store.receiptOf(consumer, node);
      return {
        consumer,
        node,
        balance: a.balance.toString(),
        deposited: a.deposited.toString(),
        redeemed: a.redeemed.toString(),
        withdrawn: a.withdrawn.toString(),
        pendingWithdrawal: a.pendingWithdrawal.toString(),
        releaseAt: a.releaseAt.toString(),
        available: availableOf(a).toString(),
        pricePerCredit: price.toString(),
        channel: { redeemedCredits: ch.credits.toString(), redeemedSequence: ch.sequence.toString() },
        reads: expectedOf(count),
        receipt:
          held === undefined
            ? null
            : {
                sequence: held.sequence,
                cumulativeCredits: held.cumulativeCredits,
                maxPricePerCredit: held.maxPricePerCredit.toString(),
              },
      };
    },
  };
}
