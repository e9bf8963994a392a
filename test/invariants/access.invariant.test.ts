import { expect } from "chai";
import fc from "fast-check";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { mintVehicle, registryFixture, vehicleInfo } from "../registry/fixtures";

/**
 * Random sequences of data-access actions against 3 vehicles, 3 owners and 3 consumers, with ghost state kept on
 * the side. Each action's outcome (success or the exact custom error) is predicted from the ghost state and
 * checked; after every step the invariants below are checked against the chain:
 *
 * - for each consumer: the capacity's vehiclesAccessed == grant records with non-zero permissions == ghost count;
 * - every reservation left the consumer within the limit in force at that moment;
 * - canRead is false for every grant from an older ownership epoch or past its expiry, and for every grant of a
 *   consumer holding more records than its limit in force (not covered: a lowered limit plays a slash), and
 *   otherwise follows the permission bits; isCovered == (records ≤ limit).
 *
 * FUZZ_RUNS sets the number of sequences (default 40); FUZZ_SEED replays a failing run.
 */

const RUNS = Number(process.env.FUZZ_RUNS ?? 40);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const MAX_STEPS = 30;
const VEHICLES = 3;
const PEOPLE = 3; // owners and consumers

type Action =
  | { kind: "grant"; v: number; c: number; permissions: bigint; ttl: number }
  | { kind: "grantByNonOwner"; v: number; c: number }
  | { kind: "revokeByOwner"; v: number; c: number; pick?: number | null }
  | { kind: "revokeByConsumer"; v: number; c: number; pick?: number | null }
  | { kind: "revokeByOutsider"; v: number; c: number }
  | { kind: "prune"; v: number; c: number; pick?: number | null }
  | { kind: "transfer"; v: number; to: number }
  | { kind: "warp"; seconds: number }
  | { kind: "setLimit"; c: number; limit: number };

const vehicleIndex = fc.nat({ max: VEHICLES - 1 });
const personIndex = fc.nat({ max: PEOPLE - 1 });
/** Most revokes and prunes aim at an existing record (the `pick`-th one); the rest at the pair (v, c). */
const pick = fc.option(fc.nat({ max: VEHICLES * PEOPLE - 1 }), { freq: 4 });
const permissionsArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0n) }, // refused: AccessInvalidGrant
  { weight: 4, arbitrary: fc.nat({ max: 255 }).map((bit) => 1n << BigInt(bit)) },
  { weight: 4, arbitrary: fc.bigInt({ min: 1n, max: (1n << 256n) - 1n }) },
);
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("grant" as const),
      v: vehicleIndex,
      c: personIndex,
      permissions: permissionsArb,
      ttl: fc.oneof(
        { weight: 1, arbitrary: fc.constant(0) },
        { weight: 9, arbitrary: fc.integer({ min: 1, max: 600 }) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("grantByNonOwner" as const), v: vehicleIndex, c: personIndex }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("revokeByOwner" as const), v: vehicleIndex, c: personIndex, pick }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("revokeByConsumer" as const), v: vehicleIndex, c: personIndex, pick }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("revokeByOutsider" as const), v: vehicleIndex, c: personIndex }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("prune" as const), v: vehicleIndex, c: personIndex, pick }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("transfer" as const), v: vehicleIndex, to: personIndex }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("warp" as const), seconds: fc.integer({ min: 1, max: 700 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("setLimit" as const), c: personIndex, limit: fc.nat({ max: 3 }) }),
  },
);

/**
 * A sequence once worth saving: grant, sell, re-grant over the stale record, sell back, prune, expire; then a limit
 * lowered below the grants held (nothing readable) and a revoke back within it.
 */
