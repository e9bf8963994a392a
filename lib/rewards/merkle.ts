/**
 * The reward distributor's Merkle tree, built on flat byte buffers.
 *
 * Leaves (OpenZeppelin StandardMerkleTree encoding, as `IRewardDistributor` checks them):
 *   `leaf = keccak256(keccak256(abi.encode(address account, uint256 cumulativeAmount)))`,
 * in ascending order of the lowercase account address (the caller sorts; `buildTree` checks it).
 *
 * Layers (the merkletreejs rule, `new MerkleTree(leaves, keccak256, { sortPairs: true })` with pre-hashed
 * leaves): layer 0 is the leaves; node `j` of layer `l + 1` is `keccak256(min(a, b) ‖ max(a, b))` of nodes
 * `2j` and `2j + 1` of layer `l`, or node `2j` itself, carried up unchanged, when it is the odd last node.
 * The top layer holds the root. A proof lists the existing siblings from the leaf upwards (none on a level
 * where the node was carried up), so it verifies with OpenZeppelin `MerkleProof.verify`.
 *
 * Cached layer: the publisher posts the lowest layer with at most `MAX_CACHED_NODES` nodes beside the root
 * (layer 10 of a million-leaf tree). The ancestor of leaf `i` in layer `L` is node `i >> L` (carrying a node
 * up keeps `⌊i / 2⌋`), so a claim proves up to that node with the siblings of layers `0 … L - 1` and
 * `anchor = (i >> L) + 1`.
 *
 * Hashing uses one hash-wasm Keccak instance (createKeccak(256), then init/update/digest("binary") per
 * node) over flat Uint8Arrays (a layer is n × 32 bytes): the 64-byte `abi.encode` preimages are written with
 * Node's native hex decoding, leaves and pairs are hashed from reused scratch bytes. ethers' ABI coder and
 * `keccak256` per leaf, with merkletreejs on top, are about 20 times slower at a million vehicles (see
 * bench/rewards.ts). `buildTreeInWorker` runs the same hashing core in a worker thread.
 */
import { Worker } from "node:worker_threads";
import { createKeccak, type IHasher } from "hash-wasm";
import { cachedLayerIndex, layerSizes, MAX_CACHED_NODES, siblingPositions } from "./proof";

export { cachedLayerIndex, layerSizes, MAX_CACHED_NODES, siblingPositions };

const NODE = 32; // bytes per node

let hasherPromise: Promise<IHasher> | undefined;

/** The shared Keccak-256 hasher (hash-wasm; the WASM instance is created once per process). */
export function keccakHasher(): Promise<IHasher> {
  hasherPromise ??= createKeccak(256);
  return hasherPromise;
}

const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX_VALUE[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX_VALUE[65 + c] = 10 + c;
  HEX_VALUE[97 + c] = 10 + c;
}

