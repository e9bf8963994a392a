import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { computeWeek } from "../../../lib/rewards/compute";
import { proofFor, readDistribution, writeDistribution, type Distribution } from "../../../lib/rewards/distribution";
import {
  cachedLayerRoot,
  findAccountLine,
  proveEntry,
  RangeFile,
  readWeekHeader,
  type Fetched,
} from "../../../lib/rewards/lookup";
import { benchInputs, prng, syntheticWeek } from "../../../bench/rewards";
import { rejects } from "../../helpers/rejects";

/** A file served with Range support (or without: the whole file for any range), counting requests. */
function served(file: string, ranges = true): RangeFile {
  const bytes = new Uint8Array(fs.readFileSync(file));
  return new RangeFile(path.basename(file), bytes.length, async (start, end): Promise<Fetched> => {
    if (!ranges) return { offset: 0, bytes, size: bytes.length };
    return { offset: start, bytes: bytes.subarray(start, end), size: bytes.length };
  });
}

const ADDRESS = (hex: string) => `0x${hex.padStart(40, "0")}`;

describe("lib/rewards/lookup (one account from a week file by Range requests)", function () {
  this.timeout(120_000);
  let dir: string;
  let d: Distribution;
  let jsonPath: string;
  let treePath: string;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-lookup-"));
    const { distribution, tree } = await computeWeek(benchInputs(await syntheticWeek(20_000, 9)));
    ({ jsonPath, treePath } = writeDistribution(dir, distribution, tree));
    d = readDistribution(jsonPath);
    expect(d.accounts.length).to.be.greaterThan(10_000);
    expect(d.cachedLayer.layer).to.be.greaterThan(0);
  });

  after(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("reads the header, and the cached layer hashes to the root", async function () {
    const f = served(jsonPath);
    const h = await readWeekHeader(f);
    expect(h).to.deep.include({ week: d.week, root: d.root, chainId: d.chainId, network: d.network });
    expect(h.tree).to.deep.equal({
      file: d.tree.file,
      sha256: d.tree.sha256,
      leafCount: d.tree.leafCount,
      layerCount: d.tree.layerCount,
    });
    expect(h.cachedLayer).to.deep.equal(d.cachedLayer);
    const bytes = fs.readFileSync(jsonPath);
    expect(bytes.subarray(h.accountsStart, h.accountsStart + 16).toString()).to.equal('    {"account":"');
    expect(cachedLayerRoot(h.cachedLayer.nodes)).to.equal(d.root);
    expect(f.requests).to.equal(1);
  });

  it("finds every sampled account's line, and proves it exactly as proofFor does", async function () {
    const f = served(jsonPath);
    const tree = served(treePath);
    const h = await readWeekHeader(f);
    const rnd = prng(3);
    const picks = new Set([0, 1, d.accounts.length - 2, d.accounts.length - 1]);
    while (picks.size < 300) picks.add(Math.floor(rnd() * d.accounts.length));
    for (const i of picks) {
      const a = d.accounts[i];
      const line = await findAccountLine(f, h.accountsStart, a.account.toLowerCase());
      expect(line, a.account).to.not.equal(undefined);
      expect(line!.account).to.equal(a.account);
      expect(line!.index).to.equal(i);
      expect(BigInt(line!.cumulativeWei as string)).to.equal(a.cumulativeWei);
      expect(BigInt(line!.weekWei as string)).to.equal(a.weekWei);
      expect((line!.vehicles as unknown[]).length).to.equal(a.vehicles.length);
      const p = proofFor(d, a.account);
      expect(await proveEntry(tree, h, a.account, a.cumulativeWei, i)).to.deep.equal({
        anchor: p.anchor,
        proof: p.shortProof,
      });
    }
  });

  it("answers undefined for accounts the file does not hold: before the first, after the last, in between", async function () {
    const f = served(jsonPath);
    const h = await readWeekHeader(f);
    const lower = d.accounts.map((a) => a.account.toLowerCase());
    const between = (i: number) => ADDRESS((BigInt(lower[i]) + 1n).toString(16));
    const absent = [ADDRESS("0"), ADDRESS("f".repeat(40)), between(0), between(1234), between(lower.length - 2)];
    for (const a of absent) {
      expect(lower).to.not.include(a);
      expect(await findAccountLine(f, h.accountsStart, a), a).to.equal(undefined);
    }
  });

  it("costs at most log2(accounts) requests of one 4 KiB block per lookup", async function () {
    const h = await readWeekHeader(served(jsonPath));
    const bound = Math.ceil(Math.log2(d.accounts.length));
    let worst = 0;
    for (let i = 0; i < d.accounts.length; i += 997) {
      const f = served(jsonPath);
      await findAccountLine(f, h.accountsStart, d.accounts[i].account);
      worst = Math.max(worst, f.requests);
      expect(f.bytesFetched).to.be.at.most(f.requests * 4096 * 2);
    }
    expect(worst).to.be.at.most(bound);
  });

  it("works with a server that ignores ranges (one whole-file answer)", async function () {
    const f = served(jsonPath, false);
    const h = await readWeekHeader(f);
    const a = d.accounts[777];
    expect((await findAccountLine(f, h.accountsStart, a.account))!.index).to.equal(777);
    expect(f.requests).to.equal(1);
  });

  it("finds lines longer than a block, and their neighbours", async function () {
    const text = fs.readFileSync(jsonPath, "utf8").split("\n");
    const h = await readWeekHeader(served(jsonPath));
    const first = text.findIndex((l) => l.startsWith('    {"account":"'));
    const k = first + 5000;
    const o = JSON.parse(text[k].trim().replace(/,$/, ""));
    o.vehicles = Array.from({ length: 400 }, (_, j) => ({ ...o.vehicles[0], vehicleId: String(j + 1) }));
    text[k] = `    ${JSON.stringify(o)},`;
    expect(text[k].length).to.be.greaterThan(3 * 4096);
    const file = path.join(dir, "long.json");
    fs.writeFileSync(file, text.join("\n"));
    const f = served(file);
    for (const i of [4999, 5000, 5001]) {
      const line = await findAccountLine(f, h.accountsStart, d.accounts[i].account);
      expect(line!.index).to.equal(i);
    }
    expect(
      ((await findAccountLine(f, h.accountsStart, d.accounts[5000].account))!.vehicles as unknown[]).length,
    ).to.equal(400);
  });

  it("refuses a raised amount: the proof no longer reaches the cached layer", async function () {
    const h = await readWeekHeader(served(jsonPath));
    const a = d.accounts[42];
    await rejects(
      proveEntry(served(treePath), h, a.account, a.cumulativeWei + 1n, 42),
      /week-0\.tree: the proof of 0x[0-9a-fA-F]{40} does not reach node \d+ of the cached layer/,
    );
    await rejects(
      proveEntry(served(treePath), h, a.account, a.cumulativeWei, d.accounts.length),
      /leaf index \d+ .* is outside the tree/,
    );
  });

  it("names the file when it is not a distribution file", async function () {
    const file = path.join(dir, "other.json");
    fs.writeFileSync(file, JSON.stringify({ hello: "world" }, null, 2));
    await rejects(readWeekHeader(served(file)), /other\.json: not a distribution file/);
  });

  it("holds a fetched file in memory (RangeFile.of) and rejects an answer that lacks the asked bytes", async function () {
    const bytes = new Uint8Array(fs.readFileSync(jsonPath));
    const f = RangeFile.of("mem.json", bytes);
    expect((await readWeekHeader(f)).root).to.equal(d.root);
    expect(f.requests).to.equal(0);
    const short = new RangeFile("short.json", bytes.length, async (start) => ({
      offset: start,
      bytes: bytes.subarray(start, start + 10),
    }));
    await rejects(short.read(0, 100), /short\.json: bytes 0-4095 are missing from the answer/);
    expect(() => cachedLayerRoot([])).to.throw(/empty layer/);
  });
});
