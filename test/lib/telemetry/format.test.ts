import { expect } from "chai";
import { TypedDataEncoder, Wallet, keccak256, toUtf8Bytes } from "ethers";
import {
  TELEMETRY_TYPES,
  batchDigest,
  batchStructHash,
  parseSignedBatch,
  recoverSigner,
  signBatch,
  telemetryDomain,
  type TelemetryBatch,
} from "../../../lib/telemetry/format";
import { MAX_SIGNALS_PER_BATCH } from "../../../lib/telemetry/settings";

// The vector of docs/telemetry.md.
const KEY = keccak256(toUtf8Bytes("DIMO telemetry test vector device key"));
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const VECTOR: TelemetryBatch = {
  vehicleId: "42",
  deviceId: "7",
  integration: "0x0000000000000000000000000000000000000000",
  sequence: 1,
  startTime: 1764565200,
  endTime: 1764565260,
  signals: [
    { name: "location", timestamp: 1764565200, values: [52520008, 13404954] },
    { name: "odometer", timestamp: 1764565200, values: [123456789] },
    { name: "speed", timestamp: 1764565230, values: [5025] },
    { name: "fuel_level", timestamp: 1764565230, values: [615] },
    { name: "dtc", timestamp: 1764565260, values: [0x0301, 0xc100] },
    { name: "tire_pressure", timestamp: 1764565260, values: [240, 240, 235, 238] },
  ],
};
const SIGNATURE =
  "0x941a05730fdb3e822efcb91c82acc3a086efac81f58f65b260240a6185f77ea20dff50636399e2964e129bcb2d41b3164869ae6f562169aac2db051dff12ef491b";

function withBatch(patch: (b: TelemetryBatch) => void): unknown {
  const b = structuredClone(VECTOR);
  patch(b);
  return { chainId: 31337, registry: REGISTRY, batch: b, signature: SIGNATURE };
}
function problemOf(input: unknown) {
  const r = parseSignedBatch(input);
  if (r.ok) throw new Error("expected a refusal");
  return r.problem;
}