/** `0x`-hex of `bytes[offset, offset + length)` (a flat string). */
export function toHex(bytes: Uint8Array, offset = 0, length = bytes.length - offset): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset + offset, length).toString("hex")}`;
}

/** Bytes of a `0x`-hex string of exactly `length` bytes (throws otherwise). */
export function fromHex(hex: string, length: number): Uint8Array {
  if (hex.length !== 2 + 2 * length || !/^0x[0-9a-fA-F]*$/.test(hex))
    throw new Error(`expected 0x and ${2 * length} hex digits, got "${hex}"`);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++)
    out[i] = (HEX_VALUE[hex.charCodeAt(2 + 2 * i)] << 4) | HEX_VALUE[hex.charCodeAt(3 + 2 * i)];
  return out;
}

/** Copies node `a` and node `b` (32 bytes each, any buffers) into `scratch` in sorted (unsigned) order. */
function sortedPairInto(a: Uint8Array, ao: number, b: Uint8Array, bo: number, scratch: Uint8Array): void {
  let k = 0;
  while (k < NODE && a[ao + k] === b[bo + k]) k++;
  const aFirst = k === NODE || a[ao + k] < b[bo + k];
  const [x, xo, y, yo] = aFirst ? [a, ao, b, bo] : [b, bo, a, ao];
  for (let i = 0; i < NODE; i++) {
    scratch[i] = x[xo + i];
    scratch[NODE + i] = y[yo + i];
  }
}

/** Writes the 64-byte `abi.encode(account, amount)` at `out[offset…]`. */
export function writePreimage(account: string, amount: bigint, out: Uint8Array, offset: number): void {
  const buf = Buffer.isBuffer(out) ? out : Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  writePreimageInto(buf, account, amount, offset);
}

/** `writePreimage` on a Buffer, with Node's native hex decoding (twice as fast as a JS loop). */
function writePreimageInto(buf: Buffer, account: string, amount: bigint, offset: number): void {
  if (account.length !== 42 || account.charCodeAt(0) !== 48 || (account.charCodeAt(1) | 32) !== 120)
    throw new Error(`not a 0x address: "${account}"`);
  if (amount < 0n || amount >= 1n << 256n) throw new RangeError(`not a uint256: ${amount}`);
  buf.fill(0, offset, offset + 12);
  // `write` stops at the first non-hex digit: fewer than 20 bytes means a malformed address
  if (buf.write(account.slice(2), offset + 12, 20, "hex") !== 20) throw new Error(`not a 0x address: "${account}"`);
  buf.write(amount.toString(16).padStart(64, "0"), offset + 32, 32, "hex");
}

/**
 * Writes the leaf hash of `(account, amount)` into `out[offset…]`. `scratch` is a 64-byte buffer (reused).
 */
export function writeLeaf(
  h: IHasher,
  account: string,
  amount: bigint,
  out: Uint8Array,
  offset: number,
  scratch = new Uint8Array(64),
): void {
  writePreimage(account, amount, scratch, 0);
  h.init();
  h.update(scratch);
  const inner = h.digest("binary");
  h.init();
  h.update(inner);
  out.set(h.digest("binary"), offset);
}

/**
 * The hashing core: every layer of the tree, from either the leaves' 64-byte preimages
 * (`abi.encode(account, amount)`, hashed twice into leaves) or the 32-byte leaves themselves.
 *
 * Self-contained on purpose (it uses nothing from this module): `buildTreeInWorker` runs its source text in
 * a worker thread, so the main thread and the worker hash with the very same code.
 */
export function hashTreeLayers(
  h: { init(): unknown; update(data: Uint8Array): unknown; digest(outputType: "binary"): Uint8Array },
  data: Uint8Array,
  isPreimages: boolean,
): Uint8Array[] {
  const N = 32;
  let leaves = data;
  if (isPreimages) {
    const n = data.length / 64;
    leaves = new Uint8Array(n * N);
    for (let i = 0; i < n; i++) {
      h.init();
      h.update(data.subarray(i * 64, i * 64 + 64));
      const inner = h.digest("binary");
      h.init();
      h.update(inner);
      leaves.set(h.digest("binary"), i * N);
    }
  }
  const scratch = new Uint8Array(2 * N);
  const layers = [leaves];
  let below = leaves;
  while (below.length > N) {
    const n = below.length / N;
    const up = new Uint8Array(Math.ceil(n / 2) * N);
    for (let j = 0; 2 * j < n; j++) {
      const a = 2 * j * N;
      if (2 * j + 1 < n) {
        // sorted pair: the smaller node (unsigned bytes) first
        let k = 0;
        while (k < N && below[a + k] === below[a + N + k]) k++;
        const x = k === N || below[a + k] < below[a + N + k] ? a : a + N;
        const y = x === a ? a + N : a;
        for (let i = 0; i < N; i++) {
          scratch[i] = below[x + i];
          scratch[N + i] = below[y + i];
        }
        h.init();
        h.update(scratch);
        up.set(h.digest("binary"), j * N);
      } else {
        up.set(below.subarray(a, a + N), j * N); // the odd last node is carried up
      }
    }
    layers.push(up);
    below = up;
  }
  return layers;
}

/** The leaf hash of `(account, amount)` as `0x`-hex. */
export async function leafHash(account: string, amount: bigint): Promise<string> {
  const out = new Uint8Array(NODE);
  writeLeaf(await keccakHasher(), account, amount, out, 0);
  return toHex(out);
}

/** A built tree: every layer as one flat buffer of 32-byte nodes. */
export class MerkleLayers {
  constructor(readonly layers: Uint8Array[]) {
    if (layers.length === 0 || layers[layers.length - 1].length !== NODE) throw new Error("malformed layers");
  }

  get leafCount(): number {
    return this.layers[0].length / NODE;
  }

  /** The root, `0x`-hex. */
  root(): string {
    return toHex(this.layers[this.layers.length - 1]);
  }

  node(layer: number, index: number): string {
    return toHex(this.layers[layer], index * NODE, NODE);
  }

  /** The full proof of leaf `index` (siblings from the leaf to the root), as for OpenZeppelin `MerkleProof`. */
  proof(index: number): string[] {
    return siblingPositions(this.leafCount, index).map(([l, p]) => this.node(l, p));
  }

  /** The lowest layer with at most `max` nodes: its number and its nodes back to back. */
  cachedLayer(max = MAX_CACHED_NODES): { layer: number; nodes: Uint8Array } {
    const layer = cachedLayerIndex(this.leafCount, max);
    return { layer, nodes: this.layers[layer] };
  }

  /** The proof of leaf `index` up to its ancestor in `layer`, and that ancestor's `anchor` (position + 1). */
  proofToLayer(index: number, layer: number): { anchor: number; proof: string[] } {
    const proof = siblingPositions(this.leafCount, index, layer).map(([l, p]) => this.node(l, p));
    return { anchor: (index >> layer) + 1, proof };
  }
}

/** Builds every layer above `leaves` (n × 32 bytes, already hashed). */
export function buildLayers(h: IHasher, leaves: Uint8Array): MerkleLayers {
  if (leaves.length === 0 || leaves.length % NODE !== 0)
    throw new RangeError("leaves must be a non-empty n × 32 bytes");
  return new MerkleLayers(hashTreeLayers(h, leaves, false));
}

/**
 * The 64-byte leaf preimages of `(account, cumulativeWei)` entries, which must be in strictly ascending
 * order of the lowercase address (no duplicates).
 */
export function encodePreimages(entries: readonly { account: string; cumulativeWei: bigint }[]): Uint8Array {
  if (entries.length === 0) throw new RangeError("a tree needs leaves");
  const out = new Uint8Array(entries.length * 64);
  const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < entries.length; i++) {
    const o = i * 64;
    writePreimageInto(buf, entries[i].account, entries[i].cumulativeWei, o);
    if (i > 0) {
      // address bytes are at o+12 … o+31: compare with the previous entry's
      let k = 12;
      while (k < 32 && out[o + k] === out[o - 64 + k]) k++;
      if (k === 32 || out[o + k] < out[o - 64 + k])
        throw new Error(`accounts must be in strictly ascending lowercase order: ${entries[i].account} at ${i}`);
    }
  }
  return out;
}

/**
 * Builds the tree of `(account, cumulativeWei)` entries, which must be in strictly ascending order of the
 * lowercase address (no duplicates), on this thread.
 */
export async function buildTree(entries: readonly { account: string; cumulativeWei: bigint }[]): Promise<MerkleLayers> {
  const h = await keccakHasher();
  return new MerkleLayers(hashTreeLayers(h, encodePreimages(entries), true));
}

/**
 * Same as `buildTree`, but the hashing runs in a worker thread (its own hash-wasm instance), so the caller's
 * thread is free meanwhile (e.g. to write the distribution JSON). The preimages are encoded before this
 * returns: `entries` may change afterwards.
 */
export function buildTreeInWorker(
  entries: readonly { account: string; cumulativeWei: bigint }[],
): Promise<MerkleLayers> {
  const preimages = encodePreimages(entries); // moved (transferred) to the worker, not copied
  const source = `
    const { parentPort, workerData } = require("node:worker_threads");
    const { createKeccak } = require(${JSON.stringify(require.resolve("hash-wasm"))});
    const hashTreeLayers = ${hashTreeLayers.toString()};
    createKeccak(256).then((h) => {
      const layers = hashTreeLayers(h, workerData.preimages, true);
      parentPort.postMessage(layers, layers.map((l) => l.buffer));
    });
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(source, {
      eval: true,
      workerData: { preimages },
      transferList: [preimages.buffer as ArrayBuffer],
    });
    let done = false;
    worker.once("message", (layers: Uint8Array[]) => {
      done = true;
      resolve(new MerkleLayers(layers.map((l) => new Uint8Array(l.buffer, l.byteOffset, l.byteLength))));
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (!done) reject(new Error(`tree worker exited with code ${code}`));
    });
  });
}

/**
 * OpenZeppelin `MerkleProof.processProof` (sorted pairs): the root that `proof` leads to from `leaf`.
 * With `anchor`-style short proofs, compare the result with the cached layer's node instead of the root.
 */
export async function processProof(proof: readonly string[], leaf: string): Promise<string> {
  const h = await keccakHasher();
  const scratch = new Uint8Array(2 * NODE);
  let node = fromHex(leaf, NODE);
  for (const sibling of proof) {
    const s = fromHex(sibling, NODE);
    sortedPairInto(node, 0, s, 0, scratch);
    h.init();
    h.update(scratch);
    node = h.digest("binary");
  }
  return toHex(node);
}
