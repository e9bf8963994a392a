/**
 * npm run bench:data — the cost of consent on the read path (issue 14): permission-checked reads against the same
 * reads with the consent decision disabled, both over HTTP on 127.0.0.1 at 200 concurrent clients (autocannon),
 * in one run and on one store, so the machine's load weighs on both alike.
 *
 *   checked:   the node as it runs — bearer token verified, the consent index's decision per read (grant bits,
 *              expiry, revocation, ownership epoch and data window, stake coverage, freeze), the read clipped to
 *              the permitted windows, the access-log entry committed before the answer.
 *   unchecked: the same node, token verification and access log included, but the consent index replaced by one
 *              that permits every signal over the whole range (`PermitAllConsent` below, defined here only: the
 *              node has no switch that turns consent off).
 *
 * The scenario is test/node/read-fixture.ts's (consumer A granted location, odometer and fuel level of vehicle 0),
 * with `--hours` hours of one-minute telemetry stored; the requests alternate a `latest` read of three signals and a
 * one-hour history page (odometer and location, 10-minute buckets, avg). The two modes alternate in `--rounds`
 * rounds of `--seconds` seconds each; figures are the request-weighted rps and the worst p99 over the rounds.
 * Prints: `bench:data rps=<x> p99_ms=<y> unchecked_rps=<a> unchecked_p99_ms=<b> ratio_p99=<y/b> ratio_rps=<x/a>`.
 * Goal: p99 ≤ 2× unchecked.
 *
 *   --connections N (default 200), --seconds N (default 5), --rounds N (default 3), --hours N (default 6)
 *
 * Runs under Hardhat (`hardhat run`: the in-process network the consent index follows).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import { ConsentIndex } from "../lib/consent/chain-index";
import { checkRead, type ReadPermit, type ReadQuery } from "../lib/consent/permissions";
import { findDataType } from "../lib/data-types";
import type { TelemetryBatch } from "../lib/telemetry/format";
import { openStore } from "../node/store";
import { HOUR, postBatches, readDataFixture, readNodeOver } from "../test/node/read-fixture";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const env = process.env[`BENCH_DATA_${name.toUpperCase()}`];
  const text = i === -1 ? env : process.argv[i + 1];
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error(`--${name}: expected a positive integer, got "${text}"`);
  return v;
}

/**
 * The consent index with the decision taken out: every read of a known signal is permitted over the whole range,
 * under the grant record the consumer really holds (so the access-log entry has the same shape and size).
 */
class PermitAllConsent extends ConsentIndex {
  override check(q: ReadQuery): ReadPermit {
    const real = checkRead(this.state, { ...q, names: [findDataType("odometer")!.name] });
    return {
      consumer: real.consumer,
      vehicleId: q.vehicleId,
      grant: real.grant,
      signals: q.names.map((name) => {
        const t = findDataType(name)!;
        return { name, dataType: t.name, bit: t.bit, window: { from: q.from ?? 0, to: q.to ?? q.now } };
      }),
    };
  }
}

interface Round {
  requests: number;
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, token: string, connections: number, seconds: number, paths: string[]) {
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers: { authorization: `Bearer ${token}` },
    requests: paths.map((p) => ({ method: "GET", path: p })),
  });
  const r: Round = {
    requests: result.requests.total,
    rps: result.requests.average,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
  if (r.non2xx > 0 || r.errors > 0) {
    throw new Error(
      `bench:data: ${r.non2xx} non-2xx answers and ${r.errors} errors/timeouts at ${url}: the bench measures served reads only`,
    );
  }
  return r;
}

async function main(): Promise<void> {
  const connections = arg("connections", 200);
  const seconds = arg("seconds", 5);
  const rounds = arg("rounds", 3);
  const hours = arg("hours", 6);

  const f = await readDataFixture();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-bench-data-"));
  const modes = [] as { name: "checked" | "unchecked"; url: string; token: string; close: () => Promise<void> }[];
  try {
    // One-minute data from `base` for `hours` hours, one batch per hour; the chain and the clock move past it.
    const v0 = f.vehicleIds[0].toString();
    const batches: TelemetryBatch[] = [];
    for (let h = 0; h < hours; h++) {
      const start = f.base + h * HOUR;
      const signals: TelemetryBatch["signals"] = [];
      for (let m = 0; m < 60; m++) {
        const t = start + m * 60;
        const odo = 1_000 + h * 60 + m;
        signals.push({ name: "odometer", timestamp: t, values: [odo] });
        signals.push({ name: "location", timestamp: t, values: [52_000_000 + m, 13_000_000 + h] });
        signals.push({ name: "speed", timestamp: t, values: [4_000 + m] });
      }
      signals.push({ name: "fuel_level", timestamp: start, values: [600 - h] });
      batches.push({
        vehicleId: v0,
        deviceId: "0",
        integration: f.software.address,
        sequence: 10 + h,
        startTime: start,
        endTime: start + 59 * 60,
        signals,
      });
    }
    await time.increaseTo(f.base + hours * HOUR + 60);
    const now = f.base + hours * HOUR + 60;
    const paths = [
      `/v1/vehicles/${v0}/signals/latest?names=location,odometer,fuel_level`,
      `/v1/vehicles/${v0}/signals/history?names=odometer,location&from=${f.base}&to=${f.base + HOUR - 1}&interval=600&agg=avg`,
    ];
    for (const name of ["checked", "unchecked"] as const) {
      const store = await openStore({ sqliteFile: path.join(dir, `${name}.sqlite`) });
      const clock = { now };
      const node = await readNodeOver(f, store, clock);
      if (name === "unchecked") {
        // The same node with the permit-all index, caught up to the same block.
        Object.setPrototypeOf(node.consent, PermitAllConsent.prototype);
      }
      await postBatches(node, f.software, batches);
      const token = await node.tokenOf(f.consumerA);
      const url = await node.app.listen({ host: "127.0.0.1", port: 0 });
      // Both modes answer the same thing for what the grant covers (checked first: a refusal here is a bench bug).
      for (const p of paths) {
        const res = await fetch(url + p, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`bench:data: ${name} ${p} answered ${res.status}: ${await res.text()}`);
      }
      modes.push({
        name,
        url,
        token,
        close: async () => {
          await node.app.close();
          await store.close();
        },
      });
    }

    const results: Record<string, Round[]> = { checked: [], unchecked: [] };
    await load(modes[0].url, modes[0].token, connections, 1, paths); // warm-up, not counted
    await load(modes[1].url, modes[1].token, connections, 1, paths);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? modes : [...modes].reverse();
      for (const m of order) {
        const round = await load(m.url, m.token, connections, seconds, paths);
        results[m.name].push(round);
        console.error(
          `bench:data round ${r + 1}/${rounds} ${m.name}: ${round.requests} reads, ${round.rps.toFixed(0)} rps, p99 ${round.p99} ms`,
        );
      }
    }
    const summary = (rs: Round[]) => ({
      rps: rs.reduce((s, r) => s + r.requests, 0) / (rs.length * seconds),
      p99: Math.max(...rs.map((r) => r.p99)),
    });
    const c = summary(results.checked);
    const u = summary(results.unchecked);
    console.log(
      `bench:data rps=${c.rps.toFixed(0)} p99_ms=${c.p99} unchecked_rps=${u.rps.toFixed(0)} unchecked_p99_ms=${u.p99} ` +
        `ratio_p99=${(c.p99 / u.p99).toFixed(2)} ratio_rps=${(c.rps / u.rps).toFixed(2)} connections=${connections} ` +
        `seconds=${rounds}x${seconds} db=sqlite`,
    );
  } finally {
    for (const m of modes) await m.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
