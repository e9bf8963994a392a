/**
 * `npm run demo`: the whole DIMO suite on a synthetic fleet, on the in-process Hardhat network (or
 * `--network localhost` against `npx hardhat node --hostname 127.0.0.1`).
 *
 * Options: DEMO_VEHICLES, DEMO_WEEKS, DEMO_SEED, DEMO_OWNERS (or `npm run demo -- --vehicles 2000 --weeks 12 --seed 7`;
 * `npm run demo` runs this file with ts-node, since `hardhat run` refuses unknown arguments; `npx hardhat run
 * scripts/demo.ts --network localhost` works as well, with the env vars).
 * Deploys through deploySuite into a temporary record directory, mints the fleet, pairs its devices (or attests its
 * integrations), starts the network node (scripts/demo-node.ts: 127.0.0.1, SQLite in the temporary directory, its
 * registry index following the chain), and each week has the devices sign and POST their trips to it (a few faulty
 * ones are refused by reason), derives the week's activity from the stored batches (node/activity.ts, what
 * rewards:activity runs), then runs the snapshot → compute → verify (re-checking the signed batches) → publish →
 * challenge window → activate pipeline on it; a data consumer's stake → grants → freeze → DAO slash → compensation
 * story, the drivers' claims, and ends with the batches accepted and refused per week, a summary and a to-the-wei
 * reconciliation (any mismatch, or a batch the node answered otherwise than expected: exit code 1).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { HardhatRuntimeEnvironment } from "hardhat/types";
import type { Signer, TransactionReceipt } from "ethers";
import { SingleBar, Presets } from "cli-progress";
import { deploySuite } from "./deploy-suite";
import { DEPLOYMENTS_DIR_ENV } from "./registry-context";
import {
  accountIndex,
  readDistribution,
  proofFor,
  withTree,
  writeDistribution,
  type Distribution,
} from "../lib/rewards/distribution";
import { buildTree } from "../lib/rewards/merkle";
import {
  demoOptions,
  isPlugIn,
  makeFleet,
  prng,
  reportedSignals,
  weekPlans,
  type FleetVehicle,
} from "../lib/demo/fleet";
import { parseSnapshotCsv } from "../lib/rewards/activity";
import type { TelemetryCommitment } from "../lib/rewards/distribution";
import { signBatch, type SignedBatch, type TelemetryBatch } from "../lib/telemetry/format";
import type { SignalName } from "../lib/telemetry/settings";
import { simulateWeek, type VirtualVehicle } from "../lib/telemetry/simulator";
import { writeWeekActivity } from "../node/activity";
import { openStore } from "../node/store";
import { consentNodeContracts, startDemoNode, type DemoNode } from "./demo-node";
import { type Allocation, parseDataUseFile } from "../lib/rewards/data-use";
import { parseAccessLog } from "../lib/consent/access-log";
import { DataApiError, DataClient } from "../lib/consent/sdk";
import { formatDimoRounded } from "../lib/units";
import { checkCliArgs, DEMO_CLI, DEMO_FAIL_AT_ENV, usage } from "../lib/demo/cli-args";
import {
  CLAIM_TO_TYPES,
  CONNECTION_CONSENT_TYPES,
  DISTRIBUTOR_DOMAIN_NAME,
  DOMAIN_VERSION,
  PAIR_DEVICE_TYPES,
  REGISTRY_DOMAIN_NAME,
} from "../lib/typed-data";

const DAY = 86_400;
const WEEK = 7 * DAY;
const LOCAL_OWNERS = 10; // local accounts 10..19 own the first vehicles (tasks need local accounts)

export interface DemoOptions {
  vehicles: number;
  weeks: number;
  seed: number;
  owners: number;
  /** Show progress bars and print the summary (default true). */
  verbose?: boolean;
  /**
   * After the reconciliation, publish one more week (`weeks`) and leave its root in the challenge window,
   * as the claim page's "pending" state needs (`npm run app`).
   */
  pendingWeek?: boolean;
  /**
   * Keep the temporary work directory of a run that returns (the caller removes it); by default it is removed when
   * the run ends. A run that throws removes it always: the caller never learns where it is.
   */
  keepDir?: boolean;
  /**
   * Test hook: fail on purpose at this step (`week:<N>`, the start of week N's pipeline), to check that a failed
   * step stops the progress bars and the run instead of hanging. `DIMO_DEMO_FAIL_AT` sets it from the command line.
   */
  failAt?: string;
}

/** One week of telemetry through the node: what it accepted and refused, and what the week's root was computed from. */
export interface TelemetryWeek {
  week: number;
  /** Batches the node accepted (HTTP 201). */
  accepted: number;
  /** Batches the node refused, by its refusal code (docs/telemetry.md "Refusals"). */
  refused: Record<string, number>;
  /** Batches `writeWeekActivity` (rewards:activity) counted into the week's activity and commitment. */
  counted: number;
  /** Vehicles active in the derived activity, of the snapshot's. */
  activeVehicles: number;
  vehicles: number;
  /** The commitment root over the counted batches. */
  commitmentRoot: string;
  /** The distribution header's `telemetry` (rewards:compute recorded it from the activity's summary). */
  header: TelemetryCommitment | undefined;
  /** What rewards:verify said of the week's telemetry after re-checking the published signed batches. */
  verified: string;
}

/** Who signs a stream's batches: a device's key, or an integration's account. */
type BatchSigner = Parameters<typeof signBatch>[0];

/** A connected vehicle's telemetry stream: its signer, what it reports, its state carried from week to week. */
interface Stream {
  v: FleetVehicle;
  signer: BatchSigner;
  vv: VirtualVehicle;
  signals: Set<SignalName>;
  /** Block time of the vehicle's sale: its device was unpaired (its connections removed) then; it reports no more. */
  soldAt?: number;
}

/** One reconciliation check: two totals that must be equal, to the wei. */
export interface ReconciliationCheck {
  what: string;
  left: bigint;
  right: bigint;
}

/** The staked consumer's reads through the node's data API (issue 14), and the evidence they became. */
export interface ConsumerReads {
  /** Reads served, and the signal values (or history buckets) they returned. */
  served: number;
  rows: number;
  /** Each refusal the story expected: what was asked, the code expected and the code the node answered. */
  refusals: { what: string; expected: string; got: string }[];
  /** The access log exported after the freeze, as `staking:evidence` turned it into the slash's evidence. */
  evidence?: { file: string; hash: string; reads: number; vehicles: number; logEntries: number };
}

/** The consumer's paid reads (issue 15): redeemed in settlement week `week`, settled and paid in that week's root. */
export interface DataUseWeek {
  week: number;
  /** What data:redeem charged. */
  redeemed: bigint;
  pricePerCredit: bigint;
  /** Credits (values returned) in the node's access log. */
  loggedCredits: bigint;
  /** WeekSettled. */
  charged: bigint;
  burned: bigint;
  toTreasury: bigint;
  toDrivers: bigint;
  /** rewards:data-use's allocations (the drivers' share per owner at the time of the reads). */
  allocations: Allocation[];
  /** The data-use file's name ("" until the week is settled). */
  file: string;
}

