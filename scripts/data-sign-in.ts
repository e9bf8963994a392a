/**
 * Signs a sign-in message for the node's read API (docs/data-api.md): reads the `POST /v1/auth/nonce` answer on
 * stdin, builds the EIP-4361 message for its domain, URI, chain and nonce (valid 300 s) and prints the body of
 * `POST /v1/auth/siwe`, `{"message": …, "signature": …}`, signed with the key in CONSUMER_KEY (never printed).
 *   curl -s -X POST $NODE/v1/auth/nonce | CONSUMER_KEY=0x… npx ts-node --transpile-only scripts/data-sign-in.ts
 */
import fs from "node:fs";
import { Wallet } from "ethers";
import { buildSignInMessage } from "../lib/consent/siwe";

async function main(): Promise<void> {
  const key = process.env.CONSUMER_KEY;
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key)) throw new Error("CONSUMER_KEY: expected 0x + 64 hex digits");
  const n = JSON.parse(fs.readFileSync(0, "utf8")) as { nonce: string; domain: string; uri: string; chainId: number };
  const wallet = new Wallet(key);
  const now = Math.floor(Date.now() / 1000);
  const message = buildSignInMessage({
    domain: n.domain,
    uri: n.uri,
    chainId: n.chainId,
    address: wallet.address,
    nonce: n.nonce,
    issuedAt: now,
    expiresAt: now + 300,
  });
  process.stdout.write(`${JSON.stringify({ message, signature: await wallet.signMessage(message) })}\n`);
}

main().catch((e: Error) => {
  process.stderr.write(`data-sign-in: ${e.message}\n`);
  process.exit(1);
});
