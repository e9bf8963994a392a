/**
 * The network node's HTTP server (Fastify 5): `POST /v1/batches` verifies a signed batch against the
 * registry index and stores it whole; `GET /health`. Every refusal is `{ code, message, field }` with a
 * stable code (docs/telemetry.md "Refusals") and nothing stored. Request ids are logged by pino and
 * returned in `x-request-id`.
 *
 * Seams for later issues: the read API (issue 14) adds routes with `registerRoutes` and reads the store's
 * `signals` table; SIWE auth is a Fastify `onRequest` hook on those routes; the access log is a store table
 * appended by those handlers.
 */
import { randomUUID } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { getAddress } from "ethers";
import { summarizeBatch } from "../lib/telemetry/activity";
import { checkBatchSigner } from "../lib/telemetry/bindings";
import { parseSignedBatch, type SignedBatch } from "../lib/telemetry/format";
import { VerifyPool } from "./verify-pool";
import { MAX_BODY_BYTES, NODE_DEFAULTS } from "../lib/telemetry/settings";
import { ConsentError } from "../lib/consent/errors";
import { registerDataApi, type DataApiDeps } from "./data-api";
import type { RegistryIndex } from "./registry-index";
import type { TelemetryStore } from "./store";

/** Every refusal code and its HTTP status. */
export const REFUSALS = {
  malformed_batch: 400,
  unknown_signal: 400,
  value_out_of_range: 400,
  time_range_invalid: 400,
  wrong_chain: 400,
  wrong_registry: 400,
  batch_too_large: 413,
  unsupported_media_type: 415,
  timestamp_in_future: 422,
  timestamp_too_old: 422,
  bad_signature: 401,
  unknown_device: 403,
  device_not_paired: 403,
  device_paired_elsewhere: 403,
  connection_not_attested: 403,
  duplicate_batch: 409,
  sequence_replayed: 409,
  time_range_overlaps: 409,
  not_found: 404,
  index_stale: 503,
  internal_error: 500,
} as const;
export type RefusalCode = keyof typeof REFUSALS;

export class Refusal extends Error {
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly field: string | null = null,
  ) {
    super(message);
  }
}

export interface NodeSettings {
  maxFutureSkewSeconds: number;
  maxPastSeconds: number;
}

export interface NodeDeps {
  store: TelemetryStore;
  index: RegistryIndex;
  chainId: number;
  registry: string;
  settings?: Partial<NodeSettings>;
  /** Unix seconds now (tests pin it to the chain's clock). */
  now?: () => number;
  /** A pino logger (request ids are added per request); none when absent. */
  logger?: FastifyBaseLogger;
  /** The read side (docs/data-api.md): sign-in, reads, the access log. Absent: ingest only. */
  dataApi?: DataApiDeps;
  /**
   * Threads that compute batches' digests and recover their signers (node/verify-pool.ts); 0 or absent: inline.
   * The node closes the pool with the app.
   */
  verifyThreads?: number;
}

/** Counts of accepted and refused batches by code since start (for /health and the simulator summary). */
export interface IngestCounters {
  accepted: number;
  refused: Partial<Record<RefusalCode, number>>;
}

