/**
 * Signature verification off the event loop: the EIP-712 digest and the recovery of a batch's signer are the
 * bulk of ingest's CPU (docs/telemetry.md "Node"); a pool of worker threads computes them while the event loop
 * parses, checks and stores other batches, so ingest uses more than one core. The answers are exactly the inline
 * functions' (`batchDigest`, `recoverSigner`): the worker calls them.
 *
 * `threads: 0` (what tests use by default) computes inline. A worker that dies fails the batches it held
 * (the node answers 500, nothing stored) and is replaced.
 */
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { batchDigest, recoverSigner, type TelemetryBatch } from "../lib/telemetry/format";

export interface Verified {
  digest: string;
  /** The signer, or null when the signature is not a canonical secp256k1 signature. */
  recovered: string | null;
}

interface Pending {
  resolve: (v: Verified) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** Worker threads for a machine: one per core but the event loop's, at least one. */
export function defaultVerifyThreads(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

export class VerifyPool {
  private readonly slots: Slot[] = [];
  private next = 0;
  private id = 0;
  private closed = false;

  constructor(readonly threads: number) {
    if (!Number.isSafeInteger(threads) || threads < 0) throw new Error(`verify threads: ${threads} is not a count`);
    for (let i = 0; i < threads; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(path.join(__dirname, "verify-worker.js")), pending: new Map() };
    slot.worker.on("message", (m: { id: number; digest?: string; recovered?: string | null; error?: string }) => {
      const p = slot.pending.get(m.id);
      if (p === undefined) return;
      slot.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`verify thread: ${m.error}`));
      else p.resolve({ digest: m.digest!, recovered: m.recovered ?? null });
    });
    const fail = (e: Error) => {
      for (const p of slot.pending.values()) p.reject(e);
      slot.pending.clear();
      if (this.closed) return;
      const i = this.slots.indexOf(slot);
      if (i >= 0) this.slots[i] = this.spawn();
    };
    slot.worker.on("error", fail);
    slot.worker.on("exit", (code) => {
      if (!this.closed) fail(new Error(`verify thread exited with code ${code}`));
    });
    return slot;
  }

  /** The batch's digest and recovered signer, from a worker (the least busy) or inline when the pool is empty. */
  verify(batch: TelemetryBatch, chainId: number, registry: string, signature: string): Promise<Verified> {
    if (this.closed) return Promise.reject(new Error("verify pool closed"));
    if (this.slots.length === 0) {
      const digest = batchDigest(batch, chainId, registry);
      return Promise.resolve({ digest, recovered: recoverSigner(digest, signature) });
    }
    let slot = this.slots[this.next++ % this.slots.length];
    for (const s of this.slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = ++this.id;
    return new Promise<Verified>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, batch, chainId, registry, signature });
    });
  }

  /** Resolves once every thread has started and loaded the library (a round trip to each). */
  async ready(): Promise<void> {
    await Promise.all(
      this.slots.map(
        (slot) =>
          new Promise<Verified>((resolve, reject) => {
            const id = ++this.id;
            slot.pending.set(id, { resolve, reject });
            slot.worker.postMessage({ id, ping: true });
          }),
      ),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const s of slots) {
      for (const p of s.pending.values()) p.reject(new Error("verify pool closed"));
      s.pending.clear();
    }
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
