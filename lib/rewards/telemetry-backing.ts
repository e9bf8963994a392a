/**
 * Activity backed by signed telemetry (docs/rewards-spec.md §2 and §13, docs/telemetry.md "Activity derivation"):
 *
 *  - `rewards:compute`, given an activity file with its telemetry summary (`telemetry-week-<N>.json`, written by
 *    `rewards:activity` beside `activity-week-<N>.csv`), records the summary's commitment in the distribution
 *    header (`telemetryCommitment`): the commitment root over the counted batches, their count and the SHA-256 of
 *    the published batch file and of the activity file. The header is under the content hash posted on chain.
 *  - `rewards:verify` re-derives the week's activity from the published batches (`checkPublishedBatches`): the
 *    batch file's hash, count and commitment root; every batch's format, EIP-712 signature and signer binding
 *    (the node's rule, `checkBatchSigner`, over the registry events up to the week's snapshot block); the
 *    week and snapshot filtering `rewards:activity` applies; each stream's order; then the activity, row by row.
 *
 * Pure: the caller reads the files and the chain's events.
 */
import { z } from "zod";
import { InputError } from "../errors";
import { parseJsonFile } from "../json-file";
import {
  type BatchSummary,
  WeekActivityBuilder,
  batchLeafHex,
  keccak,
  merkleRootOfHexLeaves,
  metersToKm,
  summarizeBatch,
} from "../telemetry/activity";
import { type BindingsView, checkBatchSigner } from "../telemetry/bindings";
import { batchDigest, parseSignedBatch } from "../telemetry/format";
import { type ActivityRow, compareVehicleIds } from "./activity";
import { sha256Hex, type TelemetryCommitment } from "./distribution";
import type { Difference } from "./verify";

const bareSha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits (SHA-256)");
const fileEntry = z.object({ name: z.string().min(1), sha256: bareSha256 });

/** The fields of `telemetry-week-<N>.json` (node/activity.ts `writeWeekActivity`) the commitment is taken from. */
const summarySchema = z.object({
  week: z.number().int().min(0),
  weekStart: z.number().int().min(0),
  weekEnd: z.number().int().min(0),
  batches: z.number().int().min(0),
  commitmentRoot: z.string().regex(/^0x[0-9a-f]{64}$/, "expected 0x and 64 lowercase hex digits"),
  files: z.object({ activity: fileEntry, batches: fileEntry }),
});
export type TelemetrySummary = z.infer<typeof summarySchema>;

/** Parses a telemetry summary; errors name the file, line and field. */
export function parseTelemetrySummary(text: string, source: string): TelemetrySummary {
  return parseJsonFile(text, source, summarySchema);
}

/**
 * The header's commitment from a telemetry summary, after checking that the summary is the one of this week and of
 * this activity file: its week number and time range are week `week`'s of the issuance vault, and the SHA-256 it
 * records for the activity file is the activity file's (`activity.sha256`, 0x hex). Throws an InputError naming the
 * summary file and the field otherwise.
 */
export function telemetryCommitment(
  summary: TelemetrySummary,
  source: string,
  week: { week: number; weekStart: number; weekEnd: number },
  activity: { name: string; sha256: string },
): TelemetryCommitment {
  if (summary.week !== week.week)
    throw new InputError(source, "week", `is week ${summary.week}, not week ${week.week}`);
  for (const k of ["weekStart", "weekEnd"] as const)
    if (summary[k] !== week[k])
      throw new InputError(
        source,
        k,
        `is ${summary[k]} but week ${week.week} of the issuance vault ${k === "weekStart" ? "starts" : "ends"} at ${week[k]}: the activity was derived over another time range`,
      );
  const claimed = `0x${summary.files.activity.sha256}`;
  if (claimed !== activity.sha256)
    throw new InputError(
      source,
      "files.activity.sha256",
      `is ${claimed} but ${activity.name} hashes to ${activity.sha256}: the activity file is not the one derived from these batches`,
    );
  return {
    commitmentRoot: summary.commitmentRoot,
    batches: summary.batches,
    batchesFile: { name: summary.files.batches.name, sha256: `0x${summary.files.batches.sha256}` },
    activityFile: { name: summary.files.activity.name, sha256: claimed },
  };
}

