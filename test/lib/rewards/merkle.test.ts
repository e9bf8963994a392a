import { expect } from "chai";
import { AbiCoder, concat, getAddress, keccak256, toBeHex, zeroPadValue } from "ethers";
import { MerkleTree } from "merkletreejs";
import {
  buildTree,
  buildTreeInWorker,
  cachedLayerIndex,
  layerSizes,
  leafHash,
  MAX_CACHED_NODES,
  type MerkleLayers,
  processProof,
  toHex,
} from "../../../lib/rewards/merkle";
import { prng } from "../../../bench/rewards";

const coder = AbiCoder.defaultAbiCoder();

/** The OpenZeppelin StandardMerkleTree leaf, computed with ethers' ABI coder. */
const abiLeaf = (account: string, amount: bigint) =>
  keccak256(keccak256(coder.encode(["address", "uint256"], [getAddress(account), amount])));

/** The same leaf with ethers' byte helpers (faster; checked against `abiLeaf` below). */
const ozLeaf = (account: string, amount: bigint) =>
  keccak256(keccak256(concat([zeroPadValue(account, 32), toBeHex(amount, 32)])));

/** OpenZeppelin MerkleProof.processProof (commutative keccak of sorted pairs), with ethers only. */
function ozProcessProof(proof: readonly string[], leaf: string): string {
  return proof.reduce(
    (node, s) => keccak256(node.toLowerCase() < s.toLowerCase() ? concat([node, s]) : concat([s, node])),
    leaf,
  );
}

function entries(n: number, seed: number): { account: string; cumulativeWei: bigint }[] {
  const rnd = prng(seed);
  const list = Array.from({ length: n }, () => {
    let hex = "";
    for (let k = 0; k < 5; k++)
      hex += Math.floor(rnd() * 2 ** 32)
        .toString(16)
        .padStart(8, "0");
    const amount = BigInt(Math.floor(rnd() * 2 ** 53)) * BigInt(Math.floor(rnd() * 2 ** 40) + 1);
    return { account: `0x${hex}`, cumulativeWei: rnd() < 0.05 ? 0n : amount };
  });
  return list.sort((a, b) => (a.account < b.account ? -1 : 1));
}

const SIZES = [
  1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257, 511, 512, 513,
];
SIZES.push(1023, 1024, 1025, 1999, 2000);
const rnd = prng(99);
for (let i = 0; i < 8; i++) SIZES.push(1 + Math.floor(rnd() * 2000));

describe("lib/rewards/merkle", function () {
  it("hashes leaves as OpenZeppelin's StandardMerkleTree does", async function () {
    const account = getAddress("0x00000000000000000000000000000000000000aa");
    for (const amount of [0n, 1n, 10n ** 18n, 2n ** 256n - 1n]) {
      expect(await leafHash(account, amount)).to.equal(abiLeaf(account, amount));
      expect(ozLeaf(account, amount)).to.equal(abiLeaf(account, amount));
    }
    for (const e of entries(50, 3))
      expect(ozLeaf(e.account, e.cumulativeWei)).to.equal(abiLeaf(e.account, e.cumulativeWei));
  });

  describe("equality with merkletreejs (sortPairs, pre-hashed leaves)", function () {
    for (const n of SIZES) {
      it(`${n} leaves: same root, same proof for every leaf, every proof verifies`, async function () {
        const list = entries(n, n);
        const leaves = list.map((e) => ozLeaf(e.account, e.cumulativeWei));
        const reference = new MerkleTree(leaves, keccak256, { sortPairs: true });
        const tree = await buildTree(list);
        expect(tree.root()).to.equal(reference.getHexRoot());
        const wrong: number[] = []; // indices whose proof differs or does not verify (one assertion: chai is slow)
        for (let i = 0; i < n; i++) {
          const proof = tree.proof(i);
          if (proof.join() !== reference.getHexProof(leaves[i], i).join()) wrong.push(i);
          else if (ozProcessProof(proof, leaves[i]) !== tree.root()) wrong.push(i);
        }
        expect(wrong).to.deep.equal([]);
      });
    }
  });

  describe("cached layer and short proofs", function () {
    function checkShortProofs(tree: MerkleLayers, max: number, leaves: string[]) {
      const { layer, nodes } = tree.cachedLayer(max);
      expect(nodes.length / 32).to.be.at.most(max);
      if (layer > 0) expect(tree.layers[layer - 1].length / 32).to.be.above(max);
      const wrong: number[] = [];
      for (let i = 0; i < leaves.length; i++) {
        const { anchor, proof } = tree.proofToLayer(i, layer);
        if (
          anchor !== (i >> layer) + 1 ||
          ozProcessProof(proof, leaves[i]) !== toHex(nodes, (anchor - 1) * 32, 32) ||
          tree.proof(i).slice(0, proof.length).join() !== proof.join() // the short proof starts the full one
        )
          wrong.push(i);
      }
      expect(wrong).to.deep.equal([]);
    }

    for (const n of [1, 2, 5, 33, 257, 999, 2000]) {
      for (const max of [1, 3, 16, MAX_CACHED_NODES]) {
        it(`${n} leaves, at most ${max} cached nodes: each short proof hashes to cachedLayer[anchor - 1]`, async function () {
          const list = entries(n, n + max);
          const tree = await buildTree(list);
          checkShortProofs(
            tree,
            max,
            list.map((e) => ozLeaf(e.account, e.cumulativeWei)),
          );
        });
      }
    }

    it("caches layer 10 (977 nodes) of a million-leaf tree, 20 levels deep", function () {
      const sizes = layerSizes(1_000_000);
      expect(sizes.length - 1).to.equal(20);
      expect(cachedLayerIndex(1_000_000)).to.equal(10);
      expect(sizes[10]).to.equal(977);
    });

    it("layer sizes follow the carried-odd-node rule", function () {
      expect(layerSizes(5)).to.deep.equal([5, 3, 2, 1]);
      expect(layerSizes(1)).to.deep.equal([1]);
    });
  });

  describe("buildTree", function () {
    it("refuses accounts out of lowercase order or repeated", async function () {
      const a = "0x000000000000000000000000000000000000000a";
      const B = "0x000000000000000000000000000000000000000B";
      await buildTree([
        { account: a, cumulativeWei: 1n },
        { account: B, cumulativeWei: 1n },
      ]);
      for (const list of [
        [B, a],
        [a, a.toUpperCase().replace("0X", "0x")],
      ]) {
        let failed = false;
        await buildTree(list.map((account) => ({ account, cumulativeWei: 1n }))).catch(() => (failed = true));
        expect(failed).to.equal(true);
      }
    });

    it("builds the same layers in a worker thread", async function () {
      const list = entries(3001, 8);
      const here = await buildTree(list);
      const there = await buildTreeInWorker(list);
      expect(there.layers.length).to.equal(here.layers.length);
      expect(there.layers.every((l, i) => Buffer.from(l).equals(Buffer.from(here.layers[i])))).to.equal(true);
    });

    it("processProof matches OpenZeppelin's", async function () {
      const list = entries(77, 5);
      const tree = await buildTree(list);
      const leaf = ozLeaf(list[9].account, list[9].cumulativeWei);
      expect(await processProof(tree.proof(9), leaf)).to.equal(tree.root());
    });
  });
});