export interface DemoResult {
  ok: boolean;
  mismatches: string[];
  /** Every reconciliation check, held or not. */
  checks: ReconciliationCheck[];
  summary: [string, string][];
  gas: Record<string, { count: number; total: bigint }>;
  seconds: number;
  /** The work directory: `<network>.json` (the deployment record) and `distributions/week-<N>.json`. */
  dir: string;
  distributionsDir: string;
  /** The week the oracle first published a tampered root: the watcher revoked it (false when weeks < 2). */
  tamperedWeekCaught: boolean;
  /** Every week's telemetry through the node (the pending week of `pendingWeek` included). */
  telemetry: TelemetryWeek[];
  /** The consumer's reads, refusals and slash evidence (weeks ≥ 2; null in shorter runs). */
  reads: ConsumerReads | null;
  /** The paid reads' settlement and data-use rewards (weeks ≥ 3; null in shorter runs). */
  dataUse: DataUseWeek | null;
}

/** Runs a task in process with its printing silenced (kept in `lines` when given). */
async function run<T = unknown>(
  hre: HardhatRuntimeEnvironment,
  name: string,
  args: Record<string, unknown>,
  lines?: string[],
): Promise<T> {
  const log = console.log;
  console.log = lines ? (...a: unknown[]) => void lines.push(a.map(String).join(" ")) : () => undefined;
  try {
    return (await hre.run(name, args)) as T;
  } finally {
    console.log = log;
  }
}

const dimo = (wei: bigint): string => `${formatDimoRounded(wei, 6)} DIMO`;

