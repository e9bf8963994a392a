/**
 * lib/rewards/telemetry-backing.ts and lib/telemetry/bindings.ts on their own (no chain): the week's boundaries, the
 * pairing and connection intervals' boundaries, the node's stream rule, malformed and duplicate lines, and the
 * summary checks `rewards:compute` applies.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { Wallet, ZeroAddress, id } from "ethers";
import { InputError } from "../../../lib/errors";
import { parseActivityCsv } from "../../../lib/rewards/activity";
import type { TelemetryCommitment } from "../../../lib/rewards/distribution";
import {
  checkPublishedBatches,
  parseTelemetrySummary,
  telemetryCommitment,
  type PublishedBatches,
} from "../../../lib/rewards/telemetry-backing";
import { formatDifference } from "../../../lib/rewards/verify";
import { batchCommitmentRoot } from "../../../lib/telemetry/activity";
import { type BindingEvent, RegistryBindings, checkBatchSigner } from "../../../lib/telemetry/bindings";
import { batchDigest, signBatch, type SignedBatch, type TelemetryBatch } from "../../../lib/telemetry/format";

const CHAIN = 31337;
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const W0 = 1_764_565_200; // week 0 starts
const W1 = W0 + 7 * 86_400; // week 0 ends
const PAIRED_AT = W0 - 3600;
const device1 = new Wallet(id("telemetry-backing device 1"));
const device2 = new Wallet(id("telemetry-backing device 2"));
const integration = new Wallet(id("telemetry-backing integration"));
const sha = (b: Uint8Array | string) => `0x${createHash("sha256").update(b).digest("hex")}`;

/** Device 1 paired with vehicle 1, device 2 with vehicle 2, the integration connected to vehicle 3. */
function events(extra: Omit<BindingEvent, "logIndex" | "blockNumber">[] = []): BindingEvent[] {
  const base: Omit<BindingEvent, "logIndex" | "blockNumber">[] = [
    {
      blockTime: PAIRED_AT,
      kind: "DeviceMinted",
      vehicleId: "0",
      deviceId: "1",
      address: device1.address.toLowerCase(),
    },
    {
      blockTime: PAIRED_AT,
      kind: "DeviceMinted",
      vehicleId: "0",
      deviceId: "2",
      address: device2.address.toLowerCase(),
    },
    { blockTime: PAIRED_AT, kind: "DevicePaired", vehicleId: "1", deviceId: "1", address: "" },
    { blockTime: PAIRED_AT, kind: "DevicePaired", vehicleId: "2", deviceId: "2", address: "" },
    {
      blockTime: PAIRED_AT,
      kind: "ConnectionAttested",
      vehicleId: "3",
      deviceId: "0",
      address: integration.address.toLowerCase(),
    },
  ];
  return [...base, ...extra].map((e, i) => ({ ...e, blockNumber: 1 + i, logIndex: 0 }));
}

function batch(over: Partial<TelemetryBatch> & { start: number; odo?: number }): TelemetryBatch {
  const { start, odo = 1_000_000, ...rest } = over;
  return {
    vehicleId: "1",
    deviceId: "1",
    integration: ZeroAddress,
    sequence: 1,
    startTime: start,
    endTime: start + 600,
    signals: [
      { name: "odometer", timestamp: start, values: [odo] },
      { name: "odometer", timestamp: start + 600, values: [odo + 8000] },
    ],
    ...rest,
  };
}

const signer = (b: TelemetryBatch) =>
  b.integration !== ZeroAddress ? integration : b.deviceId === "2" ? device2 : device1;
const sign = (b: TelemetryBatch, key = signer(b)) => signBatch(key, b, CHAIN, REGISTRY);