export function buildNode(
  deps: NodeDeps,
): FastifyInstance & { counters: IngestCounters; verifyReady: () => Promise<void> } {
  const settings: NodeSettings = {
    maxFutureSkewSeconds: deps.settings?.maxFutureSkewSeconds ?? NODE_DEFAULTS.maxFutureSkewSeconds,
    maxPastSeconds: deps.settings?.maxPastSeconds ?? NODE_DEFAULTS.maxPastSeconds,
  };
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const registry = getAddress(deps.registry);
  const pool = new VerifyPool(deps.verifyThreads ?? 0);
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: MAX_BODY_BYTES,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
  });
  const counters: IngestCounters = { accepted: 0, refused: {} };

  app.addHook("onClose", async () => pool.close());

  app.addHook("onSend", async (req, reply) => {
    reply.header("x-request-id", req.id);
  });

  // Validation at the edge: the zod schema of lib/telemetry runs as the route's body schema.
  app.setValidatorCompiler(() => (data: unknown) => {
    const r = parseSignedBatch(data);
    if (r.ok) return { value: r.value };
    return { error: new Refusal(r.problem.code, r.problem.message, r.problem.field) };
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
    if (err instanceof ConsentError) {
      // The read API's refusals (docs/data-api.md): UPPER_SNAKE codes, unlike ingest's lower_snake ones.
      // Refused reads are not in the hash-chained access log (nothing was served, no grant relied on); they are
      // logged here with who asked for which vehicle.
      req.log.info(
        {
          code: err.code,
          field: err.field ?? null,
          consumer: req.claims?.consumer ?? null,
          vehicleId: (req.params as { id?: string } | undefined)?.id ?? null,
        },
        "request refused",
      );
      return reply.status(err.status).send(err.toJSON());
    }
    let refusal: Refusal;
    if (err instanceof Refusal) refusal = err;
    else if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE")
      refusal = new Refusal("batch_too_large", `the body exceeds ${MAX_BODY_BYTES} bytes`, null);
    else if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE")
      refusal = new Refusal("unsupported_media_type", "send application/json", null);
    else if (err.statusCode === 400) refusal = new Refusal("malformed_batch", err.message, null);
    else {
      req.log.error({ err }, "unexpected error");
      refusal = new Refusal("internal_error", "internal error", null);
    }
    if (req.routeOptions.url === "/v1/batches")
      counters.refused[refusal.code] = (counters.refused[refusal.code] ?? 0) + 1;
    req.log.info({ code: refusal.code, field: refusal.field }, "request refused");
    return reply
      .status(REFUSALS[refusal.code])
      .send({ code: refusal.code, message: refusal.message, field: refusal.field });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({ code: "not_found", message: `no route ${req.method} ${req.url}`, field: null }),
  );

  app.get("/health", async (_req, reply) => {
    const f = deps.index.freshness();
    let db = "ok";
    try {
      await deps.store.ping();
    } catch (e) {
      db = (e as Error).message;
    }
    const ok = f.fresh && db === "ok";
    return reply.status(ok ? 200 : 503).send({
      status: ok ? "ok" : "degraded",
      store: deps.store.kind,
      db,
      index: {
        cursor: deps.index.cursor,
        head: deps.index.head,
        behindBlocks: f.behindBlocks,
        fresh: f.fresh,
        message: f.message,
      },
      ingest: counters,
    });
  });

  if (deps.dataApi) registerDataApi(app, { ...deps.dataApi, store: deps.store, now });

  app.post("/v1/batches", { schema: { body: {} } }, async (req, reply) => {
    const signed = req.body as SignedBatch;
    const result = await ingest(signed);
    counters.accepted++;
    req.log.info(
      { digest: result.digest, vehicleId: signed.batch.vehicleId, sequence: signed.batch.sequence },
      "batch stored",
    );
    return reply.status(201).send(result);
  });

  async function ingest(signed: SignedBatch): Promise<{ digest: string; id: number; signer: string }> {
    const b = signed.batch;
    if (signed.chainId !== deps.chainId)
      throw new Refusal(
        "wrong_chain",
        `signed for chain ${signed.chainId}; this node serves chain ${deps.chainId}`,
        "chainId",
      );
    if (getAddress(signed.registry) !== registry)
      throw new Refusal(
        "wrong_registry",
        `signed for registry ${signed.registry}; this node serves ${registry}`,
        "registry",
      );
    const t = now();
    if (b.endTime > t + settings.maxFutureSkewSeconds)
      throw new Refusal(
        "timestamp_in_future",
        `endTime ${b.endTime} is ${b.endTime - t} s ahead of the node's clock (at most ${settings.maxFutureSkewSeconds} s)`,
        "batch.endTime",
      );
    if (b.startTime < t - settings.maxPastSeconds)
      throw new Refusal(
        "timestamp_too_old",
        `startTime ${b.startTime} is ${t - b.startTime} s in the past (at most ${settings.maxPastSeconds} s)`,
        "batch.startTime",
      );
    const fresh = deps.index.freshness();
    if (!fresh.fresh) throw new Refusal("index_stale", `${fresh.message}; retry later`, null);

    const { digest, recovered } = await pool.verify(b, signed.chainId, signed.registry, signed.signature);
    // The signer rule lives once, in lib/telemetry/bindings.ts (rewards:verify re-checks published batches with it).
    const check = checkBatchSigner(b, digest, signed.signature, deps.index, recovered);
    if (!check.ok) throw new Refusal(check.code, check.message, check.field);
    const expected = check.signer;

    const stored = await deps.store.insertBatch({
      signed,
      digest,
      signer: expected,
      receivedAt: t,
      summary: summarizeBatch(b, expected),
    });
    if (!stored.ok)
      throw new Refusal(stored.code, stored.message, stored.code === "duplicate_batch" ? null : "batch.sequence");
    return { digest, id: stored.id, signer: getAddress(expected) };
  }

  return Object.assign(app, { counters, verifyReady: () => pool.ready() });
}
