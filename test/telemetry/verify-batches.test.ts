/**
 * Activity rows the oracle cannot back with signed batches are refused (issue 13 item 4), end to end on the
 * in-process Hardhat network: devices and an integration stream signed batches through the node,
 * `rewards:activity` derives week 0, `rewards:compute` records the telemetry commitment in the distribution's
 * header (under the content hash posted on chain), and `rewards:verify` re-derives the activity from the published
 * batches and the chain's registry events. Each forgery — an edited activity file (recomputed consistently by the
 * oracle), a changed signature, a batch of a device paired elsewhere or not at all, a truncated batch file, a header
 * edited to match — is refused with a message naming the file, line, vehicle and field.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import { time } from "@nomicfoundation/hardhat-network-helpers";
import hre, { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { batchCommitmentRoot } from "../../lib/telemetry/activity";
import { batchDigest, signBatch, type SignedBatch, type TelemetryBatch } from "../../lib/telemetry/format";
import { NODE_DEFAULTS } from "../../lib/telemetry/settings";
import { RegistryIndex } from "../../node/registry-index";
import { buildNode } from "../../node/server";
import { openStore } from "../../node/store";
import { deploySuite } from "../../scripts/deploy-suite";
import { DISPUTER_KEY_ENV, GUARDIAN_KEY_ENV } from "../../tasks/rewards";
import { DEPLOYMENTS_DIR_ENV } from "../../scripts/registry-context";
import { drivingBatch } from "../node/telemetry-fixture";
import { rejects } from "../helpers/rejects";
import { runQuietly as run } from "../helpers/tasks";
import { freshSqliteFile } from "../helpers/telemetry-db";

const WEEK = 604_800;
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("rewards:verify: activity backed by the published signed batches", function () {
  this.timeout(300_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-verify-batches-"));
  const saved = process.env[DEPLOYMENTS_DIR_ENV];
  let snapshotId: string;
  let genesis: number;
  let chainId: number;
  let registry: string;
  let signers: HardhatEthersSigner[];
  let snapshot: string;
  let sqliteFile: string;
  /** The honest week 0, with the activity over the registry snapshot: distribution, activity, batches, summary. */
  const honest = { dir: "", file: "", activity: "", batches: "", summary: "" };
  /** The honest week 0 with the activity of `rewards:activity` without --snapshot (vehicles with batches only). */
  const bare = { dir: "", file: "", activity: "", verified: undefined as unknown };
  const signed: Record<string, SignedBatch> = {};

  before(async function () {
    snapshotId = await ethers.provider.send("evm_snapshot", []);
    process.env[DEPLOYMENTS_DIR_ENV] = dir;
    const { record } = await deploySuite(hre, {
      recordPath: path.join(dir, "hardhat.json"),
      reset: true,
      log: () => undefined,
    });
    genesis = record.genesis;
    chainId = Number((await ethers.provider.getNetwork()).chainId);
    registry = record.contracts.VehicleRegistry.address;
    const vehicles = await ethers.getContractAt("VehicleRegistry", registry);
    signers = await ethers.getSigners();
    // Vehicles 1 (BEV, account 10), 2 (ICE, 11), 3 (PHEV, 12), 4 (ICE, 12).
    for (const [i, [who, powertrain]] of [
      [10, 3],
      [11, 0],
      [12, 2],
      [12, 0],
    ].entries()) {
      await vehicles.connect(signers[who]).mintVehicle({
        make: "Make",
        model: `M${i}`,
        year: 2022,
        powertrain,
        vinCommitment: ethers.id(`verify-batches-vin-${i}`),
      });
    }
    // Devices 1 (key: account 13) on vehicle 1, 2 (key 14) on vehicle 2, 3 (key 15) never paired; vehicles 3 and 4
    // connected by the software integration (account 5).
    await run("device:mint", { key: signers[13].address, serial: "VB-1", hwRevision: "1", to: "10" });
    await run("device:mint", { key: signers[14].address, serial: "VB-2", hwRevision: "1", to: "11" });
    await run("device:mint", { key: signers[15].address, serial: "VB-3", hwRevision: "1", to: "12" });
    await run("device:pair", { vehicle: "1", device: "1", ownerAccount: "10", deviceAccount: "13" });
    await run("device:pair", { vehicle: "2", device: "2", ownerAccount: "11", deviceAccount: "14" });
    await run("connection:attest", { vehicle: "3", ownerAccount: "12" });
    await run("connection:attest", { vehicle: "4", ownerAccount: "12" });
    expect(await time.latest(), "the registry was set up before week 0").to.be.below(genesis);

    // Week 0 through the node: a trip exactly at the week's start (counts), a second one an hour later, vehicle 2's
    // device, vehicle 3's integration, and a trip exactly at the week's end (week 1: not counted in week 0).
    const batches: Record<string, [HardhatEthersSigner, TelemetryBatch]> = {
      startOfWeek: [signers[13], drivingBatch({ vehicleId: "1", deviceId: "1", sequence: 1, start: genesis })],
      later: [
        signers[13],
        drivingBatch({ vehicleId: "1", deviceId: "1", sequence: 2, start: genesis + 3600, odo0: 1_013_333 }),
      ],
      vehicle2: [signers[14], drivingBatch({ vehicleId: "2", deviceId: "2", sequence: 1, start: genesis + 7200 })],
      vehicle3: [
        signers[5],
        drivingBatch({ vehicleId: "3", integration: signers[5].address, sequence: 1, start: genesis + 10_000 }),
      ],
      endOfWeek: [
        signers[13],
        drivingBatch({ vehicleId: "1", deviceId: "1", sequence: 3, start: genesis + WEEK, odo0: 1_030_000 }),
      ],
    };
    sqliteFile = freshSqliteFile();
    const store = await openStore({ sqliteFile });
    const index = new RegistryIndex(ethers.provider, registry, store, {
      confirmations: 0,
      maxStaleBlocks: NODE_DEFAULTS.maxStaleBlocks,
      logPageBlocks: 1000,
      maxPollAgeMs: 60_000,
    });
    await index.load();
    await index.poll();
    const app = buildNode({ store, index, chainId, registry, now: () => genesis + WEEK + 700 });
    for (const [name, [signer, batch]] of Object.entries(batches)) {
      signed[name] = await signBatch(signer, batch, chainId, registry);
      const r = await app.inject({ method: "POST", url: "/v1/batches", payload: signed[name] });
      expect(r.statusCode, `${name}: ${r.body}`).to.equal(201);
    }
    await app.close();
    await store.close();

    await time.increaseTo(genesis + WEEK + 60);
    snapshot = path.join(dir, "vehicles-0.csv");
    await run("registry:snapshot", { out: snapshot });
    honest.dir = path.join(dir, "honest");
    await run("rewards:activity", { week: "0", db: sqliteFile, snapshot, outDir: honest.dir });
    honest.activity = path.join(honest.dir, "activity-week-0.csv");
    honest.batches = path.join(honest.dir, "telemetry-week-0.jsonl");
    honest.summary = path.join(honest.dir, "telemetry-week-0.json");
    honest.file = path.join(honest.dir, "week-0.json");
    await run("rewards:compute", { week: "0", activity: honest.activity, snapshot, out: honest.file });

    // Without --snapshot, rewards:activity writes rows for the vehicles with batches only. The week pays the same, so
    // its root is the honest one: verified before the honest file is published (then only that file's bytes are).
    bare.dir = path.join(dir, "bare");
    await run("rewards:activity", { week: "0", db: sqliteFile, outDir: bare.dir });
    bare.activity = path.join(bare.dir, "activity-week-0.csv");
    bare.file = path.join(bare.dir, "week-0.json");
    await run("rewards:compute", { week: "0", activity: bare.activity, snapshot, out: bare.file });
    bare.verified = await run("rewards:verify", { file: bare.file, activity: bare.activity, snapshot });

    // Published: its content hash is on chain from here on.
    await run("rewards:publish", { week: "0", file: honest.file, yes: true });
  });

  after(async function () {
    await ethers.provider.send("evm_revert", [snapshotId]);
    if (saved === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = saved;
  });

  /** Runs rewards:verify expecting it to fail and to write nothing; returns the error message and what it printed. */
  async function verifyFails(args: Record<string, unknown>): Promise<{ message: string; out: string }> {
    const folder = path.dirname(String(args.file));
    const before = fs.readdirSync(folder).map((f) => [f, sha256(fs.readFileSync(path.join(folder, f)))]);
    const lines: string[] = [];
    const log = console.log;
    console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
    let message: string | undefined;
    try {
      await hre.run("rewards:verify", args);
    } catch (e) {
      message = (e as Error).message;
    } finally {
      console.log = log;
    }
    if (message === undefined) throw new Error("rewards:verify should have failed");
    const after = fs.readdirSync(folder).map((f) => [f, sha256(fs.readFileSync(path.join(folder, f)))]);
    expect(after, "rewards:verify wrote or changed a file").to.deep.equal(before);
    return { message, out: lines.join("\n") };
  }

  /** A folder holding copies of `files` (by base name), each passed through `edit` when it names it. */
  function copyOf(name: string, files: string[], edit: Record<string, (text: string) => string> = {}): string {
    const to = path.join(dir, name);
    fs.mkdirSync(to, { recursive: true });
    for (const f of files) {
      const base = path.basename(f);
      if (edit[base]) fs.writeFileSync(path.join(to, base), edit[base](fs.readFileSync(f, "utf8")));
      else fs.copyFileSync(f, path.join(to, base));
    }
    return to;
  }

  /**
   * What an oracle that edits the activity must do to get it computed: edit the CSV, write the edited file's
   * SHA-256 into the summary (rewards:compute refuses it otherwise) and compute the week from both.
   */
  async function forgedActivity(
    name: string,
    from: { activity: string },
    edit: (csv: string) => string,
  ): Promise<{ file: string; activity: string }> {
    const folder = path.dirname(from.activity);
    const to = copyOf(name, [from.activity, path.join(folder, "telemetry-week-0.jsonl")], {
      "activity-week-0.csv": edit,
    });
    const activity = path.join(to, "activity-week-0.csv");
    const summary = JSON.parse(fs.readFileSync(path.join(folder, "telemetry-week-0.json"), "utf8"));
    summary.files.activity.sha256 = sha256(fs.readFileSync(activity));
    fs.writeFileSync(path.join(to, "telemetry-week-0.json"), JSON.stringify(summary, null, 1) + "\n");
    const file = path.join(to, "week-0.json");
    await run("rewards:compute", { week: "0", activity, snapshot, out: file });
    expect(fs.readFileSync(activity, "utf8")).not.to.equal(fs.readFileSync(from.activity, "utf8"));
    return { file, activity };
  }

  it("rewards:activity --referral-codes writes the referrer into the named vehicle's row, and refuses a bad file", async function () {
    const referrer = "0x" + "ab".repeat(20);
    const codes = path.join(dir, "codes.csv");
    fs.writeFileSync(codes, `vehicle_id,referral_code\n2,${referrer}\n`);
    const outDir = path.join(dir, "with-codes");
    await run("rewards:activity", { week: "0", db: sqliteFile, snapshot, outDir, referralCodes: codes });
    const rows = fs.readFileSync(path.join(outDir, "activity-week-0.csv"), "utf8").trim().split("\n");
    expect(rows.find((r) => r.startsWith("2,"))).to.match(new RegExp(`,${ethers.getAddress(referrer)}$`));
    expect(rows.filter((r) => r.endsWith(","))).to.have.length(rows.length - 2); // header and vehicle 2 excepted
    const bad = path.join(dir, "codes-bad.csv");
    fs.writeFileSync(bad, "vehicle_id,referral_code\n2,nobody\n");
    const none = path.join(dir, "with-bad-codes");
    let message = "";
    await run("rewards:activity", { week: "0", db: sqliteFile, snapshot, outDir: none, referralCodes: bad }).catch(
      (e: Error) => (message = e.message),
    );
    expect(message).to.equal(`codes-bad.csv:2 referral_code: expected the referrer's 0x address, got "nobody"`);
    expect(fs.existsSync(none)).to.equal(false);
  });

  describe("an honest week", function () {
    it("records the telemetry commitment in the header and verifies", async function () {
      const summary = JSON.parse(fs.readFileSync(honest.summary, "utf8"));
      const header = JSON.parse(fs.readFileSync(honest.file, "utf8"));
      expect(header.telemetry).to.deep.equal({
        commitmentRoot: summary.commitmentRoot,
        batches: 4,
        batchesFile: { name: "telemetry-week-0.jsonl", sha256: `0x${sha256(fs.readFileSync(honest.batches))}` },
        activityFile: { name: "activity-week-0.csv", sha256: `0x${sha256(fs.readFileSync(honest.activity))}` },
      });
      expect(summary.commitmentRoot).to.equal(
        await batchCommitmentRoot(
          ["startOfWeek", "later", "vehicle2", "vehicle3"].map((n) => ({
            digest: batchDigest(signed[n].batch, chainId, registry),
            signature: signed[n].signature,
          })),
        ),
      );
      expect(await run("rewards:verify", { file: honest.file, activity: honest.activity, snapshot })).to.equal(true);
      // Without --snapshot: rows for the vehicles with batches only, verified the same way (before publishing).
      expect(fs.readFileSync(bare.activity, "utf8").split("\n")).to.have.length(5); // header, 3 rows, final newline
      const bareTelemetry = JSON.parse(fs.readFileSync(bare.file, "utf8")).telemetry;
      expect({ ...bareTelemetry, activityFile: undefined }).to.deep.equal({
        ...header.telemetry,
        activityFile: undefined,
      });
      expect(bareTelemetry.activityFile.sha256).to.equal(`0x${sha256(fs.readFileSync(bare.activity))}`);
      expect(bare.verified).to.equal(true);
    });

    it("counts a batch starting exactly at the week's start, and not one starting exactly at its end", async function () {
      const lines = fs.readFileSync(honest.batches, "utf8").trimEnd().split("\n");
      const starts = lines.map((l) => (JSON.parse(l) as SignedBatch).batch.startTime);
      expect(starts).to.deep.equal([genesis, genesis + 3600, genesis + 7200, genesis + 10_000]);
      const trip = Math.round((600 * 50_000) / 3600); // 8,333 m per 10-minute trip at 50 km/h
      const between = 1_013_333 - (1_000_000 + trip); // the odometer step between the two trips (plausible)
      expect(fs.readFileSync(honest.activity, "utf8")).to.equal(
        [
          "vehicle_id,active,km_driven,data_types,referral_code",
          `1,true,${(2 * trip + between) / 1000},location;odometer;speed;fuel_level;tire_pressure,`,
          `2,true,${trip / 1000},location;odometer;speed;fuel_level;tire_pressure,`,
          `3,true,${trip / 1000},location;odometer;speed;fuel_level;tire_pressure,`,
          "4,false,0,,",
          "",
        ].join("\n"),
      );
    });

    it("writes no telemetry key for an activity file without a summary (offline files stay as they were)", async function () {
      const to = copyOf("no-summary", [honest.activity]);
      const activity = path.join(to, "activity.csv"); // not activity-week-0.csv: no summary is looked for
      fs.renameSync(path.join(to, "activity-week-0.csv"), activity);
      const file = path.join(to, "week-0.json");
      await run("rewards:compute", { week: "0", activity, snapshot, out: file });
      expect(fs.readFileSync(file, "utf8")).not.to.include('"telemetry"');
      const withSummary = fs.readFileSync(honest.file, "utf8");
      const telemetryLines = /\n {2}"telemetry": \{\n(?: {4}.*\n)+? {2}\},\n/.exec(withSummary)![0];
      // The same week otherwise: only the telemetry block and the activity file's name differ.
      expect(fs.readFileSync(file, "utf8")).to.equal(
        withSummary.replace(telemetryLines, "\n").replace('"file": "activity-week-0.csv"', '"file": "activity.csv"'),
      );
      // A verifier that requires activity from signed batches refuses such a week (rewards:verify otherwise takes
      // its activity as given, and says so), and accepts the same week derived from them. (This copy is not the
      // published file, so its content hash differs too: the telemetry difference comes first.)
      const { message, out } = await verifyFails({ file, activity, snapshot, requireTelemetry: true });
      expect(message).to.include(
        "first: header telemetry: expected a commitment to the signed batches the activity comes from (rewards:activity), found none",
      );
      expect(out).to.include("the week's activity file is not backed by signed telemetry");
      const offline = await verifyFails({ file, activity, snapshot });
      expect(offline.out).not.to.include("telemetry");
      expect(
        await run("rewards:verify", { file: honest.file, activity: honest.activity, snapshot, requireTelemetry: true }),
      ).to.equal(true);
    });
  });

  describe("rewards:compute refuses a summary that is not the activity's", function () {
    it("an activity file edited after rewards:activity (the summary hashes the original)", async function () {
      const to = copyOf("edited-after", [honest.activity, honest.summary], {
        "activity-week-0.csv": (t) => t.replace("\n2,true,8.333,", "\n2,true,80.333,"),
      });
      const out = path.join(to, "week-0.json");
      await rejects(
        run("rewards:compute", { week: "0", activity: path.join(to, "activity-week-0.csv"), snapshot, out }),
        /telemetry-week-0\.json files\.activity\.sha256: is 0x[0-9a-f]{64} but activity-week-0\.csv hashes to 0x[0-9a-f]{64}: the activity file is not the one derived from these batches/,
      );
      expect(fs.existsSync(out)).to.equal(false);
    });

    it("a summary of another time range (--telemetry)", async function () {
      const to = copyOf("other-range", [honest.summary], {
        "telemetry-week-0.json": (t) => t.replace(`"weekStart": ${genesis},`, `"weekStart": ${genesis + 1},`),
      });
      const out = path.join(to, "week-0.json");
      await rejects(
        run("rewards:compute", {
          week: "0",
          activity: honest.activity,
          snapshot,
          out,
          telemetry: path.join(to, "telemetry-week-0.json"),
        }),
        new RegExp(
          `telemetry-week-0\\.json weekStart: is ${genesis + 1} but week 0 of the issuance vault starts at ${genesis}`,
        ),
      );
      expect(fs.existsSync(out)).to.equal(false);
    });
  });

  describe("rewards:verify refuses activity the signed batches do not back", function () {
    it("km raised (the oracle recomputed the week from its edited file)", async function () {
      // Vehicle 3 (a PHEV) past the green pool's 16 km: the forged week pays it more.
      const f = await forgedActivity("km-raised", honest, (t) => t.replace("\n3,true,8.333,", "\n3,true,80.333,"));
      const { message, out } = await verifyFails({ file: f.file, activity: f.activity, snapshot });
      const line =
        "activity-week-0.csv line 4 vehicle 3 km_driven: expected 8.333 (backed by signed batches), found 80.333 (claimed)";
      expect(message).to.include(`1 difference(s) from what the inputs and the chain give; first: ${line}`);
      expect(out).to.include(line);
    });

    it("an inactive vehicle marked active", async function () {
      const f = await forgedActivity("made-active", honest, (t) => t.replace("\n4,false,0,,", "\n4,true,0,location,"));
      const { message, out } = await verifyFails({ file: f.file, activity: f.activity, snapshot });
      expect(message).to.include("2 difference(s)");
      expect(out).to.include(
        "activity-week-0.csv line 5 vehicle 4 active: expected false (no signed batch backs it), found true (claimed)",
      );
      expect(out).to.include(
        'activity-week-0.csv line 5 vehicle 4 data_types: expected "" (backed by signed batches), found "location" (claimed)',
      );
    });

    it("a vehicle added to an activity file of the vehicles with batches", async function () {
      const f = await forgedActivity("added", bare, (t) => `${t}4,true,20,location,\n`);
      const { out } = await verifyFails({ file: f.file, activity: f.activity, snapshot });
      expect(out).to.include(
        "activity-week-0.csv line 5 vehicle 4 active: expected false (no signed batch backs it), found true (claimed)",
      );
      expect(out).to.include(
        "activity-week-0.csv line 5 vehicle 4 km_driven: expected 0 (backed by signed batches), found 20 (claimed)",
      );
    });

    it("an activity file other than the committed one given to verify", async function () {
      const to = copyOf("other-activity", [honest.activity], {
        "activity-week-0.csv": (t) => t.replace("\n2,true,8.333,", "\n2,true,80.333,"),
      });
      const { out } = await verifyFails({
        file: honest.file,
        activity: path.join(to, "activity-week-0.csv"),
        snapshot,
      });
      expect(out).to.match(
        /activity-week-0\.csv sha256: expected 0x[0-9a-f]{64} \(the header's telemetry\.activityFile\), found 0x[0-9a-f]{64} \(the activity file is not the one derived from the committed batches\)/,
      );
      expect(out).to.include("activity-week-0.csv line 3 vehicle 2 km_driven: expected 8.333");
    });
  });

  describe("rewards:verify refuses published batches the chain does not back", function () {
    /** Week 0's honest distribution with its batch file edited, in a folder of its own (--telemetry-dir). */
    function batchesEdited(name: string, edit: (lines: string[]) => string[]): string {
      return copyOf(name, [honest.batches], {
        "telemetry-week-0.jsonl": (t) => edit(t.trimEnd().split("\n")).join("\n") + "\n",
      });
    }
    const verifyWith = (telemetryDir: string) =>
      verifyFails({ file: honest.file, activity: honest.activity, snapshot, telemetryDir });
    const rootMismatch =
      /telemetry-week-0\.jsonl commitmentRoot: expected 0x[0-9a-f]{64} \(the header's telemetry\.commitmentRoot\), found 0x[0-9a-f]{64} \(recomputed from the file's batches\)/;

    it("a batch whose signature was changed (another key's signature over the same batch)", async function () {
      const other = await signBatch(signers[16], signed.later.batch, chainId, registry);
      const to = batchesEdited("signature", (l) => l.map((x, i) => (i === 1 ? JSON.stringify(other) : x)));
      const { out } = await verifyWith(to);
      expect(out).to.include(
        "telemetry-week-0.jsonl line 2 signature: expected a batch signed by the key bound to vehicle 1 over its time range (as the node checks), found bad_signature: the batch is not signed by device 1's key",
      );
      expect(out).to.match(rootMismatch);
      // Its trip is then backed by nothing: the vehicle's km falls to the first trip's.
      expect(out).to.include(
        "activity-week-0.csv line 2 vehicle 1 km_driven: expected 8.333 (backed by signed batches)",
      );
    });

    it("batches of a device paired with another vehicle, and of an unpaired device, appended", async function () {
      const foreign = await signBatch(
        signers[14], // device 2's key: device 2 is paired with vehicle 2
        drivingBatch({ vehicleId: "1", deviceId: "2", sequence: 7, start: genesis + 20_000 }),
        chainId,
        registry,
      );
      const unpaired = await signBatch(
        signers[15], // device 3's key: device 3 was never paired
        drivingBatch({ vehicleId: "4", deviceId: "3", sequence: 1, start: genesis + 20_000 }),
        chainId,
        registry,
      );
      const to = batchesEdited("appended", (l) => [...l, JSON.stringify(foreign), JSON.stringify(unpaired)]);
      const { out } = await verifyWith(to);
      expect(out).to.include(
        `telemetry-week-0.jsonl line 5 batch.deviceId: expected a batch signed by the key bound to vehicle 1 over its time range (as the node checks), found device_paired_elsewhere: device 2 was paired with vehicle 2 during [${genesis + 20_000}, ${genesis + 20_600}]`,
      );
      expect(out).to.include(
        `telemetry-week-0.jsonl line 6 batch.deviceId: expected a batch signed by the key bound to vehicle 4 over its time range (as the node checks), found device_not_paired: device 3 was not paired with vehicle 4`,
      );
      expect(out).to.match(rootMismatch);
      expect(out).to.include(
        "telemetry-week-0.jsonl batches: expected 4 (the header's telemetry.batches), found 6 lines",
      );
    });

    it("a header edited to commit to the appended batch: refused on the content hash posted on chain", async function () {
      const foreign = await signBatch(
        signers[14],
        drivingBatch({ vehicleId: "1", deviceId: "2", sequence: 7, start: genesis + 20_000 }),
        chainId,
        registry,
      );
      const text = fs.readFileSync(honest.batches, "utf8") + JSON.stringify(foreign) + "\n";
      const lines = text
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as SignedBatch);
      const root = await batchCommitmentRoot(
        lines.map((s) => ({ digest: batchDigest(s.batch, s.chainId, s.registry), signature: s.signature })),
      );
      const header = JSON.parse(fs.readFileSync(honest.file, "utf8")).telemetry;
      const to = copyOf("header-edited", [honest.file, honest.file.replace(/\.json$/, ".tree")], {
        "week-0.json": (t) =>
          t
            .replace(header.commitmentRoot, root)
            .replace(header.batchesFile.sha256, `0x${sha256(text)}`)
            .replace('"batches": 4,', '"batches": 5,'),
      });
      fs.writeFileSync(path.join(to, "telemetry-week-0.jsonl"), text);
      const file = path.join(to, "week-0.json");
      expect(JSON.parse(fs.readFileSync(file, "utf8")).telemetry.commitmentRoot).to.equal(root);
      const { out } = await verifyFails({ file, activity: honest.activity, snapshot });
      expect(out).to.match(
        /week-0\.json contentHash: expected 0x[0-9a-f]{64}, found 0x[0-9a-f]{64} \(the file is not the one published on chain with its root\)/,
      );
      expect(out).to.include("telemetry-week-0.jsonl line 5 batch.deviceId:");
      expect(out).to.include("found device_paired_elsewhere");
      expect(out).not.to.match(rootMismatch); // the attacker's root is right for its file; the chain refuses it
    });

    it("a truncated batch file (a batch removed)", async function () {
      const to = batchesEdited("truncated", (l) => l.slice(0, 3));
      const { out } = await verifyWith(to);
      expect(out).to.match(rootMismatch);
      expect(out).to.include(
        "telemetry-week-0.jsonl batches: expected 4 (the header's telemetry.batches), found 3 lines",
      );
      expect(out).to.include(
        "activity-week-0.csv line 4 vehicle 3 active: expected false (no signed batch backs it), found true (claimed)",
      );
    });

    it("rewards:watch fetches the published batches with the week's inputs and re-derives the activity", async function () {
      /** The watcher's layout (docs/rewards-spec.md §14) with the week's batch file passed through `edit`. */
      const serveWeek = (name: string, edit: (text: string) => string = (t) => t) => {
        const base = copyOf(name, [honest.file, honest.file.replace(/\.json$/, ".tree")]);
        copyOf(path.join(name, "week-0"), [honest.activity, snapshot]);
        fs.writeFileSync(
          path.join(base, "week-0", "telemetry-week-0.jsonl"),
          edit(fs.readFileSync(honest.batches, "utf8")),
        );
        return base;
      };
      expect(await run("rewards:watch", { files: serveWeek("served"), once: true })).to.deep.equal(["verified"]);
      const truncated = serveWeek("served-truncated", (t) => t.split("\n").slice(1).join("\n"));
      /** Runs rewards:watch --once expecting an alert (no guardian or disputer key here); returns what it printed. */
      const watchAlerts = async (files: string) => {
        const lines: string[] = [];
        const log = console.log;
        const keys = [GUARDIAN_KEY_ENV, DISPUTER_KEY_ENV].map((k) => [k, process.env[k]] as const);
        for (const [k] of keys) delete process.env[k]; // an alert only: the root must stay pending
        console.log = (...parts: unknown[]) => lines.push(parts.join(" "));
        try {
          await rejects(hre.run("rewards:watch", { files, once: true }), /does not verify and no DIMO_GUARDIAN_KEY/);
        } finally {
          console.log = log;
          for (const [k, v] of keys) if (v !== undefined) process.env[k] = v;
        }
        return lines.join("\n");
      };
      expect(await watchAlerts(truncated)).to.match(rootMismatch);
      // Without the batch file the week cannot be re-derived: a bad root too.
      fs.rmSync(path.join(truncated, "week-0", "telemetry-week-0.jsonl"));
      expect(await watchAlerts(truncated)).to.include("week-0/telemetry-week-0.jsonl: not published (missing)");
    });

    it("a missing batch file", async function () {
      const empty = fs.mkdtempSync(path.join(dir, "empty-"));
      await rejects(
        run("rewards:verify", { file: honest.file, activity: honest.activity, snapshot, telemetryDir: empty }),
        /telemetry-week-0\.jsonl \(file\): the week's published batches are not in /,
      );
    });
  });
});
