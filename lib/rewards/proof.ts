/**
 * Tree geometry and single-proof helpers shared by the Node tools and the claim page (`app/`): nothing here
 * needs Node (no `Buffer`, no `fs`), only ethers' Keccak-256.
 *
 * The tree (see `merkle.ts` for the hashing core): layer 0 is the leaves in ascending order of the lowercase
 * account address; node `j` of layer `l + 1` is `keccak256(min(a, b) ‖ max(a, b))` of nodes `2j` and `2j + 1`
 * of layer `l`, or node `2j` itself, carried up unchanged, when it is the odd last node. The `.tree` file
 * holds every layer back to back after a 32-byte header (see `distribution.ts`).
 */
import { keccak256 } from "ethers";

/** Most nodes of a cached layer (`RewardDistributor.MAX_CACHED_NODES`). */
export const MAX_CACHED_NODES = 1024;
/** Bytes of the `.tree` file's header. */
export const TREE_HEADER_BYTES = 32;
const NODE = 32;

/** Number of nodes in each layer of a tree of `leafCount` leaves, layer 0 (the leaves) first. */
export function layerSizes(leafCount: number): number[] {
  if (!Number.isSafeInteger(leafCount) || leafCount < 1) throw new RangeError(`a tree needs leaves, got ${leafCount}`);
  const sizes = [leafCount];
  while (sizes[sizes.length - 1] > 1) sizes.push(Math.ceil(sizes[sizes.length - 1] / 2));
  return sizes;
}

/** The lowest layer (closest to the leaves) with at most `max` nodes. */
export function cachedLayerIndex(leafCount: number, max = MAX_CACHED_NODES): number {
  return layerSizes(leafCount).findIndex((n) => n <= max);
}

/**
 * Sibling positions of leaf `index` from layer 0 up to (not including) layer `toLayer`:
 * `[layer, position]` pairs, skipping levels where the node was carried up.
 */
export function siblingPositions(leafCount: number, index: number, toLayer?: number): [number, number][] {
  const sizes = layerSizes(leafCount);
  if (!Number.isInteger(index) || index < 0 || index >= leafCount)
    throw new RangeError(`leaf index ${index} out of range [0, ${leafCount})`);
  const top = toLayer ?? sizes.length - 1;
  if (!Number.isInteger(top) || top < 0 || top >= sizes.length) throw new RangeError(`no layer ${toLayer}`);
  const out: [number, number][] = [];
  let i = index;
  for (let l = 0; l < top; l++) {
    const sibling = i ^ 1;
    if (sibling < sizes[l]) out.push([l, sibling]);
    i >>= 1;
  }
  return out;
}

/** Byte offset of node `index` of layer `layer` in the tree file of a `leafCount`-leaf tree. */
export function treeNodeOffset(leafCount: number, layer: number, index: number): number {
  const sizes = layerSizes(leafCount);
  let offset = TREE_HEADER_BYTES;
  for (let l = 0; l < layer; l++) offset += sizes[l] * NODE;
  return offset + index * NODE;
}

/** The leaf of `(account, amount)`: `keccak256(keccak256(abi.encode(account, amount)))`. */
export function leafOf(account: string, amount: bigint): string {
  const encoded = `0x${"0".repeat(24)}${account.slice(2).toLowerCase()}${amount.toString(16).padStart(64, "0")}`;
  return keccak256(keccak256(encoded));
}

/** OpenZeppelin `MerkleProof.processProof` with sorted pairs. */
export function processProofSync(proof: readonly string[], leaf: string): string {
  let node = leaf;
  for (const s of proof) node = keccak256(node < s ? `${node}${s.slice(2)}` : `${s}${node.slice(2)}`);
  return node;
}

/** Index of `account` (any case) in accounts sorted by lowercase address, or -1. */
export function accountIndex(accounts: readonly { account: string }[], account: string): number {
  const key = account.toLowerCase();
  let lo = 0;
  let hi = accounts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = accounts[mid].account.toLowerCase();
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
