import { expect } from "chai";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { concat, keccak256 } from "ethers";
import { InputError } from "../../../lib/errors";
import { computeWeek } from "../../../lib/rewards/compute";
import {
  proofFor,
  readDistribution,
  verifyDistribution,
  writeDistribution,
  type Distribution,
} from "../../../lib/rewards/distribution";
import { benchInputs, prng, syntheticWeek } from "../../../bench/rewards";

/** OpenZeppelin MerkleProof.processProof (sorted pairs), with ethers only. */
const ozProcessProof = (proof: readonly string[], leaf: string) =>
  proof.reduce((node, s) => keccak256(node < s ? concat([node, s]) : concat([s, node])), leaf);

async function writeWeek(
  dir: string,
  vehicles: number,
): Promise<{ jsonPath: string; treePath: string; contentHash: string; d: Distribution }> {
  const { distribution, tree } = await computeWeek(benchInputs(await syntheticWeek(vehicles, 5)));
  return { ...writeDistribution(dir, distribution, tree), d: distribution };
}

function readError(jsonPath: string): InputError {
  try {
    readDistribution(jsonPath);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

async function verifyError(d: Distribution): Promise<InputError> {
  try {
    await verifyDistribution(d);
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

/** Replaces line `n` (1-based) of a file. */
function editLine(file: string, n: number, f: (line: string) => string): void {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  lines[n - 1] = f(lines[n - 1]);
  fs.writeFileSync(file, lines.join("\n"));
}
const lineOfAccount = (file: string, i: number) =>
  fs
    .readFileSync(file, "utf8")
    .split("\n")
    .findIndex((l) => l.startsWith(`    {"account":`) && l.includes(`"index":${i},`)) + 1;

describe("lib/rewards/distribution", function () {
  let dir: string;
  let file: { jsonPath: string; treePath: string; contentHash: string; d: Distribution };
  beforeEach(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "rewards-distribution-"));
    file = await writeWeek(dir, 300);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe("writing and reading", function () {
    it("reads back exactly what was written", function () {
      const back = readDistribution(file.jsonPath);
      const strip = ({ treePath: _t, source: _s, ...rest }: Distribution & { contentHash?: string }) => {
        delete rest.contentHash;
        return rest;
      };
      expect(strip(back)).to.deep.equal(strip(file.d));
      expect(back.treePath).to.equal(file.treePath);
    });

    it("names the two files week-<N>.json and week-<N>.tree, with the tree's SHA-256 in the JSON", function () {
      expect(path.basename(file.jsonPath)).to.equal("week-0.json");
      expect(path.basename(file.treePath)).to.equal("week-0.tree");
      const sha = `0x${createHash("sha256").update(fs.readFileSync(file.treePath)).digest("hex")}`;
      expect(file.d.tree.sha256).to.equal(sha);
      expect(fs.readFileSync(file.treePath).subarray(0, 8).toString("ascii")).to.equal("DIMOTREE");
    });

    it("gives the content hash as the SHA-256 of the JSON bytes", function () {
      const sha = `0x${createHash("sha256").update(fs.readFileSync(file.jsonPath)).digest("hex")}`;
      expect(file.contentHash).to.equal(sha);
      expect(readDistribution(file.jsonPath).contentHash).to.equal(sha);
    });

    it("lists accounts by lowercase address, one per line, with their leaf index", function () {
      const lines = fs.readFileSync(file.jsonPath, "utf8").split("\n");
      const accounts = lines.filter((l) => l.startsWith('    {"account":'));
      expect(accounts).to.have.length(file.d.accounts.length);
      const keys = file.d.accounts.map((a) => a.account.toLowerCase());
      expect(keys).to.deep.equal([...keys].sort());
      expect(file.d.accounts.every((a, i) => a.index === i)).to.equal(true);
    });

    it("leaves no temporary file behind", function () {
      expect(fs.readdirSync(dir).sort()).to.deep.equal(["week-0.json", "week-0.tree"]);
    });

    it("verifies: the accounts' amounts give the root and the tree file", async function () {
      expect(await verifyDistribution(readDistribution(file.jsonPath))).to.equal(file.d.root);
    });
  });

  describe("tampering", function () {
    it("refuses a changed amount that no longer adds up, naming the file, line and field", function () {
      const line = lineOfAccount(file.jsonPath, 3);
      const before = file.d.accounts[3].weekWei;
      editLine(file.jsonPath, line, (l) => l.replace(`"weekWei":"${before}"`, `"weekWei":"${before + 1n}"`));
      const e = readError(file.jsonPath);
      expect(e.source).to.equal("week-0.json");
      expect(e.line).to.equal(line);
      expect(e.field).to.equal("accounts[3].weekWei");
    });

    it("catches amounts swapped between accounts (sums unchanged) when verifying the root", async function () {
      const [a, b] = [file.d.accounts[1], file.d.accounts[2]];
      expect(a.cumulativeWei).not.to.equal(b.cumulativeWei);
      editLine(file.jsonPath, lineOfAccount(file.jsonPath, 1), (l) =>
        l.replace(`"cumulativeWei":"${a.cumulativeWei}"`, `"cumulativeWei":"${b.cumulativeWei}"`),
      );
      editLine(file.jsonPath, lineOfAccount(file.jsonPath, 2), (l) =>
        l.replace(`"cumulativeWei":"${b.cumulativeWei}"`, `"cumulativeWei":"${a.cumulativeWei}"`),
      );
      const d = readDistribution(file.jsonPath);
      const e = await verifyError(d);
      expect(e.field).to.equal("root");
      expect(e.source).to.equal("week-0.json");
      expect(() => proofFor(d, a.account)).to.throw(InputError, /does not match/);
    });

    it("refuses a changed byte of the tree file (SHA-256 mismatch)", function () {
      const bytes = fs.readFileSync(file.treePath);
      bytes[32 + 5 * 32 + 7] ^= 1; // a byte of leaf 5
      fs.writeFileSync(file.treePath, bytes);
      const e = readError(file.jsonPath);
      expect(e.field).to.equal("tree.sha256");
      expect(e.message).to.match(/^week-0\.json tree\.sha256: week-0\.tree has SHA-256 0x/);
    });

    it("catches a changed tree byte even with the SHA-256 in the JSON updated", async function () {
      // node 2 of layer 1 (above the cached layer, which is the leaves here): the sibling on leaf 6's path
      const offset = 32 + file.d.accounts.length * 32 + 2 * 32 + 7;
      const bytes = fs.readFileSync(file.treePath);
      bytes[offset] ^= 1;
      fs.writeFileSync(file.treePath, bytes);
      const sha = `0x${createHash("sha256").update(bytes).digest("hex")}`;
      const text = fs.readFileSync(file.jsonPath, "utf8").replace(file.d.tree.sha256, sha);
      fs.writeFileSync(file.jsonPath, text);
      const d = readDistribution(file.jsonPath);
      expect((await verifyError(d)).message).to.equal(
        `week-0.json tree.file: week-0.tree differs from the recomputed tree at byte ${offset}`,
      );
      expect(() => proofFor(d, d.accounts[6].account)).to.throw(InputError, /does not reach the root/);
    });

    it("refuses a changed leaf of the tree file when it is in the cached layer", function () {
      const bytes = fs.readFileSync(file.treePath);
      bytes[32 + 5 * 32 + 7] ^= 1;
      fs.writeFileSync(file.treePath, bytes);
      const sha = `0x${createHash("sha256").update(bytes).digest("hex")}`;
      fs.writeFileSync(file.jsonPath, fs.readFileSync(file.jsonPath, "utf8").replace(file.d.tree.sha256, sha));
      expect(readError(file.jsonPath).field).to.equal("cachedLayer.nodes[5]");
    });

    it("refuses a changed root", function () {
      const other = `0x${"ab".repeat(32)}`;
      fs.writeFileSync(file.jsonPath, fs.readFileSync(file.jsonPath, "utf8").replace(file.d.root, other));
      const e = readError(file.jsonPath);
      expect(e.field).to.equal("root");
    });

    it("refuses a missing tree file", function () {
      fs.rmSync(file.treePath);
      expect(readError(file.jsonPath).field).to.equal("tree.file");
    });

    it("refuses a reformatted file (not the canonical layout)", function () {
      const text = fs.readFileSync(file.jsonPath, "utf8");
      fs.writeFileSync(file.jsonPath, JSON.stringify(JSON.parse(text), null, 1));
      expect(readError(file.jsonPath).field).to.equal("accounts");
    });

    it("names the line of a malformed header value", function () {
      const text = fs.readFileSync(file.jsonPath, "utf8");
      fs.writeFileSync(file.jsonPath, text.replace('"chainId": 1,', '"chainId": "1",'));
      const e = readError(file.jsonPath);
      expect(e.field).to.equal("chainId");
      expect(e.line).to.equal(3);
    });
  });

  describe("proofFor", function () {
    it("serves a full proof and a short proof to the cached layer, both valid", function () {
      const d = readDistribution(file.jsonPath);
      for (const a of d.accounts) {
        const p = proofFor(d, a.account.toLowerCase());
        expect(p.account).to.equal(a.account);
        expect(ozProcessProof(p.proof, p.leaf)).to.equal(d.root);
        expect(ozProcessProof(p.shortProof, p.leaf)).to.equal(d.cachedLayer.nodes[p.anchor - 1]);
      }
    });

    it("refuses an account without rewards", function () {
      const d = readDistribution(file.jsonPath);
      expect(() => proofFor(d, `0x${"00".repeat(19)}01`)).to.throw(InputError, /has no rewards in week 0/);
    });

    it("answers in well under a second on a 100,000-account file", async function () {
      this.timeout(300_000);
      const big = await writeWeek(path.join(dir, "big"), 170_000);
      const d = readDistribution(big.jsonPath);
      expect(d.accounts.length).to.be.above(100_000);
      const rnd = prng(3);
      const times: number[] = [];
      const wrong: string[] = [];
      for (let k = 0; k < 300; k++) {
        const a = d.accounts[Math.floor(rnd() * d.accounts.length)];
        const t = process.hrtime.bigint();
        const p = proofFor(d, a.account);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
        if (ozProcessProof(p.proof, p.leaf) !== d.root || p.proof.length > 17) wrong.push(a.account);
        if (ozProcessProof(p.shortProof, p.leaf) !== d.cachedLayer.nodes[p.anchor - 1]) wrong.push(a.account);
      }
      expect(wrong).to.deep.equal([]);
      times.sort((x, y) => x - y);
      const median = times[times.length >> 1];
      expect(median, `median ${median} ms`).to.be.below(20);
      expect(times[times.length - 1], `worst ${times[times.length - 1]} ms`).to.be.below(500);
    });
  });
});