describe("lib/telemetry/format", function () {
  describe("the documented vector", function () {
    it("has the documented type string, domain separator, struct hash and digest", function () {
      expect(TypedDataEncoder.from(TELEMETRY_TYPES).encodeType("TelemetryBatch")).to.equal(
        "TelemetryBatch(uint256 vehicleId,uint256 deviceId,address integration,uint64 sequence,uint64 startTime,uint64 endTime,Signal[] signals)Signal(string name,uint64 timestamp,int64[] values)",
      );
      expect(TypedDataEncoder.hashDomain(telemetryDomain(31337, REGISTRY))).to.equal(
        "0x9d4e0bd749318e9a4cd426491b11b1ba05352c4d01a7f4671ecfc5783f2c3013",
      );
      expect(batchStructHash(VECTOR)).to.equal("0x3e77ff348833f76f5d4d7bb47a7f64d1bc95bdba34dc6afb54add4cf0c331ef0");
      expect(batchDigest(VECTOR, 31337, REGISTRY)).to.equal(
        "0x258a35389f90053a9ea88eb1afdd63b363cbba70d558b5679d7f3cd18e6f7362",
      );
    });

    it("is signed by the vector key with the documented signature, which recovers to its address", async function () {
      const wallet = new Wallet(KEY);
      expect(wallet.address).to.equal("0xd0fdeF66d4f8D8ff826f713b150D7df24cA813Bc");
      const signed = await signBatch(wallet, VECTOR, 31337, REGISTRY);
      expect(signed.signature).to.equal(SIGNATURE);
      expect(recoverSigner(batchDigest(VECTOR, 31337, REGISTRY), SIGNATURE)).to.equal(wallet.address);
    });

    it("binds the chain and the registry: another domain gives another digest", function () {
      const d = batchDigest(VECTOR, 31337, REGISTRY);
      expect(batchDigest(VECTOR, 1, REGISTRY)).to.not.equal(d);
      expect(batchDigest(VECTOR, 31337, "0x" + "11".repeat(20))).to.not.equal(d);
    });
  });

  describe("recoverSigner", function () {
    it("refuses a high-s (malleated) form of a valid signature", function () {
      const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
      const r = SIGNATURE.slice(2, 66);
      const s = BigInt("0x" + SIGNATURE.slice(66, 130));
      const v = SIGNATURE.slice(130) === "1b" ? "1c" : "1b";
      const high = "0x" + r + (n - s).toString(16).padStart(64, "0") + v;
      expect(recoverSigner(batchDigest(VECTOR, 31337, REGISTRY), high)).to.equal(null);
    });

    it("refuses bytes that are no signature", function () {
      expect(recoverSigner(batchDigest(VECTOR, 31337, REGISTRY), "0x" + "00".repeat(65))).to.equal(null);
    });
  });

  describe("parseSignedBatch", function () {
    it("accepts the vector", function () {
      expect(parseSignedBatch(withBatch(() => {})).ok).to.equal(true);
    });

    const cases: [string, (b: TelemetryBatch) => void, string, string][] = [
      [
        "latitude 90.000001°",
        (b) => (b.signals[0].values[0] = 90_000_001),
        "value_out_of_range",
        "batch.signals.0.values.0",
      ],
      [
        "longitude −180.000001°",
        (b) => (b.signals[0].values[1] = -180_000_001),
        "value_out_of_range",
        "batch.signals.0.values.1",
      ],
      ["a negative odometer", (b) => (b.signals[1].values[0] = -1), "value_out_of_range", "batch.signals.1.values.0"],
      ["a location with one value", (b) => (b.signals[0].values = [1]), "value_out_of_range", "batch.signals.0.values"],
      ["fuel 1,001 ‰", (b) => (b.signals[3].values[0] = 1001), "value_out_of_range", "batch.signals.3.values.0"],
      ["an unknown signal name", (b) => (b.signals[2].name = "rpm"), "unknown_signal", "batch.signals.2.name"],
      [
        "a signal after endTime",
        (b) => (b.signals[5].timestamp = b.endTime + 1),
        "time_range_invalid",
        "batch.signals.5.timestamp",
      ],
      ["endTime before startTime", (b) => (b.endTime = b.startTime - 1), "time_range_invalid", "batch.endTime"],
      ["a span of 3,601 s", (b) => (b.endTime = b.startTime + 3601), "time_range_invalid", "batch.endTime"],
      [
        "both a device and an integration",
        (b) => (b.integration = "0x" + "22".repeat(20)),
        "malformed_batch",
        "batch.deviceId",
      ],
      ["neither a device nor an integration", (b) => (b.deviceId = "0"), "malformed_batch", "batch.deviceId"],
      ["a vehicle id with a leading zero", (b) => (b.vehicleId = "042"), "malformed_batch", "batch.vehicleId"],
      ["a fractional value", (b) => (b.signals[2].values[0] = 1.5), "malformed_batch", "batch.signals.2.values.0"],
      ["no signals", (b) => (b.signals = []), "malformed_batch", "batch.signals"],
      [
        "an integration address with a bad checksum",
        (b) => ((b.deviceId = "0"), (b.integration = "0x5FbDB2315678afecb367f032d93F642f64180aA3")),
        "malformed_batch",
        "batch.integration",
      ],
    ];
    for (const [what, patch, code, field] of cases)
      it(`refuses ${what} (${code} at ${field})`, function () {
        expect(problemOf(withBatch(patch))).to.include({ code, field });
      });

    it("accepts exactly the range limits (latitude ±90°, odometer 0, span 3,600 s)", function () {
      const input = withBatch((b) => {
        b.signals[0].values = [90_000_000, -180_000_000];
        b.signals[1].values = [0];
        b.endTime = b.startTime + 3600;
      });
      expect(parseSignedBatch(input).ok).to.equal(true);
    });

    it(`accepts ${MAX_SIGNALS_PER_BATCH} signals and refuses one more (batch_too_large)`, function () {
      const fill = (n: number) =>
        withBatch((b) => {
          b.signals = Array.from({ length: n }, () => ({ name: "speed", timestamp: b.startTime, values: [0] }));
        });
      expect(parseSignedBatch(fill(MAX_SIGNALS_PER_BATCH)).ok).to.equal(true);
      expect(problemOf(fill(MAX_SIGNALS_PER_BATCH + 1))).to.include({
        code: "batch_too_large",
        field: "batch.signals",
      });
    });

    it("refuses an unknown top-level field and a short signature (malformed_batch)", function () {
      expect(problemOf({ ...(withBatch(() => {}) as object), extra: 1 }).code).to.equal("malformed_batch");
      expect(problemOf({ ...(withBatch(() => {}) as object), signature: "0x1234" })).to.include({
        code: "malformed_batch",
        field: "signature",
      });
    });
  });
});
