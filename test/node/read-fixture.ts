/**
 * The node's read side over the staking suite on the in-process Hardhat network: a node (not listening: use
 * `inject`) with the data API wired to a ConsentIndex over the suite's VehicleRegistry, DataAccess and
 * ConsumerStaking, a clock the test sets, and helpers to sign in. Shared by test/node/read-*.test.ts.
 */
import { ethers } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { CONSENT_INDEX_DEFAULTS, ConsentIndex } from "../../lib/consent/chain-index";
import { buildSignInMessage, generateTokenKey, parseTokenKey } from "../../lib/consent/siwe";
import { NODE_DEFAULTS } from "../../lib/telemetry/settings";
import { RegistryIndex } from "../../node/registry-index";
import { buildNode } from "../../node/server";
import type { TelemetryStore } from "../../node/store";
import type { StakingContext } from "../staking/fixtures";

export const DOMAIN = "data.dimo.test";
export const URI = "https://data.dimo.test";

export async function readNodeOver(f: StakingContext, store: TelemetryStore, clock: { now: number }) {
  const chainId = Number((await ethers.provider.getNetwork()).chainId);
  const registry = f.record.contracts.VehicleRegistry.address;
  const index = new RegistryIndex(ethers.provider, registry, store, {
    confirmations: 0,
    maxStaleBlocks: NODE_DEFAULTS.maxStaleBlocks,
    logPageBlocks: 2_000,
    maxPollAgeMs: 60_000,
  });
  const consent = new ConsentIndex(
    ethers.provider,
    { vehicles: registry, access: await f.access.getAddress(), staking: f.stakingAddress },
    { ...CONSENT_INDEX_DEFAULTS, fromBlock: 0 },
  );
  await consent.poll();
  const tokenKey = parseTokenKey(generateTokenKey(), "test", "tokenKey");
  const now = () => clock.now;
  const app = buildNode({
    store,
    index,
    chainId,
    registry,
    now,
    dataApi: { siwe: { domain: DOMAIN, uri: URI, chainId }, tokenKey, consent, provider: ethers.provider },
  });
  /** Signs in `signer` (or, for a contract wallet, `signer` signing for `address`); returns the answer. */
  async function signIn(signer: HardhatEthersSigner, address = signer.address) {
    const n = (await app.inject({ method: "POST", url: "/v1/auth/nonce" })).json();
    const message = buildSignInMessage({
      domain: DOMAIN,
      uri: URI,
      chainId,
      address,
      nonce: n.nonce,
      issuedAt: clock.now,
      expiresAt: clock.now + 300,
    });
    const signature = await signer.signMessage(message);
    return {
      message,
      signature,
      res: await app.inject({ method: "POST", url: "/v1/auth/siwe", payload: { message, signature } }),
    };
  }
  async function tokenOf(signer: HardhatEthersSigner): Promise<string> {
    const { res } = await signIn(signer);
    if (res.statusCode !== 200) throw new Error(`sign-in failed: ${res.body}`);
    return res.json().token as string;
  }
  return { app, consent, chainId, signIn, tokenOf };
}