const REGRESSION: Action[] = [
  { kind: "setLimit", c: 0, limit: 1 },
  { kind: "grant", v: 0, c: 0, permissions: 5n, ttl: 100 },
  { kind: "grant", v: 1, c: 0, permissions: 1n, ttl: 100 }, // over the limit
  { kind: "transfer", v: 0, to: 1 },
  { kind: "grant", v: 0, c: 0, permissions: 2n, ttl: 300 }, // new owner, stale record: no new reservation
  { kind: "transfer", v: 0, to: 0 },
  { kind: "prune", v: 0, c: 0 },
  { kind: "grant", v: 1, c: 0, permissions: 1n, ttl: 50 },
  { kind: "warp", seconds: 51 },
  { kind: "prune", v: 1, c: 0 },
  { kind: "revokeByConsumer", v: 1, c: 0 },
  { kind: "grant", v: 2, c: 0, permissions: 3n, ttl: 500 },
  { kind: "grant", v: 0, c: 0, permissions: 1n, ttl: 500 }, // over the limit of 1
  { kind: "setLimit", c: 0, limit: 2 },
  { kind: "grant", v: 0, c: 0, permissions: 1n, ttl: 500 }, // 2 of 2
  { kind: "setLimit", c: 0, limit: 1 }, // below the grants held: neither is readable
  { kind: "revokeByOwner", v: 0, c: 0 }, // back within the limit: vehicle 2 is readable again
];

interface GhostGrant {
  permissions: bigint;
  expiresAt: bigint;
  epoch: bigint;
  /** Since when the grant has counted without a break (kept by an update of a counting grant). */
  grantedAt: bigint;
}

async function invariantFixture() {
  const ctx = await registryFixture();
  const owners = [ctx.alice, ctx.bob, ctx.carol];
  const consumers = [ctx.consumerA, ctx.consumerB, ctx.consumerC];
  const vehicleIds: bigint[] = [];
  for (let i = 0; i < VEHICLES; i++) {
    vehicleIds.push(await mintVehicle(ctx.vehicles, owners[i], vehicleInfo({}, `FUZZ-VIN-${i}`)));
  }
  const limits = [2, 1, 3];
  for (let i = 0; i < PEOPLE; i++) await ctx.capacity.setLimit(consumers[i].address, limits[i]);
  return { ...ctx, owners, consumers, vehicleIds, limits };
}