/** The inputs of a week whose file holds `lines` (committed to as they are) and whose activity is `csvRows`. */
async function week(
  lines: (SignedBatch | string)[],
  csvRows: string[],
  opts: { events?: BindingEvent[]; commit?: SignedBatch[] } = {},
): Promise<PublishedBatches> {
  const text =
    lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n") + (lines.length ? "\n" : "");
  const committed = opts.commit ?? lines.filter((l): l is SignedBatch => typeof l !== "string");
  const csv = ["vehicle_id,active,km_driven,data_types,referral_code", ...csvRows].join("\n") + "\n";
  const snapshot = new Set(["1", "2", "3", "4"]);
  const telemetry: TelemetryCommitment = {
    commitmentRoot: await batchCommitmentRoot(
      committed.map((s) => ({ digest: batchDigest(s.batch, s.chainId, s.registry), signature: s.signature })),
    ),
    batches: lines.length,
    batchesFile: { name: "telemetry-week-0.jsonl", sha256: sha(text) },
    activityFile: { name: "activity-week-0.csv", sha256: sha(csv) },
  };
  return {
    week: 0,
    weekStart: W0,
    weekEnd: W1,
    chainId: CHAIN,
    registry: REGISTRY,
    telemetry,
    batches: { source: "telemetry-week-0.jsonl", bytes: Buffer.from(text) },
    activity: {
      source: "activity-week-0.csv",
      sha256: sha(csv),
      rows: parseActivityCsv(csv, "activity-week-0.csv", snapshot),
    },
    snapshotVehicleIds: snapshot,
    bindings: RegistryBindings.of(opts.events ?? events()),
  };
}

const problems = async (p: PublishedBatches) => (await checkPublishedBatches(p)).map(formatDifference);

