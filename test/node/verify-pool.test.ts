/**
 * node/verify-pool.ts: batch digests and signer recovery on worker threads give exactly the inline answers (the
 * documented vector of docs/telemetry.md, a wrong key, a high-s form, bytes that are no signature), a dead thread
 * fails only what it held and is replaced, a closed pool refuses.
 */
import { expect } from "chai";
import { keccak256, toUtf8Bytes, Wallet } from "ethers";
import { batchDigest, recoverSigner, signBatch, type TelemetryBatch } from "../../lib/telemetry/format";
import { VerifyPool } from "../../node/verify-pool";

const KEY = keccak256(toUtf8Bytes("DIMO telemetry test vector device key"));
const REGISTRY = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const BATCH: TelemetryBatch = {
  vehicleId: "42",
  deviceId: "7",
  integration: "0x0000000000000000000000000000000000000000",
  sequence: 1,
  startTime: 1764565200,
  endTime: 1764565260,
  signals: [
    { name: "location", timestamp: 1764565200, values: [52520008, 13404954] },
    { name: "odometer", timestamp: 1764565200, values: [123456789] },
    { name: "speed", timestamp: 1764565230, values: [5025] },
    { name: "fuel_level", timestamp: 1764565230, values: [615] },
    { name: "dtc", timestamp: 1764565260, values: [0x0301, 0xc100] },
    { name: "tire_pressure", timestamp: 1764565260, values: [240, 240, 235, 238] },
  ],
};
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function highS(signature: string): string {
  const r = signature.slice(2, 66);
  const s = BigInt("0x" + signature.slice(66, 130));
  const v = signature.slice(130) === "1b" ? "1c" : "1b";
  return "0x" + r + (N - s).toString(16).padStart(64, "0") + v;
}

describe("node/verify-pool (worker threads)", function () {
  this.timeout(60_000);
  let pool: VerifyPool;
  let signature: string;
  const wallet = new Wallet(KEY);

  before(async function () {
    pool = new VerifyPool(2);
    await pool.ready();
    signature = (await signBatch(wallet, BATCH, 31337, REGISTRY)).signature;
  });
  after(async function () {
    await pool.close();
  });

  it("gives the inline digest and signer, for the vector and for what must not recover to its key", async function () {
    const digest = batchDigest(BATCH, 31337, REGISTRY);
    expect(digest).to.equal("0x258a35389f90053a9ea88eb1afdd63b363cbba70d558b5679d7f3cd18e6f7362");
    const other = (await signBatch(Wallet.createRandom(), BATCH, 31337, REGISTRY)).signature;
    const cases = [signature, other, highS(signature), "0x" + "00".repeat(65)];
    const answers = await Promise.all(cases.map((s) => pool.verify(BATCH, 31337, REGISTRY, s)));
    expect(answers).to.deep.equal(cases.map((s) => ({ digest, recovered: recoverSigner(digest, s) })));
    expect(answers.map((a) => a.recovered)).to.deep.equal([wallet.address, answers[1].recovered, null, null]);
    expect(answers[1].recovered).to.not.equal(wallet.address);
    // Another domain: another digest, from the threads as inline.
    expect((await pool.verify(BATCH, 1, REGISTRY, signature)).digest).to.equal(batchDigest(BATCH, 1, REGISTRY));
  });

  it("answers many concurrent requests each with its own batch's answer", async function () {
    const batches = Array.from({ length: 40 }, (_, i) => ({ ...BATCH, sequence: i + 1 }));
    const signed = await Promise.all(batches.map((b) => signBatch(wallet, b, 31337, REGISTRY)));
    const answers = await Promise.all(signed.map((s) => pool.verify(s.batch, 31337, REGISTRY, s.signature)));
    answers.forEach((a, i) => {
      expect(a.digest).to.equal(batchDigest(batches[i], 31337, REGISTRY));
      expect(a.recovered).to.equal(wallet.address);
    });
  });

  it("fails what a dead thread held, replaces it, and answers again", async function () {
    const slots = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
    const pending = pool.verify(BATCH, 31337, REGISTRY, signature).then(
      () => undefined,
      (e: Error) => e,
    );
    const dead = slots.map((s) => s.worker);
    await Promise.all(dead.map((w) => w.terminate()));
    const failed = await pending;
    // Either the thread answered before it was stopped, or the request failed with the thread's exit.
    if (failed) expect(failed.message).to.match(/^verify thread exited with code \d+$/);
    expect(slots.map((s) => s.worker)).to.satisfy((ws: unknown[]) => ws.every((w) => !dead.includes(w as never)));
    await pool.ready();
    expect((await pool.verify(BATCH, 31337, REGISTRY, signature)).recovered).to.equal(wallet.address);
  });

  it("computes inline with no threads, and a closed pool refuses", async function () {
    const inline = new VerifyPool(0);
    expect(await inline.verify(BATCH, 31337, REGISTRY, signature)).to.deep.equal({
      digest: batchDigest(BATCH, 31337, REGISTRY),
      recovered: wallet.address,
    });
    const closing = new VerifyPool(1);
    await closing.ready();
    await closing.close();
    let refused: Error | undefined;
    try {
      await closing.verify(BATCH, 31337, REGISTRY, signature);
    } catch (e) {
      refused = e as Error;
    }
    expect(refused?.message).to.equal("verify pool closed");
    expect(() => new VerifyPool(-1)).to.throw("verify threads: -1 is not a count");
  });
});