export async function runDemo(hre: HardhatRuntimeEnvironment, o: DemoOptions): Promise<DemoResult> {
  const t0 = Date.now();
  const { ethers } = hre;
  const verbose = o.verbose ?? true;
  const say = (line: string) => {
    if (verbose) console.log(line);
  };
  const bars: SingleBar[] = [];
  const bar = (title: string, total: number) => {
    const b = new SingleBar(
      {
        format: `${title.padEnd(22)} [{bar}] {value}/{total} {duration_formatted}`,
        noTTYOutput: verbose,
        notTTYSchedule: 5000,
      },
      Presets.shades_classic,
    );
    bars.push(b);
    if (verbose) b.start(total, 0);
    return {
      tick: () => verbose && b.increment(),
      stop: () => verbose && b.stop(),
    };
  };
  const gas: Record<string, { count: number; total: bigint }> = {};
  const addGas = (action: string, used: bigint, count = 1) => {
    const g = (gas[action] ??= { count: 0, total: 0n });
    g.count += count;
    g.total += used;
  };
  const gasOfBlocks = async (from: number, to: number): Promise<bigint> => {
    let total = 0n;
    for (let b = from; b <= to; b++) {
      const block = await ethers.provider.getBlock(b);
      for (const h of block?.transactions ?? []) total += (await ethers.provider.getTransactionReceipt(h))!.gasUsed;
    }
    return total;
  };
  const wait = async (tx: Promise<{ wait: () => Promise<TransactionReceipt | null> }>, action?: string) => {
    const r = (await (await tx).wait())!;
    if (action) addGas(action, r.gasUsed);
    return r;
  };
  const now = async () => (await ethers.provider.getBlock("latest"))!.timestamp;
  const increaseTo = async (t: number) => {
    const target = Math.max(t, (await now()) + 1);
    await ethers.provider.send("evm_setNextBlockTimestamp", [target]);
    await ethers.provider.send("evm_mine", []);
  };
  const increase = async (s: number) => increaseTo((await now()) + s);

  // ---------------------------------------------------------------- deploy
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-demo-"));
  const distributionsDir = path.join(dir, "distributions");
  const savedDir = process.env[DEPLOYMENTS_DIR_ENV];
  process.env[DEPLOYMENTS_DIR_ENV] = dir;
  let node: DemoNode | undefined;
  let returned = false;
  try {
    say(
      `DIMO demo on "${hre.network.name}": ${o.vehicles} vehicles, ${o.owners} owners, ${o.weeks} weeks, seed ${o.seed}`,
    );
    say(`Work directory: ${dir}`);
    const { record } = await deploySuite(hre, {
      recordPath: path.join(dir, `${hre.network.name}.json`),
      reset: true,
      log: () => undefined,
    });
    const c = record.contracts;
    const token = await ethers.getContractAt("DimoToken", c.DimoToken.address);
    const vault = await ethers.getContractAt("IssuanceVault", c.IssuanceVault.address);
    const distributor = await ethers.getContractAt("RewardDistributor", c.RewardDistributor.address);
    const vehicles = await ethers.getContractAt("VehicleRegistry", c.VehicleRegistry.address);
    const devices = await ethers.getContractAt("DeviceRegistry", c.DeviceRegistry.address);
    const staking = await ethers.getContractAt("ConsumerStaking", c.ConsumerStaking.address);
    const { chainId } = await ethers.provider.getNetwork();
    const signers = await ethers.getSigners();
    if (signers.length < 20) throw new Error(`demo: needs 20 local accounts, the network has ${signers.length}`);
    const [guardian, memberA, manufacturer, software, oem, operator, consumer, relayer] = [
      signers[1],
      signers[2],
      signers[4],
      signers[5],
      signers[6],
      signers[7],
      signers[8],
      signers[9],
    ];
    const dataCredits = await ethers.getContractAt("DataCredits", c.DataCredits.address);
    const supplyAtStart = await token.totalSupply();
    say(`Deployed the suite; genesis ${record.genesisIso}`);

    // ---------------------------------------------------------------- owners and fleet
    const fleet = makeFleet(o);
    const wallets: Signer[] = [];
    const walletBar = bar("Funding owners", o.owners - LOCAL_OWNERS);
    for (let i = LOCAL_OWNERS; i < o.owners; i++) {
      const key = ethers.keccak256(ethers.toUtf8Bytes(`dimo-demo:${o.seed}:owner:${i}`));
      const w = new ethers.Wallet(key, ethers.provider);
      await ethers.provider.send("hardhat_setBalance", [w.address, "0x56BC75E2D63100000"]); // 100 ETH
      wallets.push(w);
      walletBar.tick();
    }
    walletBar.stop();
    const ownerSigner = (i: number): Signer => (i < LOCAL_OWNERS ? signers[10 + i] : wallets[i - LOCAL_OWNERS]);
    const ownerAddress: string[] = [];
    for (let i = 0; i < o.owners; i++) ownerAddress.push(await ownerSigner(i).getAddress());

    const firstId = Number(await vehicles.totalVehicles()) + 1;
    const mintBar = bar("Minting vehicles", fleet.length);
    for (const v of fleet) {
      await wait(
        vehicles.connect(ownerSigner(v.owner)).mintVehicle({
          make: v.make,
          model: v.model,
          year: v.year,
          powertrain: v.powertrain,
          vinCommitment: ethers.id(`dimo-demo:${o.seed}:${chainId}:${firstId}:vin:${v.index}`),
        }),
        "mintVehicle",
      );
      mintBar.tick();
    }
    mintBar.stop();

    // Hardware devices (manufacturer mints, owner and device key sign the pairing), software and OEM connections.
    const regDomain = {
      name: REGISTRY_DOMAIN_NAME,
      version: DOMAIN_VERSION,
      chainId,
      verifyingContract: c.VehicleRegistry.address,
    };
    const connected = fleet.filter((v) => v.connection !== "none");
    const connBar = bar("Devices & connections", connected.length);
    const counts: Record<string, number> = { hardware: 0, software: 0, oem: 0 };
    // Each connected vehicle's telemetry stream: who signs its batches, what it reports, its state week to week.
    const streams: Stream[] = [];
    const origin = prng(o.seed * 613 + 5);
    const virtual = (v: FleetVehicle, deviceId: string, integration: string): VirtualVehicle => ({
      vehicleId: String(firstId + v.index),
      deviceId,
      integration,
      electric: isPlugIn(v),
      lat: 48_137_000 + Math.floor((origin() - 0.5) * 400_000),
      lon: 11_575_000 + Math.floor((origin() - 0.5) * 600_000),
      odometer: Math.max(0, 2026 - v.year) * 12_000_000 + Math.floor(origin() * 5_000_000),
      level: 300 + Math.floor(origin() * 600),
      sequence: 0,
    });
    for (const v of connected) {
      const id = firstId + v.index;
      const owner = ownerSigner(v.owner);
      const ownerAddr = ownerAddress[v.owner];
      const deadline = (await now()) + 3600;
      if (v.connection === "hardware") {
        const key = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`dimo-demo:${o.seed}:device:${id}`)));
        await wait(devices.connect(manufacturer).mintDevice(ownerAddr, key.address, `AP-${id}`, "7"), "mintDevice");
        const deviceId = await devices.deviceIdOfKey(key.address);
        const msg = {
          vehicleId: id,
          vehicleEpoch: await vehicles.ownershipEpoch(id),
          deviceId,
          ownerNonce: await vehicles.nonces(ownerAddr),
          deviceNonce: await vehicles.nonces(key.address),
          deadline,
        };
        const ownerSig = await owner.signTypedData(regDomain, PAIR_DEVICE_TYPES, msg);
        const deviceSig = await key.signTypedData(regDomain, PAIR_DEVICE_TYPES, msg);
        await wait(vehicles.connect(owner).pairDevice(id, deviceId, deadline, ownerSig, deviceSig), "pairDevice");
        streams.push({ v, signer: key, vv: virtual(v, deviceId.toString(), ethers.ZeroAddress), signals: new Set() });
      } else {
        const integration = v.connection === "software" ? software : oem;
        const msg = {
          vehicleId: id,
          integration: integration.address,
          nonce: await vehicles.nonces(ownerAddr),
          deadline,
        };
        const sig = await owner.signTypedData(regDomain, CONNECTION_CONSENT_TYPES, msg);
        await wait(vehicles.connect(integration).attestConnection(id, deadline, sig), "attestConnection");
        streams.push({ v, signer: integration, vv: virtual(v, "0", integration.address), signals: new Set() });
      }
      for (const t of reportedSignals(v)) streams[streams.length - 1].signals.add(t);
      counts[v.connection]++;
      connBar.tick();
    }
    connBar.stop();
    // Faulty installs: devices the manufacturer minted that were never paired (they report anyway, and are refused).
    const faultyPerKind = Math.max(1, Math.ceil(o.vehicles / 200));
    const strays: { key: InstanceType<typeof ethers.Wallet>; deviceId: string; sequence: number }[] = [];
    for (let k = 0; k < faultyPerKind; k++) {
      const key = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`dimo-demo:${o.seed}:${firstId}:stray:${k}`)));
      await wait(
        devices.connect(manufacturer).mintDevice(ownerAddress[0], key.address, `AP-STRAY-${firstId}-${k}`, "7"),
        "mintDevice",
      );
      strays.push({ key, deviceId: (await devices.deviceIdOfKey(key.address)).toString(), sequence: 0 });
    }
    const forger = new ethers.Wallet(ethers.keccak256(ethers.toUtf8Bytes(`dimo-demo:${o.seed}:forger`)));
    // Devices report from the second after the last pairing or connection on.
    const telemetryFrom = (await now()) + 1;
    const chainSide = consentNodeContracts(c);
    const fromBlock = chainSide.fromBlock;
    node = await startDemoNode({
      provider: ethers.provider,
      chainId: Number(chainId),
      ...chainSide,
      sqliteFile: path.join(dir, "telemetry.sqlite"),
      // The consumer pays its reads (DataCredits receipts); local account 7 operates the node and redeems them.
      payments: { dataCredits: c.DataCredits.address, node: operator.address },
    });
    say(
      `Telemetry node on ${node.url} (SQLite ${path.basename(node.sqliteFile)} in the work directory; ` +
        `registry index from block ${fromBlock}, following the chain)`,
    );
    const referrals = fleet.filter((v) => v.referrer !== undefined).length;
    const sales = fleet.filter((v) => v.soldInWeek !== undefined);
    say(
      `Fleet: ${fleet.length} vehicles (${firstId}..${firstId + fleet.length - 1}), ${o.owners} owners; ` +
        `${counts.hardware} hardware, ${counts.software} software, ${counts.oem} OEM; ${referrals} referrals; ` +
        `${sales.length} sales in week ${sales[0]?.soldInWeek ?? "-"}`,
    );

    // The DAO funds the referral budget (member A's tokens, through fund()).
    const referralBudget = ethers.parseEther("1000");
    await wait(token.connect(memberA).approve(c.RewardDistributor.address, referralBudget));
    await wait(distributor.connect(memberA).fund(referralBudget, ethers.id("referrals")), "fund");

    // ---------------------------------------------------------------- claimers
    // Weekly: a handful through rewards:claim; once: a few at the end; one through a relayer; a claimMany batch.
    const ownersShuffled = [...Array(o.owners).keys()];
    const weeklyClaimers = ownersShuffled.filter((i) => i % 23 === 3).slice(0, 8);
    const onceClaimers = ownersShuffled.filter((i) => i % 23 === 11).slice(0, 6);
    const relayed =
      ownersShuffled.find((i) => i >= LOCAL_OWNERS && i % 23 === 17) ??
      ownersShuffled.filter((i) => !weeklyClaimers.includes(i) && !onceClaimers.includes(i)).at(-1)!;
    const batch = ownersShuffled.filter((i) => i % 5 === 1 && i !== relayed).slice(0, 40);

    // ---------------------------------------------------------------- weeks
    const files: string[] = [];
    const telemetry: TelemetryWeek[] = [];
    const telemetryProblems: string[] = [];
    let credits: string | undefined;
    let creditsWeek = -1;
    let slashCompensation = 0n;
    let slashBurned = 0n;
    // The consumer's paid reads: redeemed in settlement week `week`, settled and paid in that week's root.
    let dataUse = null as DataUseWeek | null;
    let claimedWeekly = 0n;
    let claimedDataUse = 0n;
    // The watcher (rewards:watch --once after each publish) reads the weeks as published: files and inputs.
    const TAMPERED_WEEK = o.weeks >= 2 ? 1 : -1;
    const watcher = {
      caught: false,
      args: { files: distributionsDir, once: true, state: path.join(dir, "watch.json"), guardianAccount: "1" },
    };
    // The consumer reads through the SDK, on the chain's clock (the node's: the demo moves time by weeks).
    let chainNow = await now();
    const syncNode = async () => {
      await node!.sync();
      chainNow = await now();
    };
    const reader = new DataClient({ baseUrl: node.url, signer: consumer, now: () => chainNow });
    const reads: ConsumerReads | null = o.weeks >= 2 ? { served: 0, rows: 0, refusals: [] } : null;
    const granted: { id: string; types: string; owner: number }[] = [];
    await consumerStory();
    const weekBar = bar("Weeks", o.weeks);
    for (let week = 0; week < o.weeks; week++) {
      if (o.failAt === `week:${week}`) throw new Error(`injected failure at week ${week} (${DEMO_FAIL_AT_ENV})`);
      if (week === 0) await sell(0);
      const out = await publishWeek(week);
      await increase(DAY);
      await wait(distributor.activateRoot(), "activateRoot");
      const d = readDistribution(out, { keepEarnings: false });
      for (const i of weeklyClaimers) {
        if (accountIndex(d, ownerAddress[i]) < 0) continue;
        const b = await ethers.provider.getBlockNumber();
        const paid = await run<bigint>(hre, "rewards:claim", { file: out, account: ownerAddress[i], from: 0 });
        if (paid > 0n) {
          claimedWeekly += paid;
          addGas("claim", await gasOfBlocks(b + 1, await ethers.provider.getBlockNumber()));
        }
      }
      // The drivers whose vehicles the consumer read claim their data-use rewards (with the rest of their week).
      if (dataUse?.week === week) {
        for (const a of dataUse.allocations) {
          const b = await ethers.provider.getBlockNumber();
          const paid = await run<bigint>(hre, "rewards:claim", { file: out, account: a.account, from: 0 });
          if (paid > 0n) {
            claimedDataUse += paid;
            addGas("claim", await gasOfBlocks(b + 1, await ethers.provider.getBlockNumber()));
          }
        }
      }
      // Next week's sales now, early in that week: the DAO story below moves the chain's clock by 10 days.
      if (week + 1 < o.weeks) await sell(week + 1);
      if (week === 1 && reads) await readStory(reads);
      if (week === 1 && week + 1 < o.weeks) {
        const story = await daoStory();
        slashCompensation = story.compensation;
        slashBurned = story.burned;
        credits = story.credits;
        creditsWeek = week + 1;
      }
      weekBar.tick();
    }
    weekBar.stop();

    /** The vehicles sold in `week` change hands (a transfer unpairs the device and removes the connections). */
    async function sell(week: number): Promise<void> {
      for (const v of sales.filter((s) => s.soldInWeek === week)) {
        const from = ownerSigner(v.owner);
        const r = await wait(
          vehicles.connect(from).transferFrom(ownerAddress[v.owner], ownerAddress[v.buyer!], firstId + v.index),
          "transferFrom (sale)",
        );
        const stream = streams.find((st) => st.v === v);
        if (stream) stream.soldAt = (await ethers.provider.getBlock(r.blockNumber))!.timestamp;
      }
    }

    // Snapshot → compute → verify → publish of one week (its root then waits out the challenge window).
    async function publishWeek(week: number): Promise<string> {
      await increaseTo(record.genesis + (week + 1) * WEEK + 60);
      const snapshot = path.join(dir, `vehicles-${week}.csv`);
      await run(hre, "registry:snapshot", { out: snapshot });
      // The week's telemetry through the node, then the week's activity derived from the batches it stored
      // (rewards:activity's logic) into the week's folder: activity, signed batches, summary with the commitment.
      const [weekStart, weekEnd] = (await Promise.all([vault.weekStart(week), vault.weekStart(week + 1)])).map(Number);
      const tally = await driveWeek(week, weekStart, weekEnd);
      const weekDir = path.join(distributionsDir, `week-${week}`);
      const snapshotVehicleIds = new Set(
        parseSnapshotCsv(fs.readFileSync(snapshot), path.basename(snapshot)).map((v) => String(v.vehicleId)),
      );
      // Referral codes are the oracle's input, not telemetry: given in week 0's activity rows.
      const referralCodes =
        week === 0
          ? new Map(
              fleet
                .filter((v) => v.referrer !== undefined)
                .map((v) => [String(firstId + v.index), ownerAddress[v.referrer!]]),
            )
          : undefined;
      const store = await openStore({ sqliteFile: node!.sqliteFile });
      let derived;
      try {
        derived = await writeWeekActivity({
          store,
          week,
          weekStart,
          weekEnd,
          outDir: weekDir,
          snapshotVehicleIds,
          referralCodes,
        });
      } finally {
        await store.close();
      }
      const activity = derived.files.activity;
      const out = path.join(distributionsDir, `week-${week}.json`);
      const previous = week === 0 ? undefined : files[week - 1];
      const weekCredits = week === creditsWeek ? credits : undefined;
      const weekDataUse = dataUse?.week === week ? await settleDataUse(dataUse) : undefined;
      const inputs = {
        activity,
        snapshot,
        previous,
        credits: weekCredits,
        dataUse: weekDataUse,
        referralBudget: "1000",
      };
      await run(hre, "rewards:compute", { week: String(week), out, ...inputs });
      // verify re-checks every published signed batch (its signature and pairing against the chain) and re-derives
      // the activity from them.
      const verified: string[] = [];
      await run(hre, "rewards:verify", { file: out, ...inputs, telemetryDir: weekDir }, verified);
      files.push(out);
      serveInputs(week, inputs);
      const header = readDistribution(out, { keepEarnings: false }).telemetry;
      telemetry.push({
        week,
        ...tally,
        counted: derived.batches,
        activeVehicles: derived.activeVehicles,
        vehicles: derived.vehicles,
        commitmentRoot: derived.commitmentRoot,
        header,
        verified: verified.find((l) => l.includes("signed batches give")) ?? verified.join(" / "),
      });
      if (derived.batches !== tally.accepted)
        telemetryProblems.push(
          `week ${week}: the activity counted ${derived.batches} batches, the node accepted ${tally.accepted}`,
        );
      if (header?.commitmentRoot !== derived.commitmentRoot || header?.batches !== derived.batches)
        telemetryProblems.push(
          `week ${week}: the distribution header's telemetry (${header ? `${header.batches} batches, ${header.commitmentRoot}` : "none"}) is not the activity's (${derived.batches} batches, ${derived.commitmentRoot})`,
        );
      // One week the oracle first publishes a tampered root; the watcher beside it revokes it in its window.
      if (week === TAMPERED_WEEK) watcher.caught = await tamperedRootCaught(week, out);
      const before = await ethers.provider.getBlockNumber();
      // Always with the cached layer: the demo's claims and the claim page (npm run app) use short proofs.
      await run(hre, "rewards:publish", { week: String(week), file: out, layer: "always", yes: true });
      addGas("publish (all txs)", await gasOfBlocks(before + 1, await ethers.provider.getBlockNumber()));
      const seen = await run<string[]>(hre, "rewards:watch", watcher.args);
      if (seen.join() !== "verified")
        throw new Error(
          `demo: the watcher did not verify week ${week}: ${fs.readFileSync(watcher.args.state, "utf8")}`,
        );
      return out;
    }

    /**
     * Settlement week `u.week` has ended: anyone settles it (data:settle), the node operator exports its access log
     * (data:access-log) and rewards:data-use splits the drivers' share by the reads' charges; returns the file.
     */
    async function settleDataUse(u: DataUseWeek): Promise<string> {
      const settled = await run<{ charged: bigint; burned: bigint; toTreasury: bigint; toDrivers: bigint }>(
        hre,
        "data:settle",
        { week: String(u.week) },
      );
      Object.assign(u, settled);
      const log = path.join(dir, `access-log-week-${u.week}.jsonl`);
      await run(hre, "data:access-log", { out: log, db: node!.sqliteFile });
      const file = path.join(dir, `data-use-week-${u.week}.json`);
      await run(hre, "rewards:data-use", { week: String(u.week), logs: `${operator.address}=${log}`, out: file });
      u.allocations = parseDataUseFile(fs.readFileSync(file, "utf8"), path.basename(file)).allocations;
      const entries = parseAccessLog(fs.readFileSync(log, "utf8"), path.basename(log));
      u.loggedCredits = BigInt(entries.reduce((n, e) => n + e.resultSize, 0));
      u.file = path.basename(file);
      return file;
    }

    function serveInputs(
      week: number,
      inputs: { activity: string; snapshot: string; credits?: string; dataUse?: string },
    ): void {
      const to = path.join(distributionsDir, `week-${week}`);
      fs.mkdirSync(to, { recursive: true });
      // The activity (with its signed batches) was derived into the week's folder already.
      for (const f of [inputs.activity, inputs.snapshot, inputs.credits, inputs.dataUse])
        if (f && path.resolve(path.dirname(f)) !== path.resolve(to))
          fs.copyFileSync(f, path.join(to, path.basename(f)));
      fs.writeFileSync(path.join(to, "referral-budget.txt"), "1000\n");
    }
    /**
     * Week `week` on the road, posted to the node once it has ended: every active connected vehicle's trips (and an
     * EV's charging) as signed batches from its device or integration, then a few faulty devices' bad batches — a
     * forged signature, an unpaired device, a replayed sequence, a value out of range — which the node must refuse
     * with that code. Honest batches must all be accepted. Returns the node's answers.
     */
    async function driveWeek(
      week: number,
      weekStart: number,
      weekEnd: number,
    ): Promise<{ accepted: number; refused: Record<string, number> }> {
      await node!.sync();
      const plans = weekPlans(fleet, week, o.weeks, o.seed);
      const rand = prng(o.seed * 104_723 + week * 7_919 + 3);
      const registry = c.VehicleRegistry.address;
      const chain = Number(chainId);
      const tally = { accepted: 0, refused: {} as Record<string, number> };
      const honestRefused: Record<string, number> = {};
      const send = async (signed: SignedBatch, expected: string, what: string) => {
        const code = await node!.post(signed);
        if (code === "accepted") tally.accepted++;
        else tally.refused[code] = (tally.refused[code] ?? 0) + 1;
        if (code === expected) return;
        if (expected === "accepted") honestRefused[code] = (honestRefused[code] ?? 0) + 1;
        else telemetryProblems.push(`week ${week}: ${what} was answered ${code}, expected ${expected}`);
      };
      const from = Math.max(weekStart, telemetryFrom);
      const drove: { st: Stream; last: TelemetryBatch }[] = [];
      for (const st of streams) {
        const plan = plans[st.v.index];
        if (!plan.active || (st.soldAt !== undefined && st.soldAt <= from)) continue;
        // A pairing holds until the second before its unpairing's block time.
        const to = Math.min(weekEnd, (st.soldAt ?? Infinity) - 1);
        const batches = simulateWeek(st.vv, from, to, { ...plan, signals: st.signals }, rand);
        for (const b of batches) await send(await signBatch(st.signer, b, chain, registry), "accepted", "");
        // Its last trip (a charging batch has no odometer to inflate) is what a faulty device would garble.
        const trip = batches.filter((b) => b.signals.some((x) => x.name === "odometer")).pop();
        if (trip && st.vv.deviceId !== "0" && st.soldAt === undefined) drove.push({ st, last: trip });
      }
      for (const [code, n] of Object.entries(honestRefused))
        telemetryProblems.push(`week ${week}: ${n} honest batches were refused (${code})`);
      // The faulty devices of the week: hardware devices that drove, picked by the seed.
      for (let i = drove.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [drove[i], drove[j]] = [drove[j], drove[i]];
      }
      const longer = (b: TelemetryBatch): TelemetryBatch["signals"] =>
        b.signals.map((x) => (x.name === "odometer" ? { ...x, values: [x.values[0] + 50_000] } : x));
      for (let k = 0; k < faultyPerKind; k++) {
        const [forged, replayed, broken] = [drove[3 * k], drove[3 * k + 1], drove[3 * k + 2]];
        if (forged) {
          // Another key signs for a paired device, claiming 50 km more.
          const b = { ...forged.last, sequence: forged.st.vv.sequence + 1, signals: longer(forged.last) };
          await send(await signBatch(forger, b, chain, registry), "bad_signature", "a forged batch");
        }
        if (replayed) {
          // The device sends its last batch's sequence again, with 50 km more on the odometer.
          const b = { ...replayed.last, signals: longer(replayed.last) };
          await send(
            await signBatch(replayed.st.signer, b, chain, registry),
            "sequence_replayed",
            "a replayed sequence",
          );
        }
        if (broken) {
          // A faulty GPS: latitude 91°.
          const b = {
            ...broken.last,
            sequence: broken.st.vv.sequence + 1,
            signals: broken.last.signals.map((x) =>
              x.name === "location" ? { ...x, values: [91_000_000, x.values[1]] } : x,
            ),
          };
          await send(await signBatch(broken.st.signer, b, chain, registry), "value_out_of_range", "a latitude of 91°");
        }
        // A device that was never paired reports a trip for a vehicle.
        const stray = strays[k];
        const target = drove[k]?.st ?? streams[k];
        if (!target) continue;
        const vv: VirtualVehicle = {
          ...target.vv,
          deviceId: stray.deviceId,
          integration: ethers.ZeroAddress,
          sequence: stray.sequence,
        };
        for (const b of simulateWeek(
          vv,
          from,
          weekEnd,
          { trips: 1, charges: false, signals: new Set(["location", "odometer"]) },
          rand,
        ))
          await send(await signBatch(stray.key, b, chain, registry), "device_not_paired", "an unpaired device's batch");
        stray.sequence = vv.sequence;
      }
      return tally;
    }

    async function tamperedRootCaught(week: number, honest: string): Promise<boolean> {
      // 1 DIMO moved from the first account to the last, the tree rebuilt: a file that passes publish's checks.
      const { root: _root, tree: _tree, cachedLayer: _layer, ...d } = readDistribution(honest);
      const [from, to] = [d.accounts[0], d.accounts[d.accounts.length - 1]];
      const moved = from.cumulativeWei < 10n ** 18n ? from.cumulativeWei : 10n ** 18n;
      from.cumulativeWei -= moved;
      to.cumulativeWei += moved;
      const tree = await buildTree(d.accounts);
      const forged = writeDistribution(path.join(dir, "tampered"), withTree(d, tree), tree).jsonPath;
      await run(hre, "rewards:publish", { week: String(week), file: forged, yes: true });
      const seen = await run<string[]>(hre, "rewards:watch", watcher.args);
      const revoked = (await distributor.pendingRoot()).root === ethers.ZeroHash;
      return seen.join() === "revoked" && revoked;
    }

    // The DAO story: guardian freeze → slash proposal → votes → queue → execute → credits.
    // Before week 0, so the grants are older than minGrantAge (7 days) when the consumer is frozen in week 1: the
    // consumer (local account 8) stakes and five drivers with a device or a connection, never sold, grant it access
    // (access:grant has the local consumer sign each offer). Only such vehicles share a slash's compensation.
    async function consumerStory(): Promise<void> {
      await wait(token.connect(memberA).transfer(consumer.address, ethers.parseEther("50000")));
      await run(hre, "staking:stake", { amount: "30000", from: "8" });
      // Pre-funds its data credits (reads are paid per value returned, at the Timelock's price).
      const prepaid = ethers.parseEther("100");
      await wait(token.connect(consumer).approve(c.DataCredits.address, prepaid));
      await wait(dataCredits.connect(consumer).deposit(consumer.address, prepaid), "DataCredits deposit");
      const readable = fleet.filter(
        (v) => v.owner < LOCAL_OWNERS && v.connection !== "none" && v.soldInWeek === undefined,
      );
      for (const [i, v] of readable.slice(0, 5).entries()) {
        const types = i % 2 ? "location" : "location,odometer";
        await run(hre, "access:grant", {
          vehicle: String(firstId + v.index),
          consumer: consumer.address,
          types,
          expires: "+90d",
          ownerAccount: String(10 + v.owner),
        });
        granted.push({ id: String(firstId + v.index), types, owner: v.owner });
      }
    }

    /** A read the story expects the node to refuse with `expected`: the code it answered (or "served"). */
    async function refused(r: ConsumerReads, what: string, expected: string, read: () => Promise<unknown>) {
      let got = "served";
      try {
        await read();
      } catch (e) {
        if (!(e instanceof DataApiError)) throw e;
        got = e.code;
      }
      r.refusals.push({ what, expected, got });
    }

    // After week 0's telemetry is stored: the consumer signs in (SIWE) and reads its granted vehicles through the
    // SDK; the node refuses a vehicle without a grant, odometer under a location-only grant, and a revoked grant.
    async function readStory(r: ConsumerReads): Promise<void> {
      await syncNode();
      await reader.signIn();
      for (const g of granted) {
        const signals = await reader.latest(g.id, g.types.split(","));
        r.served++;
        r.rows += signals.filter((s) => s.values !== null).length;
      }
      if (granted.length > 0) {
        const weekAgo = chainNow - WEEK;
        const page = await reader.history(granted[0].id, {
          names: ["location"],
          from: weekAgo,
          interval: DAY,
          agg: "last",
        });
        r.served++;
        r.rows += page.buckets.length;
      }
      const notGranted = fleet.find((v) => !granted.some((g) => g.id === String(firstId + v.index)));
      if (notGranted) {
        await refused(r, `vehicle #${firstId + notGranted.index} (no grant)`, "NO_GRANT", () =>
          reader.latest(String(firstId + notGranted.index), ["location"]),
        );
      }
      const locationOnly = granted.find((g) => g.types === "location");
      if (locationOnly) {
        await refused(r, `odometer of vehicle #${locationOnly.id} (location only)`, "DATA_TYPE_NOT_GRANTED", () =>
          reader.latest(locationOnly.id, ["odometer"]),
        );
      }
      if (granted.length >= 3) {
        // The last granting driver changes their mind.
        const g = granted[granted.length - 1];
        await run(hre, "access:revoke", { vehicle: g.id, consumer: consumer.address, account: String(10 + g.owner) });
        await syncNode();
        await refused(r, `vehicle #${g.id} after its driver revoked`, "GRANT_REVOKED", () =>
          reader.latest(g.id, ["location"]),
        );
      }
      // The consumer signs the receipt of its last read; the operator redeems what the node holds (data:redeem).
      if (r.served > 0) {
        await reader.payReads();
        const b = await ethers.provider.getBlockNumber();
        const redeemed = await run<{ charged: bigint }>(hre, "data:redeem", {
          node: operator.address,
          db: node!.sqliteFile,
        });
        addGas("redeemBatch (data:redeem)", await gasOfBlocks(b + 1, await ethers.provider.getBlockNumber()));
        dataUse = {
          week: Number(await dataCredits.currentWeek()),
          redeemed: redeemed.charged,
          pricePerCredit: await dataCredits.pricePerCredit(),
          loggedCredits: 0n,
          charged: 0n,
          burned: 0n,
          toTreasury: 0n,
          toDrivers: 0n,
          allocations: [],
          file: "",
        };
      }
    }

    async function daoStory(): Promise<{ compensation: bigint; burned: bigint; credits: string }> {
      await wait(staking.connect(guardian).freeze(consumer.address), "guardian freeze");
      // The freeze takes effect on reads as soon as the node has indexed it; the access log is the evidence.
      let evidenceFile: string | undefined;
      if (reads && granted.length > 0) {
        await syncNode();
        await refused(reads, `vehicle #${granted[0].id} after the guardian froze the consumer`, "CONSUMER_FROZEN", () =>
          reader.latest(granted[0].id, ["location"]),
        );
        const logFile = path.join(dir, "access-log.jsonl");
        const head = await node!.exportAccessLog(logFile);
        const ev = await run<{
          out: string;
          evidenceHash: string;
          evidence: { summary: { reads: number; readsByVehicle: Record<string, number> } };
        }>(hre, "staking:evidence", {
          consumer: consumer.address,
          log: logFile,
          headCount: String(head.count),
          headHash: head.hash,
        });
        evidenceFile = ev.out;
        reads.evidence = {
          file: path.basename(ev.out),
          hash: ev.evidenceHash,
          reads: ev.evidence.summary.reads,
          vehicles: Object.keys(ev.evidence.summary.readsByVehicle).length,
          logEntries: head.count,
        };
      }
      await run(hre, "gov:delegate", { to: "self", from: "2" });
      await run(hre, "gov:delegate", { to: "self", from: "3" });
      await increase(60);
      const proposed = await run<{ proposalId: bigint }>(hre, "gov:propose-slash", {
        consumer: consumer.address,
        amount: "20000",
        compensation: "15000",
        remainder: "burn",
        evidence: "ipfs://demo-evidence-of-misuse",
        ...(evidenceFile === undefined ? {} : { evidenceFile }),
        from: "2",
      });
      const proposal = proposed.proposalId.toString();
      await increase(DAY + 1);
      await run(hre, "gov:vote", { proposal, support: "for", from: "2" });
      await run(hre, "gov:vote", { proposal, support: "for", from: "3" });
      await increase(WEEK);
      await run(hre, "gov:queue", { proposal });
      await increase(2 * DAY + 1);
      await run(hre, "gov:execute", { proposal });
      const slashId = await staking.slashCount();
      const file = path.join(dir, "credits.csv");
      await run(hre, "staking:compensation", { slash: slashId.toString(), out: file });
      const [ev] = await staking.queryFilter(
        staking.filters.Slashed(undefined, slashId),
        c.ConsumerStaking.blockNumber,
      );
      // Remainder 0 is burned (ConsumerStaking.Remainder.Burn).
      return {
        compensation: ev.args.compensation,
        burned: Number(ev.args.remainderTo) === 0 ? ev.args.remainder : 0n,
        credits: file,
      };
    }

    // ---------------------------------------------------------------- final claims
    const lastFile = files[files.length - 1];
    const last = readDistribution(lastFile, { keepEarnings: false });
    let claimedAtEnd = 0n;
    for (const i of onceClaimers) {
      if (accountIndex(last, ownerAddress[i]) < 0) continue;
      const b = await ethers.provider.getBlockNumber();
      const paid = await run<bigint>(hre, "rewards:claim", { file: lastFile, account: ownerAddress[i], from: 0 });
      if (paid > 0n) {
        claimedAtEnd += paid;
        addGas("claim", await gasOfBlocks(b + 1, await ethers.provider.getBlockNumber()));
      }
    }
    // A relayer submits a driver's signed ClaimTo (the driver pays no gas).
    let claimedRelayed = 0n;
    if (accountIndex(last, ownerAddress[relayed]) >= 0) {
      const p = proofFor(last, ownerAddress[relayed]);
      claimedRelayed = p.cumulativeWei - (await distributor.claimed(p.account));
      const deadline = (await now()) + 3600;
      const sig = await ownerSigner(relayed).signTypedData(
        {
          name: DISTRIBUTOR_DOMAIN_NAME,
          version: DOMAIN_VERSION,
          chainId,
          verifyingContract: c.RewardDistributor.address,
        },
        CLAIM_TO_TYPES,
        { account: p.account, recipient: p.account, nonce: await distributor.nonces(p.account), deadline },
      );
      await wait(
        distributor
          .connect(relayer)
          .claimToWithSig(p.account, p.cumulativeWei, p.anchor, p.shortProof, p.account, deadline, sig),
        "claimToWithSig (relayer)",
      );
    }
    // One claimMany batch.
    const claims = batch
      .filter((i) => accountIndex(last, ownerAddress[i]) >= 0)
      .map((i) => {
        const p = proofFor(last, ownerAddress[i]);
        return { account: p.account, cumulativeAmount: p.cumulativeWei, anchor: p.anchor, proof: p.shortProof };
      });
    let claimedBatched = 0n;
    for (const cl of claims) claimedBatched += cl.cumulativeAmount - (await distributor.claimed(cl.account));
    if (claims.length > 0) {
      const r = await wait(distributor.claimMany(claims));
      addGas("claimMany per claim", r.gasUsed / BigInt(claims.length), 1);
      addGas(`claimMany (${claims.length} claims)`, r.gasUsed);
    }

    // ---------------------------------------------------------------- summary and reconciliation
    const weeks: Distribution[] = files.map((f) => readDistribution(f, { keepEarnings: false }));
    const schedule = await vault.amountOfWeeks(0, o.weeks);
    const released = await vault.totalReleased();
    const funded = await distributor.totalFunded();
    const balance = await token.balanceOf(c.RewardDistributor.address);
    let claimed = 0n;
    for (const e of await distributor.queryFilter(distributor.filters.Claimed(), c.RewardDistributor.blockNumber))
      claimed += e.args.amount;
    for (const e of await distributor.queryFilter(distributor.filters.ClaimedTo(), c.RewardDistributor.blockNumber))
      claimed += e.args.amount;
    const issuance = weeks.reduce((s, d) => s + d.issuance.weekWei, 0n);
    const creditsPaid = weeks.reduce((s, d) => s + d.credits.totalWei, 0n);
    // Data-use credits of the root that paid the settlement week, read from the file itself (reason data-use:<w>).
    const paidDataUse = dataUse;
    const settledDataUse = paidDataUse !== null && paidDataUse.file !== "" ? paidDataUse : null;
    let dataUseCredited = 0n;
    if (settledDataUse) {
      const d = readDistribution(files[settledDataUse.week]);
      for (const a of d.accounts)
        for (const cr of a.credits ?? [])
          if (cr.reason === `data-use:${settledDataUse.week}`) dataUseCredited += cr.amountWei;
    }
    const compensationPaid = creditsPaid - dataUseCredited;
    const toDrivers = settledDataUse?.toDrivers ?? 0n;
    const lastD = weeks[weeks.length - 1];
    const referralsPaid = lastD.referrals.paidTotalWei;
    const carried = lastD.pools.core.carryOutWei + lastD.pools.green.carryOutWei;
    const accountsTotal = lastD.accounts.reduce((s, a) => s + a.cumulativeWei, 0n);
    const unclaimed = lastD.cumulativeTotalWei - claimed;
    const checks: ReconciliationCheck[] = [];
    const check = (what: string, left: bigint, right: bigint) => checks.push({ what, left, right });
    check("released = schedule (vault.amountOfWeeks)", released, schedule);
    check("Σ weekly issuance in the files = released", issuance, released);
    check(
      "funded = released + compensation + referral funding + data-use drivers' share",
      funded,
      released + slashCompensation + referralBudget + toDrivers,
    );
    check("compensation credited = compensation funded", compensationPaid, slashCompensation);
    if (settledDataUse) {
      const u = settledDataUse;
      check(`data use, week ${u.week}: charged (WeekSettled) = redeemed (data:redeem)`, u.charged, u.redeemed);
      check(
        `data use, week ${u.week}: charged = credits in the access log × price per credit`,
        u.charged,
        u.loggedCredits * u.pricePerCredit,
      );
      check(
        `data use, week ${u.week}: charged = burned + to the treasury + drivers' share`,
        u.charged,
        u.burned + u.toTreasury + u.toDrivers,
      );
      check(
        `data use, week ${u.week}: drivers' share = data-use credits in week ${u.week}'s root`,
        u.toDrivers,
        dataUseCredited,
      );
      check(
        `data use, week ${u.week}: drivers' share = Σ rewards:data-use allocations`,
        u.toDrivers,
        u.allocations.reduce((n, a) => n + a.amountWei, 0n),
      );
    }
    check(
      "total supply = at deployment − slash burn − data-use burn",
      await token.totalSupply(),
      supplyAtStart - slashBurned - (settledDataUse?.burned ?? 0n),
    );
    check("distributor balance = funded − claimed", balance, funded - claimed);
    check(
      "last cumulative total + carried remainders = issuance + compensation + referrals paid",
      lastD.cumulativeTotalWei + carried,
      issuance + creditsPaid + referralsPaid,
    );
    check("Σ accounts' cumulative = last cumulative total", accountsTotal, lastD.cumulativeTotalWei);
    check(
      "distributor balance = unclaimed + carried + unspent referral budget",
      balance,
      unclaimed + carried + (referralBudget - referralsPaid),
    );
    check(
      "claimed = weekly + data-use earners + once at the end + relayed + batched",
      claimed,
      claimedWeekly + claimedDataUse + claimedAtEnd + claimedRelayed + claimedBatched,
    );
    if (o.pendingWeek) {
      const out = await publishWeek(o.weeks);
      const pending = await distributor.pendingRoot();
      say(
        `Week ${o.weeks} published and left in its challenge window until ` +
          `${new Date(Number(pending.activatesAt) * 1000).toISOString()} (${path.basename(out)})`,
      );
    }
    // What the devices were answered is what the node counted.
    const sum = (f: (t: TelemetryWeek) => number) => telemetry.reduce((n, t) => n + f(t), 0);
    const refusedBy: Record<string, number> = {};
    for (const t of telemetry) for (const [k, n] of Object.entries(t.refused)) refusedBy[k] = (refusedBy[k] ?? 0) + n;
    const accepted = sum((t) => t.accepted);
    const nodeRefused = node.counters.refused as Record<string, number>;
    if (node.counters.accepted !== accepted)
      telemetryProblems.push(`the node counted ${node.counters.accepted} accepted batches, the devices ${accepted}`);
    for (const k of new Set([...Object.keys(refusedBy), ...Object.keys(nodeRefused)]))
      if ((nodeRefused[k] ?? 0) !== (refusedBy[k] ?? 0))
        telemetryProblems.push(
          `the node counted ${nodeRefused[k] ?? 0} ${k} refusals, the devices ${refusedBy[k] ?? 0}`,
        );
    const readProblems = (reads?.refusals ?? [])
      .filter((r) => r.got !== r.expected)
      .map((r) => `consumer read of ${r.what}: expected ${r.expected}, the node answered ${r.got}`);
    const mismatches = checks
      .filter((k) => k.left !== k.right)
      .map((k) => `${k.what}: ${k.left} != ${k.right} (difference ${k.left - k.right} wei)`)
      .concat(telemetryProblems, readProblems);
    const byReason = (r: Record<string, number>) =>
      Object.entries(r)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, n]) => `${k} ${n}`)
        .join(", ") || "none";
    const summary: [string, string][] = [
      ["weeks / vehicles / owners", `${o.weeks} / ${o.vehicles} / ${o.owners}`],
      [
        "signed batches accepted / refused",
        `${accepted} / ${sum((t) => Object.values(t.refused).reduce((a, b) => a + b, 0))} (${byReason(refusedBy)})`,
      ],
      ["batches counted in the weeks' roots", String(sum((t) => t.counted))],
      ...(reads
        ? ([
            [
              "consumer reads served / refused",
              `${reads.served} (${reads.rows} values) / ${reads.refusals.length} (` +
                reads.refusals.map((r) => r.got).join(", ") +
                ")",
            ],
            [
              "slash evidence (access log)",
              reads.evidence
                ? `${reads.evidence.reads} reads of ${reads.evidence.vehicles} vehicles, ${reads.evidence.logEntries} log entries, evidenceHash ${reads.evidence.hash}`
                : "none",
            ],
          ] as [string, string][])
        : []),
      ["issuance schedule (amountOfWeeks)", dimo(schedule)],
      ["issuance released (vault)", dimo(released)],
      ["funded (distributor)", dimo(funded)],
      ["compensation paid (credits)", dimo(compensationPaid)],
      ...(settledDataUse
        ? ([
            [
              `data use, week ${settledDataUse.week} (charged / burned / treasury / drivers)`,
              `${dimo(settledDataUse.charged)} / ${dimo(settledDataUse.burned)} / ${dimo(settledDataUse.toTreasury)} / ${dimo(settledDataUse.toDrivers)}`,
            ],
            [
              "  paid to drivers (data-use credits)",
              `${dimo(dataUseCredited)} to ${settledDataUse.allocations.length} owners in week ${settledDataUse.week}'s root (${settledDataUse.file})`,
            ],
          ] as [string, string][])
        : []),
      ["referral budget / paid", `${dimo(referralBudget)} / ${dimo(referralsPaid)}`],
      ["claimed (Claimed + ClaimedTo)", dimo(claimed)],
      ["  weekly via rewards:claim", dimo(claimedWeekly)],
      ["  data-use earners via rewards:claim (all they had earned)", dimo(claimedDataUse)],
      ["  once at the end via rewards:claim", dimo(claimedAtEnd)],
      ["  relayed (claimToWithSig)", dimo(claimedRelayed)],
      ["  batched (claimMany)", dimo(claimedBatched)],
      ["unclaimed (last cumulative − claimed)", dimo(unclaimed)],
      ["carried remainders", dimo(carried)],
      ["distributor balance", dimo(balance)],
      ["accounts in the last root", String(lastD.totals.accounts)],
      ["earning vehicles in the last week", String(lastD.totals.earningVehicles)],
      [
        "watcher (rewards:watch --once)",
        TAMPERED_WEEK < 0
          ? "every root verified (no tampered week in a run this short)"
          : watcher.caught
            ? `week ${TAMPERED_WEEK}'s tampered root revoked in its window; the honest root published instead`
            : `week ${TAMPERED_WEEK}'s tampered root was NOT caught`,
      ],
    ];
    const seconds = (Date.now() - t0) / 1000;
    if (verbose) {
      const width = Math.max(...summary.map(([k]) => k.length), ...Object.keys(gas).map((k) => k.length));
      console.log(`\nTelemetry through the node (${node.url}; devices → node → weekly activity → root)`);
      for (const t of telemetry) {
        const refused = Object.values(t.refused).reduce((a, b) => a + b, 0);
        console.log(
          `  week ${String(t.week).padEnd(3)} accepted ${String(t.accepted).padStart(5)}, refused ${String(refused).padStart(3)} ` +
            `(${byReason(t.refused)}); counted ${t.counted}, ${t.activeVehicles}/${t.vehicles} vehicles active, ` +
            `commitment ${t.commitmentRoot.slice(0, 10)}…${t.header ? " in the header" : " NOT in the header"}`,
        );
      }
      console.log("\nSummary");
      for (const [k, v] of summary) console.log(`  ${k.padEnd(width)}  ${v}`);
      console.log("\nGas per action (average)");
      for (const [k, g] of Object.entries(gas))
        console.log(`  ${k.padEnd(width)}  ${(g.total / BigInt(g.count)).toString().padStart(10)}  (×${g.count})`);
      console.log(`\nReconciliation (${checks.length} checks, exact in wei; the summary above rounds to 6 decimals)`);
      for (const k of checks) {
        console.log(
          k.left === k.right
            ? `  ok        ${k.what}: ${k.left} wei`
            : `  MISMATCH  ${k.what}: ${k.left} != ${k.right} wei (difference ${k.left - k.right} wei)`,
        );
      }
      if (mismatches.length === 0) console.log(`  OK: all ${checks.length} checks hold`);
      for (const p of telemetryProblems) console.log(`  TELEMETRY  ${p}`);
      console.log(`\nDone in ${seconds.toFixed(1)} s`);
    }
    returned = true;
    return {
      ok: mismatches.length === 0,
      mismatches,
      checks,
      summary,
      gas,
      seconds,
      dir,
      distributionsDir,
      tamperedWeekCaught: watcher.caught,
      telemetry,
      reads,
      dataUse: settledDataUse,
    };
  } finally {
    // A failed step must not leave a bar's timer running, nor the node listening (the process would never exit).
    for (const b of bars) b.stop();
    await node?.close();
    if (!o.keepDir || !returned) fs.rmSync(dir, { recursive: true, force: true });
    if (savedDir === undefined) delete process.env[DEPLOYMENTS_DIR_ENV];
    else process.env[DEPLOYMENTS_DIR_ENV] = savedDir;
  }
}

