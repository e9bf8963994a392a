import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import hre from "hardhat";
import { HardhatPluginError } from "hardhat/plugins";
import { keccak256, Wallet } from "ethers";
import {
  appendEntry,
  formatLogLine,
  headOf,
  verifyEvidence,
  type AccessLogEntry,
  type Evidence,
} from "../../lib/consent/access-log";
import { runTask } from "../helpers/tasks";

const T0 = 1_800_000_000;
const owner = new Wallet(`0x${"a1".repeat(32)}`).address;
const c1 = new Wallet(`0x${"c3".repeat(32)}`).address;
const c2 = new Wallet(`0x${"d4".repeat(32)}`).address;

function log(): AccessLogEntry[] {
  const entries: AccessLogEntry[] = [];
  [c1, c2, c1, c1].forEach((consumer, i) =>
    entries.push(
      appendEntry(headOf(entries), {
        at: T0 + i,
        consumer,
        vehicleId: i === 3 ? "9" : "7",
        signals: ["location"],
        from: T0 - 60,
        to: T0 + i,
        resultSize: 5,
        grant: { owner, epoch: 0, permissions: "1", expiresAt: T0 + 86_400, grantedAt: T0 - 600 },
      }),
    ),
  );
  return entries;
}

describe("staking:evidence", function () {
  let dir: string;
  let logFile: string;
  let entries: AccessLogEntry[];
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-evidence-"));
    logFile = path.join(dir, "access.jsonl");
    entries = log();
    fs.writeFileSync(logFile, entries.map(formatLogLine).join(""));
  });

  async function fails(args: Record<string, unknown>, message: string) {
    try {
      await hre.run("staking:evidence", args);
    } catch (e) {
      expect(e).to.be.instanceOf(HardhatPluginError);
      expect((e as Error).message).to.equal(message);
      expect(fs.readdirSync(dir)).to.deep.equal(["access.jsonl"]);
      return;
    }
    expect.fail("the task did not fail");
  }

  it("writes the evidence of a consumer's reads of one vehicle and prints its keccak256", async function () {
    const { result, out } = await runTask("staking:evidence", {
      consumer: c1,
      vehicle: "7",
      log: logFile,
      headCount: "4",
      headHash: entries[3].hash,
    });
    const file = path.join(dir, `evidence-${c1.toLowerCase()}-7.json`);
    expect(result.out).to.equal(file);
    const text = fs.readFileSync(file, "utf8");
    expect(result.evidenceHash).to.equal(keccak256(Buffer.from(text)));
    const ev = JSON.parse(text) as Evidence;
    expect(ev.entries.map((e) => e.seq)).to.deep.equal([0, 2]);
    expect(ev.summary.readsByVehicle).to.deep.equal({ "7": 2 });
    expect(verifyEvidence(ev, headOf(entries))).to.deep.equal(headOf(entries));
    expect(out).to.include(`evidenceHash   ${result.evidenceHash}`);
    expect(out).to.include("reads          2");
  });

  it("refuses a truncated log against the published head, writing nothing", async function () {
    fs.writeFileSync(logFile, entries.slice(0, 3).map(formatLogLine).join(""));
    await fails(
      { consumer: c1, log: logFile, headCount: "4", headHash: entries[3].hash },
      `${logFile} log: LOG_TRUNCATED: the log has 3 entries, the published head counts 4`,
    );
  });

  it("refuses a tampered log, writing nothing", async function () {
    const lines = entries.map(formatLogLine);
    lines[1] = lines[1].replace('"resultSize":5', '"resultSize":1');
    fs.writeFileSync(logFile, lines.join(""));
    await fails(
      { consumer: c1, log: logFile },
      `${logFile} log: LOG_TAMPERED: entry 1's content does not match its hash ${entries[1].hash}`,
    );
  });

  it("refuses bad arguments in one line naming them", async function () {
    await fails(
      { consumer: "0x12", log: logFile },
      'staking:evidence --consumer: expected a 0x address (40 hex digits), got "0x12"',
    );
    await fails(
      { consumer: c1, log: logFile, vehicle: "0" },
      'staking:evidence --vehicle: expected a positive integer id, got "0"',
    );
    await fails(
      { consumer: c1, log: logFile, headCount: "4" },
      "staking:evidence --head-hash: give both --head-count and --head-hash",
    );
    await fails(
      { consumer: c1, log: path.join(dir, "none.jsonl") },
      `staking:evidence --log: cannot read ${path.join(dir, "none.jsonl")} (ENOENT)`,
    );
  });
});
