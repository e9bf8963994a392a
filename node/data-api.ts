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
import type { Provider } from "ethers";
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
import { readHistoryPage, readLatest } from "./reads";
import type { TelemetryStore } from "./store";

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
    const n = await issueNonce(nonces, settings, now());
    return { ...n, domain: settings.domain, uri: settings.uri, chainId: settings.chainId };
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
  const logRead = (permit: ReadPermit, t: number, resultSize: number, asked: { from: number; to: number }) => {
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
    return store.appendAccess(read);
  };

  app.get("/v1/vehicles/:id/signals/latest", readRoute(LATEST_QUERY_SCHEMA), async (req) => {
    const q = req.query as LatestQuery;
    const t = now();
    const permit = permitFor(req, q.names.asked, t);
    const signals = await readLatest(store, permit);
    await logRead(permit, t, signals.filter((s) => s.values !== null).length, { from: t, to: t });
    return { vehicleId: permit.vehicleId.toString(), signals };
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
    const page = await readHistoryPage(store, permit, {
      interval: q.interval,
      agg: q.agg,
      limit: q.limit,
      position: start.position,
    });
    await logRead(permit, t, page.buckets.length, { from: q.from, to: start.to });
    return {
      vehicleId: permit.vehicleId.toString(),
      interval: q.interval,
      agg: q.agg,
      buckets: page.buckets,
      nextCursor: page.next === null ? null : encodeCursor(page.next, start.to, key),
    };
  });

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
