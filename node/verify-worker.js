// A signature-verification thread of the node (node/verify-pool.ts): the batch's EIP-712 digest and the signer
// recovered from its signature, computed by the same functions the node uses inline (lib/telemetry/format.ts).
// Plain JavaScript so that the thread starts without a TypeScript loader of its own; it registers ts-node (the
// project's runtime) to load the library.
"use strict";
const { parentPort } = require("node:worker_threads");
require("ts-node").register({ transpileOnly: true });
const { batchDigest, recoverSigner } = require("../lib/telemetry/format");

parentPort.on("message", (m) => {
  if (m.ping) return parentPort.postMessage({ id: m.id, digest: "", recovered: null });
  try {
    const digest = batchDigest(m.batch, m.chainId, m.registry);
    parentPort.postMessage({ id: m.id, digest, recovered: recoverSigner(digest, m.signature) });
  } catch (e) {
    parentPort.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