async function runSequence(actions: Action[]): Promise<void> {
  const { vehicles, access, capacity, outsider, owners, consumers, vehicleIds, limits } =
    await loadFixture(invariantFixture);

  // Ghost state.
  let now = BigInt(await time.latest());
  const owner = vehicleIds.map((_, i) => i);
  const epoch = vehicleIds.map(() => 0n);
  const limit = [...limits];
  const count = consumers.map(() => 0);
  const grants = new Map<string, GhostGrant>();
  const key = (v: number, c: number) => `${v}:${c}`;

  /** Every transaction gets the next second, so expiry is predictable. */
  const nextBlock = async (): Promise<bigint> => {
    now += 1n;
    await time.setNextBlockTimestamp(now);
    return now;
  };

  const deleteGrant = (v: number, c: number) => {
    grants.delete(key(v, c));
    count[c] -= 1;
  };

  const counts = (v: number, c: number, at: bigint): boolean => {
    const g = grants.get(key(v, c));
    return g !== undefined && g.expiresAt > at && g.epoch === epoch[v];
  };

  /** The (vehicle, consumer) pair an action aims at: the `pick`-th existing record when there is one. */
  const target = (a: { v: number; c: number; pick?: number | null }): { v: number; c: number } => {
    const existing = [...grants.keys()].sort();
    if (a.pick === null || a.pick === undefined || existing.length === 0) return { v: a.v, c: a.c };
    const [v, c] = existing[a.pick % existing.length].split(":").map(Number);
    return { v, c };
  };

  async function step(action: Action): Promise<void> {
    const a = "pick" in action ? { ...action, ...target(action) } : action;
    switch (a.kind) {
      case "grant": {
        const at = await nextBlock();
        const from = owners[owner[a.v]];
        const consumer = consumers[a.c].address;
        const expiresAt = at + BigInt(a.ttl);
        const tx = access.connect(from).grant(vehicleIds[a.v], consumer, a.permissions, expiresAt);
        const existing = grants.get(key(a.v, a.c));
        if (a.permissions === 0n || a.ttl === 0) {
          await expect(tx)
            .to.be.revertedWithCustomError(access, "AccessInvalidGrant")
            .withArgs(a.permissions, expiresAt);
        } else if (existing === undefined && count[a.c] + 1 > limit[a.c]) {
          await expect(tx)
            .to.be.revertedWithCustomError(capacity, "CapacityExceeded")
            .withArgs(consumer, count[a.c], limit[a.c]);
        } else if (existing !== undefined && count[a.c] > limit[a.c]) {
          // L-1: updating a record (counting, stale or expired) runs the capacity check on the units held.
          await expect(tx)
            .to.be.revertedWithCustomError(capacity, "CapacityExceeded")
            .withArgs(consumer, count[a.c], limit[a.c]);
        } else {
          await expect(tx)
            .to.emit(access, "AccessGranted")
            .withArgs(vehicleIds[a.v], consumer, from.address, a.permissions, expiresAt, epoch[a.v]);
          if (existing === undefined) {
            count[a.c] += 1;
            // Never more grants reserved than the capacity in force allowed.
            expect(count[a.c]).to.be.at.most(limit[a.c]);
          }
          const grantedAt = existing !== undefined && counts(a.v, a.c, at) ? existing.grantedAt : at;
          grants.set(key(a.v, a.c), { permissions: a.permissions, expiresAt, epoch: epoch[a.v], grantedAt });
        }
        return;
      }
      case "grantByNonOwner": {
        const at = await nextBlock();
        const stranger = owners[(owner[a.v] + 1) % PEOPLE];
        await expect(access.connect(stranger).grant(vehicleIds[a.v], consumers[a.c].address, 1n, at + 100n))
          .to.be.revertedWithCustomError(access, "AccessNotVehicleOwner")
          .withArgs(vehicleIds[a.v], stranger.address);
        return;
      }
      case "revokeByOwner":
      case "revokeByConsumer": {
        await nextBlock();
        const by = a.kind === "revokeByOwner" ? owners[owner[a.v]] : consumers[a.c];
        const consumer = consumers[a.c].address;
        const tx = access.connect(by).revoke(vehicleIds[a.v], consumer);
        if (!grants.has(key(a.v, a.c))) {
          await expect(tx).to.be.revertedWithCustomError(access, "AccessNoGrant").withArgs(vehicleIds[a.v], consumer);
        } else {
          await expect(tx).to.emit(access, "AccessRevoked").withArgs(vehicleIds[a.v], consumer, by.address);
          deleteGrant(a.v, a.c);
        }
        return;
      }
      case "revokeByOutsider": {
        await nextBlock();
        const consumer = consumers[a.c].address;
        await expect(access.connect(outsider).revoke(vehicleIds[a.v], consumer))
          .to.be.revertedWithCustomError(access, "AccessNotOwnerOrConsumer")
          .withArgs(vehicleIds[a.v], consumer, outsider.address);
        return;
      }
      case "prune": {
        const at = await nextBlock();
        const consumer = consumers[a.c].address;
        const tx = access.connect(outsider).prune(vehicleIds[a.v], consumer);
        if (counts(a.v, a.c, at)) {
          await expect(tx)
            .to.be.revertedWithCustomError(access, "AccessGrantStillValid")
            .withArgs(vehicleIds[a.v], consumer);
        } else if (!grants.has(key(a.v, a.c))) {
          await expect(tx).to.be.revertedWithCustomError(access, "AccessNoGrant").withArgs(vehicleIds[a.v], consumer);
        } else {
          await expect(tx).to.emit(access, "AccessRevoked").withArgs(vehicleIds[a.v], consumer, outsider.address);
          deleteGrant(a.v, a.c);
        }
        return;
      }
      case "transfer": {
        await nextBlock();
        const from = owners[owner[a.v]];
        const to = owners[a.to];
        const tx = vehicles.connect(from).transferFrom(from.address, to.address, vehicleIds[a.v]);
        if (a.to === owner[a.v]) {
          await expect(tx).not.to.emit(vehicles, "OwnershipEpochAdvanced");
        } else {
          epoch[a.v] += 1n;
          await expect(tx)
            .to.emit(vehicles, "OwnershipEpochAdvanced")
            .withArgs(vehicleIds[a.v], epoch[a.v], from.address, to.address);
          owner[a.v] = a.to;
        }
        return;
      }
      case "warp": {
        now += BigInt(a.seconds);
        await time.increaseTo(now); // mines a block at `now`, so views see the new time
        return;
      }
      case "setLimit": {
        await nextBlock();
        await capacity.setLimit(consumers[a.c].address, a.limit);
        limit[a.c] = a.limit;
        return;
      }
    }
  }

  async function checkInvariants(): Promise<void> {
    expect(BigInt(await time.latest())).to.equal(now);
    const epochs = await Promise.all(vehicleIds.map((id) => vehicles.ownershipEpoch(id)));
    const holders = await Promise.all(vehicleIds.map((id) => vehicles.ownerOf(id)));
    expect(epochs).to.deep.equal(epoch);
    expect(holders).to.deep.equal(owner.map((o) => owners[o].address));

    await Promise.all(
      consumers.map(async ({ address: consumer }, c) => {
        const covered = count[c] <= limit[c];
        const [accessed, coveredOnChain, ...pairs] = await Promise.all([
          capacity.vehiclesAccessed(consumer),
          capacity.isCovered(consumer),
          ...vehicleIds.map(async (id, v) => {
            const ghost = grants.get(key(v, c));
            const sampled = [0, 255];
            if (ghost !== undefined) sampled.push(lowestSetBit(ghost.permissions), highestSetBit(ghost.permissions));
            const [onChain, ...readable] = await Promise.all([
              access.grantOf(id, consumer),
              ...sampled.map((t) => access.canRead(consumer, id, t)),
            ]);
            return { v, ghost, onChain, sampled, readable: readable as boolean[] };
          }),
        ]);
        let records = 0;
        for (const { v, ghost, onChain, sampled, readable } of pairs) {
          if (onChain.permissions !== 0n) records++;
          expect(
            [onChain.permissions, onChain.expiresAt, onChain.epoch, onChain.grantedAt],
            `record ${key(v, c)}`,
          ).to.deep.equal(
            ghost === undefined ? [0n, 0n, 0n, 0n] : [ghost.permissions, ghost.expiresAt, ghost.epoch, ghost.grantedAt],
          );
          const live = counts(v, c, now);
          sampled.forEach((t, i) => {
            if (ghost !== undefined && (ghost.epoch < epoch[v] || ghost.expiresAt <= now)) {
              expect(readable[i], `stale or expired grant ${key(v, c)} readable (type ${t})`).to.equal(false);
            }
            // Grants never count beyond what the capacity covers.
            if (!covered) expect(readable[i], `uncovered grant ${key(v, c)} readable (type ${t})`).to.equal(false);
            const bit = ghost !== undefined && ((ghost.permissions >> BigInt(t)) & 1n) === 1n;
            expect(readable[i], `canRead ${key(v, c)} type ${t}`).to.equal(live && bit && covered);
          });
        }
        expect(accessed, `vehiclesAccessed of consumer ${c}`).to.equal(BigInt(records));
        expect(coveredOnChain, `isCovered of consumer ${c}`).to.equal(covered);
        expect(records, `grant records of consumer ${c}`).to.equal(count[c]);
      }),
    );
  }

  await checkInvariants();
  for (const action of actions) {
    await step(action);
    await checkInvariants();
  }
}

function lowestSetBit(x: bigint): number {
  let t = 0;
  while (((x >> BigInt(t)) & 1n) === 0n) t++;
  return t;
}

function highestSetBit(x: bigint): number {
  return x.toString(2).length - 1;
}

describe("DataAccess invariants (random action sequences)", function () {
  it(`hold over ${RUNS} random sequences of up to ${MAX_STEPS} actions, and the saved regression`, async function () {
    await fc.assert(
      fc.asyncProperty(fc.array(actionArb, { minLength: 1, maxLength: MAX_STEPS, size: "max" }), runSequence),
      {
        numRuns: RUNS,
        seed: SEED,
        examples: [[REGRESSION]],
      },
    );
  });
});
