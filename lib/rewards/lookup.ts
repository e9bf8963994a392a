/**
 * One account's entry in a published week file, without downloading the file: for the claim page, which
 * reads the files from a static host with HTTP Range requests. Nothing here needs Node.
 *
 * The JSON file has a canonical layout (`distribution.ts`): the header lines, the line `  "accounts": [`, then
 * one account per line (`    {"account":"0x…",…}`), ascending by lowercase address, then `  ],` and the
 * vehicles. So the header is the text before that line, and an account is found by a binary search over byte
 * offsets: probe the middle, skip to the next line start, compare that line's address, halve. Reads go
 * through a cache of aligned blocks, so the last probes (close together) cost no request: at most
 * `log2(accounts)` requests of 4 KiB per lookup (11,826 accounts in 5.3 MB: 11 on average, 13 at most).
 *
 * What is read is not trusted: the caller checks the header's root against the chain, the cached layer
 * against the root (`cachedLayerRoot`) and the account's leaf against the cached layer (`proveEntry`), so a
 * number from the file is shown only once the chain's root commits to it.
 */
import { keccak256 } from "ethers";
import { leafOf, processProofSync, siblingPositions, treeNodeOffset } from "./proof";
import type { VehiclePointsBreakdown } from "./distribution";

export const ACCOUNTS_OPEN_LINE = '  "accounts": [';
const ACCOUNT_PREFIX = '    {"account":"';
const BLOCK = 4096;
const NEWLINE = 10;

/** What a fetch of `[start, end)` returned: the bytes from `offset` (a server may send the whole file). */
export interface Fetched {
  offset: number;
  bytes: Uint8Array;
  /** Size of the whole file, when known (from `Content-Range`, or a whole-file answer). */
  size?: number;
}

/**
 * Random access to a file through a fetcher of byte ranges, cached in aligned 4 KiB blocks.
 * `requests` and `bytesFetched` count what the fetcher was asked.
 */
export class RangeFile {
  private readonly blocks = new Map<number, Uint8Array>();
  requests = 0;
  bytesFetched = 0;

  constructor(
    readonly name: string,
    public size: number,
    private readonly fetcher: (start: number, end: number) => Promise<Fetched>,
  ) {}

  /** A file held in memory (a whole download, or a test). */
  static of(name: string, bytes: Uint8Array): RangeFile {
    const f = new RangeFile(name, bytes.length, () => Promise.reject(new Error("unreachable")));
    f.store({ offset: 0, bytes });
    return f;
  }

  /** Adds fetched bytes to the cache (only whole blocks, or the file's last block). */
  store(got: Fetched): void {
    if (got.size !== undefined) this.size = got.size;
    const end = got.offset + got.bytes.length;
    for (let b = Math.ceil(got.offset / BLOCK); b * BLOCK < end; b++) {
      const from = b * BLOCK;
      const to = Math.min(from + BLOCK, this.size);
      if (to > end) break;
      this.blocks.set(b, got.bytes.subarray(from - got.offset, to - got.offset));
    }
  }

  /** Bytes `[start, min(end, size))`. */
  async read(start: number, end: number): Promise<Uint8Array> {
    end = Math.min(end, this.size);
    if (start >= end) return new Uint8Array(0);
    const first = Math.floor(start / BLOCK);
    const last = Math.floor((end - 1) / BLOCK);
    for (let b = first; b <= last; b++) {
      if (this.blocks.has(b)) continue;
      let e = b;
      while (e + 1 <= last && !this.blocks.has(e + 1)) e++;
      const from = b * BLOCK;
      const to = Math.min((e + 1) * BLOCK, this.size);
      this.requests++;
      const got = await this.fetcher(from, to);
      this.bytesFetched += got.bytes.length;
      this.store(got);
      for (let k = b; k <= e; k++)
        if (!this.blocks.has(k)) throw new Error(`${this.name}: bytes ${from}-${to - 1} are missing from the answer`);
      b = e;
    }
    const out = new Uint8Array(end - start);
    for (let b = first; b <= last; b++) {
      const block = this.blocks.get(b)!;
      const from = Math.max(start, b * BLOCK);
      const to = Math.min(end, b * BLOCK + block.length);
      out.set(block.subarray(from - b * BLOCK, to - b * BLOCK), from - start);
    }
    return out;
  }
}

