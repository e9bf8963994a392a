import { expect } from "chai";

/** Awaits `promise`, expecting it to fail with an Error whose message matches `pattern`. */
export async function rejects(promise: Promise<unknown>, pattern: RegExp, what = "the promise"): Promise<void> {
  let err: unknown;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${what} to fail`).to.be.instanceOf(Error);
  expect((err as Error).message).to.match(pattern);
}