/** Everything `checkPublishedBatches` compares. */
export interface PublishedBatches {
  week: number;
  /** Week `week` is [weekStart, weekEnd) of the issuance vault, unix seconds. */
  weekStart: number;
  weekEnd: number;
  /** The domain every batch must be signed for: the distribution's chain and the VehicleRegistry. */
  chainId: number;
  registry: string;
  /** The header's commitment. */
  telemetry: TelemetryCommitment;
  /** The published batch file (`telemetry-week-<N>.jsonl`): its name in messages, its bytes. */
  batches: { source: string; bytes: Uint8Array };
  /** The activity file the week was computed from: its name, SHA-256 (0x hex) and parsed rows. */
  activity: { source: string; sha256: string; rows: readonly ActivityRow[] };
  /** Vehicle ids of the week's registry snapshot (`rewards:activity --snapshot` leaves other vehicles' batches out). */
  snapshotVehicleIds: ReadonlySet<string>;
  /** Device keys, pairings and connections from the registry events up to the week's snapshot block. */
  bindings: BindingsView;
}

const BACKED = "backed by signed batches";

/**
 * Every difference between the published batches and the header's commitment, every batch the node's rules refuse
 * (by its line), and every activity row the batches do not back (by its line, vehicle and field). Empty when the
 * activity is exactly what the published, correctly signed batches give.
 */
