import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import { DIMO, NOTICE, PRICE, creditsFixture, deposit, receipt, signed } from "./fixtures";

const RUNS = Number(process.env.FUZZ_RUNS ?? 15);
const SEED = process.env.FUZZ_SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.FUZZ_SEED);

type Op =
  | { kind: "deposit"; c: number; amount: bigint }
  | { kind: "sign"; c: number; n: number; credits: bigint }
  | { kind: "redeem"; c: number; n: number; forge: bigint }
  | { kind: "request"; c: number; bps: number }
  | { kind: "wait" }
  | { kind: "withdraw"; c: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("deposit" as const), c: fc.nat(1), amount: fc.bigInt(1n, DIMO(5)) }),
  fc.record({ kind: fc.constant("sign" as const), c: fc.nat(1), n: fc.nat(1), credits: fc.bigInt(0n, 3_000n) }),
  fc.record({ kind: fc.constant("redeem" as const), c: fc.nat(1), n: fc.nat(1), forge: fc.bigInt(0n, 2n) }),
  fc.record({ kind: fc.constant("request" as const), c: fc.nat(1), bps: fc.integer({ min: 1, max: 10_000 }) }),
  fc.constant({ kind: "wait" as const }),
  fc.record({ kind: fc.constant("withdraw" as const), c: fc.nat(1) }),
);

describe("DataCredits random sequences (fast-check)", function () {
  before(function () {
    console.log(`      fast-check seed ${SEED} (FUZZ_SEED=${SEED} to replay), ${RUNS} runs`);
  });

  it("balance = deposits − redeemed − withdrawn, and no channel is ever charged beyond the consumer's latest signature", async function () {
    this.timeout(300_000);
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
        const f = await loadFixture(creditsFixture);
        const consumers: HardhatEthersSigner[] = [f.consumerA, f.consumerB];
        const nodes: HardhatEthersSigner[] = [f.node1, f.node2];
        // Latest signed cumulative credits and sequence per channel (what the consumer agreed to).
        const latest = new Map<string, { credits: bigint; seq: bigint; sig: string }>();
        const key = (c: number, n: number) => `${c}:${n}`;
        for (const o of ops) {
          if (o.kind === "deposit") {
            const bal = await f.token.balanceOf(consumers[o.c].address);
            if (bal >= o.amount) await deposit(f, consumers[o.c], o.amount);
          } else if (o.kind === "sign") {
            const prev = latest.get(key(o.c, o.n)) ?? { credits: 0n, seq: 0n, sig: "" };
            const r = receipt(consumers[o.c], nodes[o.n], prev.credits + o.credits, prev.seq + 1n);
            const s = await signed(f, consumers[o.c], r);
            latest.set(key(o.c, o.n), { credits: r.cumulativeCredits, seq: r.sequence, sig: s.sig });
          } else if (o.kind === "redeem") {
            const l = latest.get(key(o.c, o.n));
            if (!l) continue;
            // forge 0: the genuine latest receipt; 1: one credit more than signed; 2: the same receipt again.
            const r = receipt(consumers[o.c], nodes[o.n], l.credits + (o.forge === 1n ? 1n : 0n), l.seq);
            await f.credits
              .connect(nodes[o.n])
              .redeem(r, l.sig)
              .catch(() => undefined);
          } else if (o.kind === "request") {
            const { balance } = await f.credits.account(consumers[o.c].address);
            if (balance > 0n) {
              const amount = (balance * BigInt(o.bps)) / 10_000n;
              if (amount > 0n) await f.credits.connect(consumers[o.c]).requestWithdrawal(amount);
            }
          } else if (o.kind === "wait") {
            await time.increase(NOTICE);
          } else {
            await f.credits
              .connect(consumers[o.c])
              .withdraw()
              .catch(() => undefined);
          }
          let total = 0n;
          for (const [ci, c] of consumers.entries()) {
            const a = await f.credits.account(c.address);
            expect(a.balance).to.equal(a.deposited - a.redeemed - a.withdrawn);
            total += a.balance;
            let channelCharges = 0n;
            for (const [ni, n] of nodes.entries()) {
              const ch = await f.credits.channel(c.address, n.address);
              const l = latest.get(key(ci, ni));
              expect(ch.credits).to.be.at.most(l?.credits ?? 0n);
              expect(ch.sequence).to.be.at.most(l?.seq ?? 0n);
              channelCharges += ch.credits * PRICE;
            }
            expect(a.redeemed).to.equal(channelCharges);
          }
          expect(await f.credits.totalBalance()).to.equal(total);
          expect(await f.token.balanceOf(f.creditsAddress)).to.equal(total + (await f.credits.totalUnsettled()));
        }
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
