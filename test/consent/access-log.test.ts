import { expect } from "chai";
import { AbiCoder, keccak256, toUtf8Bytes, Wallet, ZeroHash } from "ethers";
import {
  appendEntry,
  contentHash,
  EMPTY_HEAD,
  ENTRY_TAG,
  evidenceFile,
  exportEvidence,
  formatLogLine,
  headOf,
  parseAccessLog,
  verifyEvidence,
  verifyLog,
  type AccessLogEntry,
  type AccessRead,
} from "../../lib/consent/access-log";
import { ConsentError, type ConsentCode } from "../../lib/consent/errors";

const T0 = 1_800_000_000;
const owner = new Wallet(`0x${"a1".repeat(32)}`).address;
const c1 = new Wallet(`0x${"c3".repeat(32)}`).address;
const c2 = new Wallet(`0x${"d4".repeat(32)}`).address;

function read(i: number, consumer: string, vehicleId: string): AccessRead {
  return {
    at: T0 + i * 60,
    consumer,
    vehicleId,
    signals: i % 2 ? ["location"] : ["odometer", "speed"],
    from: T0 - 3_600,
    to: T0 + i * 60,
    resultSize: 10 + i,
    grant: { owner, epoch: 0, permissions: "35", expiresAt: T0 + 86_400, grantedAt: T0 - 7_200 },
  };
}

/** Six reads: consumer 1 reads vehicles 7, 7, 9; consumer 2 reads 7, 8, 8 (interleaved). */
function sampleLog(): AccessLogEntry[] {
  const plan: [string, string][] = [
    [c1, "7"],
    [c2, "7"],
    [c1, "7"],
    [c2, "8"],
    [c1, "9"],
    [c2, "8"],
  ];
  const entries: AccessLogEntry[] = [];
  plan.forEach(([c, v], i) => entries.push(appendEntry(headOf(entries), read(i, c, v))));
  return entries;
}

function expectRefusal(fn: () => unknown, code: ConsentCode): ConsentError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ConsentError);
    expect((e as ConsentError).code, (e as Error).message).to.equal(code);
    return e as ConsentError;
  }
  expect.fail(`expected ${code}, nothing was thrown`);
}