describe("lib/rewards/telemetry-backing", function () {
  describe("checkPublishedBatches", function () {
    it("accepts a week with no batch and no active vehicle (the root of nothing is 32 zero bytes)", async function () {
      const p = await week([], ["1,false,0,,"]);
      expect(p.telemetry.commitmentRoot).to.equal("0x" + "00".repeat(32));
      expect(await problems(p)).to.deep.equal([]);
    });

    it("counts a batch starting exactly at the week's start", async function () {
      const p = await week([await sign(batch({ start: W0 }))], ["1,true,8,odometer,"]);
      expect(await problems(p)).to.deep.equal([]);
    });

    it("refuses a batch starting exactly at the week's end, even committed to; one a second earlier counts", async function () {
      const atEnd = await sign(batch({ start: W1 }));
      expect(await problems(await week([atEnd], ["1,false,0,,"]))).to.deep.equal([
        `telemetry-week-0.jsonl line 1 batch.startTime: expected a start in week 0, [${W0}, ${W1}) (a batch counts in the week it starts in), found ${W1}`,
      ]);
      const before = await sign(batch({ start: W1 - 1 }));
      expect(await problems(await week([before], ["1,true,8,odometer,"]))).to.deep.equal([]);
    });

    it("names the row, vehicle and field of every claim the batches do not back", async function () {
      const p = await week(
        [await sign(batch({ start: W0 + 100 }))],
        ["1,true,9.5,odometer;location,", "2,true,0,,", "4,false,3,,"],
      );
      expect(await problems(p)).to.deep.equal([
        "activity-week-0.csv line 2 vehicle 1 km_driven: expected 8 (backed by signed batches), found 9.5 (claimed)",
        'activity-week-0.csv line 2 vehicle 1 data_types: expected "odometer" (backed by signed batches), found "odometer;location" (claimed)',
        "activity-week-0.csv line 3 vehicle 2 active: expected false (no signed batch backs it), found true (claimed)",
        "activity-week-0.csv line 4 vehicle 4 km_driven: expected 0 (backed by signed batches), found 3 (claimed)",
      ]);
    });

    it("refuses a row missing for a vehicle the batches show active, and a row marked inactive", async function () {
      const b1 = await sign(batch({ start: W0 + 100 }));
      const b2 = await sign(batch({ vehicleId: "2", deviceId: "2", start: W0 + 100 }));
      expect(await problems(await week([b1, b2], ["1,false,8,odometer,"]))).to.deep.equal([
        "activity-week-0.csv line 2 vehicle 1 active: expected true (1 signed batches), found false (claimed)",
        'activity-week-0.csv vehicle 2 (row): expected active, 8 km, "odometer" (1 signed batches), found (absent)',
      ]);
    });

    it("pairing boundaries: a batch from the pairing's second counts; one ending at the unpairing's does not", async function () {
      const unpairedAt = W0 + 5000;
      const ev = events([
        { blockTime: unpairedAt, kind: "DeviceUnpaired", vehicleId: "1", deviceId: "1", address: "" },
      ]);
      const fromPairing = events().map((e) => (e.kind === "DevicePaired" ? { ...e, blockTime: W0 } : e));
      const first = await sign(batch({ start: W0 }));
      expect(await problems(await week([first], ["1,true,8,odometer,"], { events: fromPairing }))).to.deep.equal([]);
      const endsBefore = await sign(batch({ start: unpairedAt - 601 }));
      expect(await problems(await week([endsBefore], ["1,true,8,odometer,"], { events: ev }))).to.deep.equal([]);
      const endsAt = await sign(batch({ start: unpairedAt - 600 }));
      expect(await problems(await week([endsAt], ["1,false,0,,"], { events: ev }))).to.deep.equal([
        `telemetry-week-0.jsonl line 1 batch.deviceId: expected a batch signed by the key bound to vehicle 1 over its time range (as the node checks), found device_not_paired: device 1 was not paired with vehicle 1 over the whole of [${unpairedAt - 600}, ${unpairedAt}]`,
      ]);
    });

    it("integration batches: counted while connected, refused once the integration's role was revoked", async function () {
      const b = await sign(batch({ vehicleId: "3", deviceId: "0", integration: integration.address, start: W0 + 100 }));
      expect(await problems(await week([b], ["3,true,8,odometer,"]))).to.deep.equal([]);
      const revoked = events([
        {
          blockTime: W0 + 50,
          kind: "IntegrationRoleRevoked",
          vehicleId: "0",
          deviceId: "0",
          address: integration.address.toLowerCase(),
        },
      ]);
      const found = await problems(await week([b], ["3,false,0,,"], { events: revoked }));
      expect(found).to.have.length(1);
      expect(found[0]).to.match(
        /^telemetry-week-0\.jsonl line 1 batch\.integration: .* found connection_not_attested: integration 0x[0-9a-fA-F]{40} had no attested connection with vehicle 3/,
      );
    });

    it("refuses a batch signed by another key than the device's, and one for a vehicle outside the snapshot", async function () {
      const forged = await sign(batch({ start: W0 + 100 }), device2);
      const outside = await sign(batch({ vehicleId: "9", start: W0 + 100 }));
      expect(await problems(await week([forged, outside], ["1,false,0,,"]))).to.deep.equal([
        "telemetry-week-0.jsonl line 1 signature: expected a batch signed by the key bound to vehicle 1 over its time range (as the node checks), found bad_signature: the batch is not signed by device 1's key",
        "telemetry-week-0.jsonl line 2 batch.vehicleId: expected a vehicle of the week's registry snapshot (rewards:activity leaves other vehicles' batches out), found vehicle 9, not in the registry snapshot",
      ]);
    });

    it("applies the node's stream rule: sequences increase, a batch starts at or after the previous one's end", async function () {
      const a = await sign(batch({ start: W0 + 100, sequence: 5 }));
      const touching = await sign(batch({ start: W0 + 700, sequence: 6, odo: 1_008_000 }));
      expect(await problems(await week([a, touching], ["1,true,16,odometer,"]))).to.deep.equal([]);
      const overlapping = await sign(batch({ start: W0 + 699, sequence: 6, odo: 1_008_000 }));
      const replayed = await sign(batch({ start: W0 + 800, sequence: 5, odo: 1_008_000 }));
      expect(await problems(await week([a, overlapping], ["1,true,16,odometer,"]))).to.deep.equal([
        `telemetry-week-0.jsonl line 2 batch.startTime: expected a start at or after the end of the stream's previous batch, found time_range_overlaps: ${W0 + 699}, before line 1's batch ended (${W0 + 700})`,
      ]);
      expect(await problems(await week([a, replayed], ["1,true,16,odometer,"]))).to.deep.equal([
        "telemetry-week-0.jsonl line 2 batch.sequence: expected a sequence above the stream's previous batch, found sequence_replayed: 5, not above line 1's 5",
      ]);
    });

    it("refuses a line that is not a signed batch, a duplicate, and a batch of another chain", async function () {
      const a = await sign(batch({ start: W0 + 100 }));
      const other = await signBatch(device1, batch({ start: W0 + 2000, sequence: 2 }), 1, REGISTRY);
      const found = await problems(
        await week([a, "{not json", a, other, JSON.stringify({ ...a, extra: 1 })], ["1,true,8,odometer,"]),
      );
      expect(found[0]).to.match(
        /^telemetry-week-0\.jsonl line 2 \(json\): expected one signed batch as JSON per line, found not JSON/,
      );
      expect(found.slice(1)).to.deep.equal([
        "telemetry-week-0.jsonl line 3 (batch): expected each batch once, found duplicate_batch: the batch of line 1 again",
        "telemetry-week-0.jsonl line 4 chainId: expected 31337 (the distribution's chain), found wrong_chain: 1",
        "telemetry-week-0.jsonl line 5 (batch): expected a signed batch in the published format, found malformed_batch: Unrecognized key(s) in object: 'extra'",
      ]);
    });

    it("refuses a file that is not the committed one: its hash, its count, its root", async function () {
      const a = await sign(batch({ start: W0 + 100 }));
      const b = await sign(batch({ start: W0 + 2000, sequence: 2, odo: 1_008_000 }));
      const p = await week([a], ["1,true,8,odometer,"], { commit: [a, b] });
      p.telemetry.batches = 2;
      const found = await problems(p);
      expect(found).to.have.length(2);
      expect(found[0]).to.equal(
        "telemetry-week-0.jsonl batches: expected 2 (the header's telemetry.batches), found 1 lines (the published batches are not the ones the week committed to)",
      );
      expect(found[1]).to.match(
        /^telemetry-week-0\.jsonl commitmentRoot: expected 0x[0-9a-f]{64} \(the header's telemetry\.commitmentRoot\), found 0x[0-9a-f]{64} \(recomputed from the file's batches\)/,
      );
      p.telemetry.batchesFile.sha256 = sha("other");
      expect((await problems(p))[0]).to.match(
        /^telemetry-week-0\.jsonl sha256: expected 0x[0-9a-f]{64} \(the header's telemetry\.batchesFile\), found 0x[0-9a-f]{64}/,
      );
    });
  });

  describe("checkBatchSigner", function () {
    it("refuses a device the registry does not know before looking at the signature", async function () {
      const b = batch({ deviceId: "7", start: W0 });
      const s = await sign(b);
      expect(
        checkBatchSigner(b, batchDigest(b, CHAIN, REGISTRY), s.signature, RegistryBindings.of(events())),
      ).to.deep.equal({
        ok: false,
        code: "unknown_device",
        message: "device 7 is not in the registry",
        field: "batch.deviceId",
      });
    });
  });

  describe("telemetryCommitment", function () {
    const summaryText = (over: Record<string, unknown> = {}) =>
      JSON.stringify(
        {
          week: 0,
          weekStart: W0,
          weekEnd: W1,
          batches: 1,
          commitmentRoot: "0x" + "ab".repeat(32),
          rules: "docs/telemetry.md#activity-derivation",
          files: {
            activity: { name: "activity-week-0.csv", sha256: "cd".repeat(32) },
            batches: { name: "telemetry-week-0.jsonl", sha256: "ef".repeat(32) },
          },
          vehicles: [],
          ...over,
        },
        null,
        1,
      );
    const range = { week: 0, weekStart: W0, weekEnd: W1 };
    const activity = { name: "activity-week-0.csv", sha256: "0x" + "cd".repeat(32) };

    it("takes the root, count and 0x-prefixed hashes of a summary of this week and activity", function () {
      expect(
        telemetryCommitment(parseTelemetrySummary(summaryText(), "s.json"), "s.json", range, activity),
      ).to.deep.equal({
        commitmentRoot: "0x" + "ab".repeat(32),
        batches: 1,
        batchesFile: { name: "telemetry-week-0.jsonl", sha256: "0x" + "ef".repeat(32) },
        activityFile: { name: "activity-week-0.csv", sha256: "0x" + "cd".repeat(32) },
      });
    });

    it("refuses a summary of another week, another range, another activity file, or malformed", function () {
      const refuse = (text: string, act = activity) => {
        try {
          telemetryCommitment(parseTelemetrySummary(text, "s.json"), "s.json", range, act);
        } catch (e) {
          expect(e).to.be.instanceOf(InputError);
          return (e as Error).message;
        }
        throw new Error("expected a refusal");
      };
      expect(refuse(summaryText({ week: 1 }))).to.equal("s.json week: is week 1, not week 0");
      expect(refuse(summaryText({ weekEnd: W1 + 1 }))).to.equal(
        `s.json weekEnd: is ${W1 + 1} but week 0 of the issuance vault ends at ${W1}: the activity was derived over another time range`,
      );
      expect(refuse(summaryText(), { ...activity, sha256: "0x" + "00".repeat(32) })).to.equal(
        `s.json files.activity.sha256: is 0x${"cd".repeat(32)} but activity-week-0.csv hashes to 0x${"00".repeat(32)}: the activity file is not the one derived from these batches`,
      );
      expect(refuse(summaryText({ commitmentRoot: "0x12" }))).to.match(
        /^s\.json:\d+ commitmentRoot: expected 0x and 64 lowercase hex digits/,
      );
    });
  });
});
