/**
 * Our leaves and proofs as OpenZeppelin sees them (docs/rewards-spec.md §9): every proof of trees of several shapes
 * (odd last nodes carried up at different layers) verifies with OpenZeppelin's own `MerkleProof.verifyCalldata`
 * (contracts 5.7, through contracts/test/MerkleProofDouble.sol), and our leaf is `@openzeppelin/merkle-tree`'s
 * `standardLeafHash` — replicated here with ethers, as that package is not installed: its src/hashes.ts defines
 * `standardLeafHash(types, value) = keccak256(keccak256(defaultAbiCoder.encode(types, value)))`.
 */
import { expect } from "chai";
import { ethers } from "hardhat";
import { AbiCoder, getAddress, keccak256 } from "ethers";
import { buildTree, leafHash } from "../../../lib/rewards/merkle";
import type { MerkleProofDouble } from "../../../typechain-types";

/** `@openzeppelin/merkle-tree` src/hashes.ts `standardLeafHash(["address", "uint256"], [account, amount])`. */
const standardLeafHash = (account: string, amount: bigint) =>
  keccak256(keccak256(AbiCoder.defaultAbiCoder().encode(["address", "uint256"], [account, amount])));

function accounts(n: number): { account: string; cumulativeWei: bigint }[] {
  return Array.from({ length: n }, (_, i) => ({
    account: getAddress(keccak256(ethers.toUtf8Bytes(`oz-compat-${n}-${i}`)).slice(0, 42)),
    cumulativeWei: BigInt(i) * 10n ** 17n + 1n, // one amount of 1 wei, the rest odd
  })).sort((a, b) => (a.account.toLowerCase() < b.account.toLowerCase() ? -1 : 1));
}

describe("OpenZeppelin compatibility of the rewards tree", function () {
  let oz: MerkleProofDouble;

  before(async function () {
    oz = await ethers.deployContract("MerkleProofDouble");
  });

  it("our leaf is @openzeppelin/merkle-tree's standard leaf hash, including amount 0 and the largest uint256", async function () {
    for (const { account, cumulativeWei } of [
      ...accounts(5),
      { account: getAddress("0x" + "ff".repeat(20)), cumulativeWei: 0n },
      { account: getAddress("0x" + "00".repeat(19) + "01"), cumulativeWei: 2n ** 256n - 1n },
    ]) {
      expect(await leafHash(account, cumulativeWei)).to.equal(standardLeafHash(account, cumulativeWei));
    }
  });

  for (const n of [1, 2, 3, 5, 6, 7, 9, 13, 33]) {
    it(`MerkleProof.verifyCalldata accepts every proof of a ${n}-leaf tree and refuses a changed amount`, async function () {
      const list = accounts(n);
      const tree = await buildTree(list);
      for (let i = 0; i < n; i++) {
        const leaf = standardLeafHash(list[i].account, list[i].cumulativeWei);
        expect(tree.node(0, i)).to.equal(leaf); // leaf order: address order
        expect(await oz.verifyCalldata(tree.proof(i), tree.root(), leaf)).to.equal(true);
        const forged = standardLeafHash(list[i].account, list[i].cumulativeWei + 1n);
        expect(await oz.verifyCalldata(tree.proof(i), tree.root(), forged)).to.equal(false);
      }
    });
  }

  it("carries an odd last node up unchanged: a 3-leaf root is hash(sorted(hash(sorted(l0, l1)), l2))", async function () {
    const list = accounts(3);
    const [l0, l1, l2] = list.map((e) => standardLeafHash(e.account, e.cumulativeWei));
    const pair = (a: string, b: string) =>
      keccak256(ethers.concat(a.toLowerCase() < b.toLowerCase() ? [a, b] : [b, a]));
    const tree = await buildTree(list);
    expect(tree.root()).to.equal(pair(pair(l0, l1), l2));
    expect(tree.proof(2)).to.deep.equal([pair(l0, l1)]);
  });
});