const decoder = new TextDecoder();

export interface WeekHeader {
  schema: string;
  chainId: number;
  network: string;
  week: number;
  root: string;
  cumulativeTotalWei: string;
  tree: { file: string; leafCount: number; layerCount: number };
  cachedLayer: { layer: number; nodes: string[] };
  /** Byte offset of the first account line. */
  accountsStart: number;
}

/** Reads and parses the header (everything before `  "accounts": [`), in growing chunks. */
export async function readWeekHeader(f: RangeFile): Promise<WeekHeader> {
  const marker = `\n${ACCOUNTS_OPEN_LINE}\n`;
  let text = "";
  let at = -1;
  for (let len = 64 * 1024; at < 0; len *= 2) {
    text = decoder.decode(await f.read(0, len));
    at = text.indexOf(marker);
    if (at < 0 && len >= f.size)
      throw new Error(`${f.name}: not a distribution file (no line '${ACCOUNTS_OPEN_LINE}')`);
  }
  let h: WeekHeader;
  try {
    h = JSON.parse(`${text.slice(0, at).replace(/,$/, "")}\n}`) as WeekHeader;
  } catch (e) {
    throw new Error(`${f.name}: the header is not JSON (${(e as Error).message})`);
  }
  const isHash = (v: unknown) => typeof v === "string" && /^0x[0-9a-f]{64}$/.test(v);
  if (!Number.isSafeInteger(h.week) || h.week < 0) throw new Error(`${f.name} week: expected a week number`);
  if (!isHash(h.root)) throw new Error(`${f.name} root: expected a 32-byte hex root`);
  if (!h.tree || !Number.isSafeInteger(h.tree.leafCount) || h.tree.leafCount < 1 || typeof h.tree.file !== "string")
    throw new Error(`${f.name} tree: expected the tree file and its leaf count`);
  if (!h.cachedLayer || !Array.isArray(h.cachedLayer.nodes) || !h.cachedLayer.nodes.every(isHash))
    throw new Error(`${f.name} cachedLayer: expected a layer index and 32-byte nodes`);
  // The marker's text is ASCII, so its character offset is its byte offset only if the header is ASCII too.
  const prefix = new TextEncoder().encode(text.slice(0, at + marker.length));
  h.accountsStart = prefix.length;
  return h;
}

/** The line starting at byte `start` (without its newline) and the offset after its newline. */
async function lineAt(f: RangeFile, start: number, want = Infinity): Promise<{ text: string; next: number }> {
  const parts: Uint8Array[] = [];
  let pos = start;
  let total = 0;
  for (let len = 512; pos < f.size; len *= 2) {
    const chunk = await f.read(pos, pos + len);
    const nl = chunk.indexOf(NEWLINE);
    if (nl >= 0) {
      parts.push(chunk.subarray(0, nl));
      return { text: join(parts, total + nl), next: pos + nl + 1 };
    }
    parts.push(chunk);
    total += chunk.length;
    pos += chunk.length;
    if (total >= want) return { text: join(parts, total), next: -1 };
  }
  return { text: join(parts, total), next: f.size };
}

function join(parts: Uint8Array[], length: number): string {
  if (parts.length === 1) return decoder.decode(parts[0].subarray(0, length));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return decoder.decode(all.subarray(0, length));
}

/** First line start at or after `pos` (a line starts after a newline). */
async function nextLineStart(f: RangeFile, pos: number): Promise<number> {
  let from = pos - 1;
  for (let len = 512; from < f.size; len *= 2) {
    const chunk = await f.read(from, from + len);
    const nl = chunk.indexOf(NEWLINE);
    if (nl >= 0) return from + nl + 1;
    from += chunk.length;
  }
  return f.size;
}

/** The lowercase address of an account line, or undefined for any other line (the end of the accounts). */
function keyOf(lineStart: string): string | undefined {
  if (!lineStart.startsWith(ACCOUNT_PREFIX)) return undefined;
  return lineStart.slice(ACCOUNT_PREFIX.length, ACCOUNT_PREFIX.length + 42).toLowerCase();
}

/**
 * The account's line, parsed as the file has it (amounts as decimal strings), or undefined when the file has
 * no line for it. `accountsStart` is `WeekHeader.accountsStart`.
 */
