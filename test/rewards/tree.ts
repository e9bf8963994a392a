import { ethers } from "hardhat";
import { MerkleTree } from "merkletreejs";

const coder = ethers.AbiCoder.defaultAbiCoder();

/** OpenZeppelin StandardMerkleTree leaf of (account, cumulativeAmount). */
export function leafOf(account: string, amount: bigint): string {
  return ethers.keccak256(ethers.keccak256(coder.encode(["address", "uint256"], [account, amount])));
}

function keccak(data: Buffer): Buffer {
  return Buffer.from(ethers.getBytes(ethers.keccak256(data)));
}

/** A small reference tree (merkletreejs, sorted pairs, pre-hashed leaves in the given order). */
export class TestTree {
  readonly tree: MerkleTree;
  readonly leaves: string[];
  constructor(readonly entries: { account: string; amount: bigint }[]) {
    this.leaves = entries.map((e) => leafOf(e.account, e.amount));
    this.tree = new MerkleTree(this.leaves, keccak, { sortPairs: true });
  }
  get root(): string {
    return this.tree.getHexRoot();
  }
  get total(): bigint {
    return this.entries.reduce((s, e) => s + e.amount, 0n);
  }
  index(account: string): number {
    const i = this.entries.findIndex((e) => e.account.toLowerCase() === account.toLowerCase());
    if (i < 0) throw new Error(`${account} not in tree`);
    return i;
  }
  amount(account: string): bigint {
    return this.entries[this.index(account)].amount;
  }
  proof(account: string): string[] {
    const i = this.index(account);
    return this.tree.getHexProof(this.leaves[i], i);
  }
  /** Layer `layer` (0 = leaves) as hex nodes. */
  layer(layer: number): string[] {
    return this.tree.getLayers()[layer].map((b) => ethers.hexlify(b));
  }
  /** Siblings from the leaf up to `layer` and the anchor (ancestor index + 1) in that layer. */
  shortProof(account: string, layer: number): { anchor: number; proof: string[] } {
    const i = this.index(account);
    const layers = this.tree.getLayers();
    const proof: string[] = [];
    let idx = i;
    for (let l = 0; l < layer; l++) {
      const sibling = idx ^ 1;
      if (sibling < layers[l].length) proof.push(ethers.hexlify(layers[l][sibling]));
      idx >>= 1;
    }
    return { anchor: idx + 1, proof };
  }
}