describe("lib/consent/access-log", function () {
  describe("the chain", function () {
    it("hashes an entry as the documented bytes", function () {
      const e = appendEntry(EMPTY_HEAD, read(0, c1, "7"));
      const abi = AbiCoder.defaultAbiCoder();
      const content = keccak256(
        abi.encode(
          [
            "bytes32",
            "uint64",
            "uint64",
            "address",
            "uint256",
            "bytes32",
            "uint64",
            "uint64",
            "uint64",
            "address",
            "uint64",
            "uint256",
            "uint64",
            "uint64",
          ],
          [
            keccak256(toUtf8Bytes("DIMO access log entry v1")),
            0,
            T0,
            c1,
            7n,
            keccak256(toUtf8Bytes("odometer,speed")),
            T0 - 3_600,
            T0,
            10,
            owner,
            0,
            35n,
            T0 + 86_400,
            T0 - 7_200,
          ],
        ),
      );
      expect(ENTRY_TAG).to.equal(keccak256(toUtf8Bytes("DIMO access log entry v1")));
      expect(contentHash(e)).to.equal(content);
      expect(e.prevHash).to.equal(ZeroHash);
      expect(e.hash).to.equal(keccak256(abi.encode(["bytes32", "bytes32"], [ZeroHash, content])));
      expect(e.seq).to.equal(0);
    });

    it("links each entry to the previous one and verifies a whole log to its head", function () {
      const log = sampleLog();
      log.slice(1).forEach((e, i) => expect(e.prevHash).to.equal(log[i].hash));
      expect(verifyLog(log)).to.deep.equal({ count: 6, hash: log[5].hash });
      expect(verifyLog(log, { count: 4, hash: log[3].hash })).to.deep.equal({ count: 6, hash: log[5].hash });
      expect(verifyLog([], EMPTY_HEAD)).to.deep.equal(EMPTY_HEAD);
    });

    it("detects an edited entry (fewer rows claimed) by its hash", function () {
      const log = sampleLog();
      log[2] = { ...log[2], resultSize: 1 };
      const e = expectRefusal(() => verifyLog(log), "LOG_TAMPERED");
      expect(e.details.index).to.equal(2);
      expect(e.field).to.equal("hash");
    });

    it("detects an edited entry re-hashed to hide it, at the next link or against the published head", function () {
      const log = sampleLog();
      const published = headOf(log);
      const forged = appendEntry(headOf(log.slice(0, 2)), { ...read(2, c1, "7"), signals: ["odometer"] });
      const relinked = [...log.slice(0, 2), forged, ...log.slice(3)];
      expect(expectRefusal(() => verifyLog(relinked), "LOG_TAMPERED").details.index).to.equal(3);
      // Re-hashing everything after it: the chain is consistent but the published head no longer matches.
      const rebuilt: AccessLogEntry[] = [...log.slice(0, 2), forged];
      for (const e of log.slice(3)) rebuilt.push(appendEntry(headOf(rebuilt), e));
      expect(verifyLog(rebuilt).hash).not.to.equal(published.hash);
      const e = expectRefusal(() => verifyLog(rebuilt, published), "LOG_TAMPERED");
      expect(e.details).to.deep.equal({ index: 5, hash: rebuilt[5].hash, published: published.hash });
    });

    it("detects a deleted or reordered entry", function () {
      const log = sampleLog();
      expect(expectRefusal(() => verifyLog([...log.slice(0, 3), ...log.slice(4)]), "LOG_TAMPERED").field).to.equal(
        "seq",
      );
      expectRefusal(() => verifyLog([log[0], log[2], log[1], ...log.slice(3)]), "LOG_TAMPERED");
    });

    it("detects a truncated log against the published head (the last entry dropped)", function () {
      const log = sampleLog();
      const e = expectRefusal(() => verifyLog(log.slice(0, 5), headOf(log)), "LOG_TRUNCATED");
      expect(e.details).to.deep.equal({ count: 5, published: 6 });
      expect(verifyLog(log.slice(0, 5))).to.deep.equal({ count: 5, hash: log[4].hash });
    });
  });

  describe("the file", function () {
    it("round-trips through JSON Lines", function () {
      const log = sampleLog();
      expect(parseAccessLog(log.map(formatLogLine).join(""), "access.jsonl")).to.deep.equal(log);
    });

    it("names the file, line and field of a bad entry", function () {
      const lines = sampleLog().map(formatLogLine);
      const bad = JSON.stringify({ ...JSON.parse(lines[1]), consumer: "0x123" });
      expect(() => parseAccessLog([lines[0], `${bad}\n`].join(""), "access.jsonl")).to.throw(
        "access.jsonl:2 consumer: not an address",
      );
      expect(() => parseAccessLog(`${lines[0]}{oops\n`, "access.jsonl")).to.throw(/^access\.jsonl:2 entry: not JSON/);
      const extra = JSON.stringify({ ...JSON.parse(lines[0]), note: "x" });
      expect(() => parseAccessLog(extra, "a.jsonl")).to.throw("a.jsonl:1 entry: Unrecognized key(s) in object: 'note'");
    });
  });

  describe("evidence", function () {
    it("exports one consumer's reads with the chain's content hashes and per-vehicle counts, and verifies", function () {
      const log = sampleLog();
      const ev = exportEvidence(log, { consumer: c1 });
      expect(ev.entries.map((e) => e.seq)).to.deep.equal([0, 2, 4]);
      expect(ev.head).to.deep.equal(headOf(log));
      expect(ev.contentHashes).to.deep.equal(log.map(contentHash));
      expect(ev.summary).to.deep.equal({
        reads: 3,
        rows: 10 + 12 + 14,
        firstAt: T0,
        lastAt: T0 + 240,
        readsByVehicle: { "7": 2, "9": 1 },
        readsBySignal: { odometer: 3, speed: 3 },
      });
      expect(verifyEvidence(ev, headOf(log))).to.deep.equal(headOf(log));
      expect(exportEvidence(log, { consumer: c2, vehicleId: "8" }).entries.map((e) => e.seq)).to.deep.equal([3, 5]);
    });

    it("stops at the published head when one is given", function () {
      const log = sampleLog();
      const ev = exportEvidence(log, { consumer: c1, published: headOf(log.slice(0, 3)) });
      expect(ev.entries.map((e) => e.seq)).to.deep.equal([0, 2]);
      expect(ev.contentHashes).to.have.length(3);
    });

    it("refuses to export a tampered log", function () {
      const log = sampleLog();
      log[1] = { ...log[1], vehicleId: "9" };
      expectRefusal(() => exportEvidence(log, { consumer: c1 }), "LOG_TAMPERED");
    });

    it("detects evidence whose entry, content hashes or head were altered, or another consumer's entry slipped in", function () {
      const log = sampleLog();
      const fresh = () => exportEvidence(log, { consumer: c1 });
      const a = fresh();
      a.entries[1] = { ...a.entries[1], resultSize: 1 };
      expectRefusal(() => verifyEvidence(a), "LOG_TAMPERED");
      const b = fresh();
      b.contentHashes[3] = ZeroHash;
      expectRefusal(() => verifyEvidence(b), "LOG_TAMPERED");
      const c = fresh();
      c.contentHashes.pop();
      expectRefusal(() => verifyEvidence(c), "LOG_TAMPERED");
      c.head = { count: 5, hash: log[4].hash };
      expectRefusal(() => verifyEvidence(c, headOf(log)), "LOG_TRUNCATED");
      const d = fresh();
      d.entries.push(log[5]);
      expectRefusal(() => verifyEvidence(d), "LOG_TAMPERED");
    });

    it("writes stable bytes whose keccak256 is the evidence hash", function () {
      const f1 = evidenceFile(exportEvidence(sampleLog(), { consumer: c1 }));
      const f2 = evidenceFile(exportEvidence(sampleLog(), { consumer: c1 }));
      expect(f1.text).to.equal(f2.text);
      expect(f1.hash).to.equal(keccak256(toUtf8Bytes(f1.text)));
      expect(JSON.parse(f1.text).kind).to.equal("dimo-access-log-evidence");
    });
  });
});