export async function findAccountLine(
  f: RangeFile,
  accountsStart: number,
  account: string,
): Promise<Record<string, unknown> | undefined> {
  const target = account.toLowerCase();
  let lo = accountsStart; // a line start; every account line before it sorts before the target
  let hi = f.size; // every line starting at or after it sorts after the target (or is not an account)
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const start = mid === lo ? lo : await nextLineStart(f, mid);
    if (start >= hi) {
      hi = mid;
      continue;
    }
    const head = await lineAt(f, start, ACCOUNT_PREFIX.length + 42);
    const key = keyOf(head.text);
    if (key === undefined || key > target) hi = start;
    else {
      const line = head.next >= 0 ? head : await lineAt(f, start);
      if (key === target) {
        const text = line.text.trim().replace(/,$/, "");
        try {
          return JSON.parse(text) as Record<string, unknown>;
        } catch (e) {
          throw new Error(`${f.name}: the line of ${account} is not JSON (${(e as Error).message})`);
        }
      }
      lo = line.next;
    }
  }
  return undefined;
}

/** The root of a cached layer (pairs hashed sorted, an odd last node carried up), as the contract checks it. */
export function cachedLayerRoot(nodes: readonly string[]): string {
  if (nodes.length === 0) throw new Error("an empty layer has no root");
  let layer = [...nodes];
  while (layer.length > 1) {
    const up: string[] = [];
    for (let j = 0; j < layer.length; j += 2) {
      if (j + 1 === layer.length) up.push(layer[j]);
      else {
        const [a, b] = layer[j] < layer[j + 1] ? [layer[j], layer[j + 1]] : [layer[j + 1], layer[j]];
        up.push(keccak256(`${a}${b.slice(2)}`));
      }
    }
    layer = up;
  }
  return layer[0];
}

const hex = (b: Uint8Array) => `0x${Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("")}`;

/**
 * Proves `(account, cumulativeWei)` at leaf `index` of the week: reads the siblings up to the cached layer from
 * the `.tree` file and checks that they reach the cached node (or the root when no layer is cached). The header's
 * cached layer must already be checked against the root. Returns the claim's `anchor` and `proof`.
 */
export async function proveEntry(
  tree: RangeFile,
  h: Pick<WeekHeader, "root" | "tree" | "cachedLayer">,
  account: string,
  cumulativeWei: bigint,
  index: number,
): Promise<{ anchor: number; proof: string[] }> {
  const n = h.tree.leafCount;
  if (!Number.isSafeInteger(index) || index < 0 || index >= n)
    throw new Error(`${tree.name}: leaf index ${index} of ${account} is outside the tree (${n} leaves)`);
  const cached = h.cachedLayer.nodes.length > 0;
  const L = cached ? h.cachedLayer.layer : undefined;
  const proof: string[] = [];
  for (const [layer, i] of siblingPositions(n, index, L)) {
    const at = treeNodeOffset(n, layer, i);
    const node = await tree.read(at, at + 32);
    if (node.length !== 32) throw new Error(`${tree.name}: node ${i} of layer ${layer} is missing`);
    proof.push(hex(node));
  }
  const reached = processProofSync(proof, leafOf(account, cumulativeWei));
  if (!cached) {
    if (reached !== h.root) throw new Error(`${tree.name}: the proof of ${account} does not reach the root`);
    return { anchor: 0, proof };
  }
  const anchor = (index >> L!) + 1;
  if (reached !== h.cachedLayer.nodes[anchor - 1])
    throw new Error(`${tree.name}: the proof of ${account} does not reach node ${anchor - 1} of the cached layer`);
  return { anchor, proof };
}

/**
 * A vehicle earning's `points` as a week file holds them: four non-negative integers. `fail(key)` makes the error
 * for the first bad one (each reader names the field its own way). Shared by distribution.ts's reader and the
 * claim page's line parser.
 */
export function readPoints(raw: unknown, fail: (key: keyof VehiclePointsBreakdown) => Error): VehiclePointsBreakdown {
  const p = raw as Record<string, unknown> | undefined;
  const pt = (k: keyof VehiclePointsBreakdown): number => {
    const x = p?.[k];
    if (!Number.isSafeInteger(x) || (x as number) < 0) throw fail(k);
    return x as number;
  };
  return { connection: pt("connection"), streak: pt("streak"), dataTypes: pt("dataTypes"), green: pt("green") };
}