export type { FleetVehicle };

if (require.main === module) {
  // `hardhat run scripts/demo.ts [--network localhost]` (options through env vars), or `npm run demo -- --vehicles
  // 2000 --weeks 12 --seed 7 [--network localhost]` (ts-node: hardhat run refuses unknown arguments).
  const argv = process.argv.slice(2);
  const fail = (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    // Exit now: nothing left running (a timer, a socket) may keep a failed run alive.
    process.exit(1);
  };
  try {
    if (checkCliArgs(argv, DEMO_CLI) === "help") {
      console.log(usage(DEMO_CLI));
      process.exit(0);
    }
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    console.error(`\n${usage(DEMO_CLI)}`);
    process.exit(1);
  }
  const n = argv.findIndex((a) => a === "--network" || a.startsWith("--network="));
  if (n >= 0) process.env.HARDHAT_NETWORK = argv[n].includes("=") ? argv[n].split("=")[1] : argv[n + 1];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const hre = require("hardhat") as HardhatRuntimeEnvironment;
  // Run directly (npm run demo), nothing has compiled the contracts yet on a fresh clone.
  hre
    .run("compile", { quiet: true })
    .then(() => runDemo(hre, { ...demoOptions(argv, process.env), failAt: process.env[DEMO_FAIL_AT_ENV] }))
    .then((r) => process.exit(r.ok ? 0 : 1), fail);
}