export async function checkPublishedBatches(p: PublishedBatches): Promise<Difference[]> {
  const out: Difference[] = [];
  const t = p.telemetry;
  const batchesSha = sha256Hex(p.batches.bytes);
  if (batchesSha !== t.batchesFile.sha256)
    out.push({
      where: p.batches.source,
      field: "sha256",
      expected: `${t.batchesFile.sha256} (the header's telemetry.batchesFile)`,
      found: batchesSha,
      hint: "the published batches are not the ones the week committed to",
    });
  if (p.activity.sha256 !== t.activityFile.sha256)
    out.push({
      where: p.activity.source,
      field: "sha256",
      expected: `${t.activityFile.sha256} (the header's telemetry.activityFile)`,
      found: p.activity.sha256,
      hint: "the activity file is not the one derived from the committed batches",
    });

  const h = await keccak();
  const leaves: string[] = [];
  const firstLine = new Map<string, number>(); // digest -> line
  const counted: { line: number; summary: BatchSummary; sequence: number }[] = [];
  const text = Buffer.from(p.batches.bytes).toString("utf8");
  const lines = text === "" ? [] : text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop(); // the file ends with a line feed
  const refuse = (line: number, field: string, found: string, expected: string) =>
    out.push({ where: `${p.batches.source} line ${line}`, field, expected, found });
  lines.forEach((raw, i) => {
    const line = i + 1;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch (e) {
      refuse(line, "(json)", `not JSON (${(e as Error).message})`, "one signed batch as JSON per line");
      return;
    }
    const parsed = parseSignedBatch(json);
    if (!parsed.ok) {
      const f = parsed.problem;
      refuse(line, f.field || "(batch)", `${f.code}: ${f.message}`, "a signed batch in the published format");
      return;
    }
    const { batch: b, signature } = parsed.value;
    const digest = batchDigest(b, parsed.value.chainId, parsed.value.registry);
    leaves.push(batchLeafHex(h, digest, signature));
    const dup = firstLine.get(digest);
    if (dup !== undefined) {
      refuse(line, "(batch)", `duplicate_batch: the batch of line ${dup} again`, "each batch once");
      return;
    }
    firstLine.set(digest, line);
    if (parsed.value.chainId !== p.chainId) {
      refuse(line, "chainId", `wrong_chain: ${parsed.value.chainId}`, `${p.chainId} (the distribution's chain)`);
      return;
    }
    if (parsed.value.registry.toLowerCase() !== p.registry.toLowerCase()) {
      refuse(line, "registry", `wrong_registry: ${parsed.value.registry}`, `${p.registry} (the VehicleRegistry)`);
      return;
    }
    if (b.startTime < p.weekStart || b.startTime >= p.weekEnd) {
      refuse(
        line,
        "batch.startTime",
        String(b.startTime),
        `a start in week ${p.week}, [${p.weekStart}, ${p.weekEnd}) (a batch counts in the week it starts in)`,
      );
      return;
    }
    if (!p.snapshotVehicleIds.has(b.vehicleId)) {
      refuse(
        line,
        "batch.vehicleId",
        `vehicle ${b.vehicleId}, not in the registry snapshot`,
        "a vehicle of the week's registry snapshot (rewards:activity leaves other vehicles' batches out)",
      );
      return;
    }
    const check = checkBatchSigner(b, digest, signature, p.bindings);
    if (!check.ok) {
      refuse(
        line,
        check.field,
        `${check.code}: ${check.message}`,
        `a batch signed by the key bound to vehicle ${b.vehicleId} over its time range (as the node checks)`,
      );
      return;
    }
    counted.push({ line, summary: summarizeBatch(b, check.signer), sequence: b.sequence });
  });
  if (lines.length !== t.batches)
    out.push({
      where: p.batches.source,
      field: "batches",
      expected: `${t.batches} (the header's telemetry.batches)`,
      found: `${lines.length} lines`,
      hint: "the published batches are not the ones the week committed to",
    });
  const root = merkleRootOfHexLeaves(h, leaves);
  if (root !== t.commitmentRoot)
    out.push({
      where: p.batches.source,
      field: "commitmentRoot",
      expected: `${t.commitmentRoot} (the header's telemetry.commitmentRoot)`,
      found: `${root} (recomputed from the file's batches)`,
      hint: "the published batches are not the ones the week committed to",
    });

  // The node's stream rule: per (vehicle, signer), sequences strictly increase and a batch starts at or after the
  // end of the stream's previous one.
  const streams = new Map<string, typeof counted>();
  for (const c of counted) {
    const key = `${c.summary.vehicleId}/${c.summary.signer}`;
    const l = streams.get(key);
    if (l) l.push(c);
    else streams.set(key, [c]);
  }
  for (const l of streams.values()) {
    l.sort((a, b) => a.summary.startTime - b.summary.startTime || a.sequence - b.sequence);
    for (let i = 1; i < l.length; i++) {
      const [a, b] = [l[i - 1], l[i]];
      if (b.sequence <= a.sequence)
        refuse(
          b.line,
          "batch.sequence",
          `sequence_replayed: ${b.sequence}, not above line ${a.line}'s ${a.sequence}`,
          "a sequence above the stream's previous batch",
        );
      else if (b.summary.startTime < a.summary.endTime)
        refuse(
          b.line,
          "batch.startTime",
          `time_range_overlaps: ${b.summary.startTime}, before line ${a.line}'s batch ended (${a.summary.endTime})`,
          "a start at or after the end of the stream's previous batch",
        );
    }
  }

  // The activity, row by row, against what the counted batches give.
  const builder = new WeekActivityBuilder(p.weekStart, p.weekEnd);
  for (const c of counted) builder.add(c.summary);
  const derived = new Map(builder.result().map((a) => [a.vehicleId, a]));
  const rowOf = new Set<string>();
  for (const row of p.activity.rows) {
    rowOf.add(row.vehicleId);
    const a = derived.get(row.vehicleId);
    const where = `${p.activity.source} line ${row.line} vehicle ${row.vehicleId}`;
    if (row.active !== (a !== undefined))
      out.push({
        where,
        field: "active",
        expected: a ? `true (${a.batches} signed batches)` : "false (no signed batch backs it)",
        found: `${row.active} (claimed)`,
      });
    const meters = a?.meters ?? 0;
    if (row.kmMeters !== meters)
      out.push({
        where,
        field: "km_driven",
        expected: `${metersToKm(meters)} (${BACKED})`,
        found: `${metersToKm(row.kmMeters)} (claimed)`,
      });
    const types = [...(a?.dataTypes ?? [])].sort();
    const claimed = [...row.dataTypes].sort();
    if (types.join(";") !== claimed.join(";"))
      out.push({
        where,
        field: "data_types",
        expected: `"${(a?.dataTypes ?? []).join(";")}" (${BACKED})`,
        found: `"${row.dataTypes.join(";")}" (claimed)`,
      });
  }
  for (const id of [...derived.keys()].filter((v) => !rowOf.has(v)).sort(compareVehicleIds)) {
    const a = derived.get(id)!;
    out.push({
      where: `${p.activity.source} vehicle ${id}`,
      field: "(row)",
      expected: `active, ${metersToKm(a.meters)} km, "${a.dataTypes.join(";")}" (${a.batches} signed batches)`,
      found: "(absent)",
    });
  }
  return out;
}
