/**
 * Baseline for `bench/rewards.ts`, run in its own process (its own peak RSS): the same synthetic week from
 * the same seed, the same accounts and amounts, the same pre-hashed leaves (computed here with ethers), and
 * the tree built the common way — `new MerkleTree(leaves, keccak256, { sortPairs: true })` from merkletreejs
 * with ethers' keccak256 (hashLeaves false).
 *
 *   npx ts-node --transpile-only bench/rewards-baseline.ts --vehicles 1000000 --seed 1 [--previous week-0.json]
 *
 * Prints progress, then one JSON line: `{ root, leafSeconds, treeSeconds, peakRssMb }`, where `treeSeconds`
 * is the MerkleTree construction from the pre-hashed leaves.
 */
import { AbiCoder, keccak256 } from "ethers";
import { MerkleTree } from "merkletreejs";
import { computeAmounts } from "../lib/rewards/compute";
import { readDistribution } from "../lib/rewards/distribution";
import { benchInputs, syntheticWeek } from "./rewards";

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

async function main(): Promise<void> {
  const vehicles = Number(arg("vehicles", "1000000"));
  const seed = Number(arg("seed", "1"));
  const previousPath = arg("previous", "");
  const previous = previousPath ? readDistribution(previousPath, { keepEarnings: false }) : null;
  const amounts = computeAmounts(benchInputs(await syntheticWeek(vehicles, seed, previous ? 1 : 0), previous));
  const coder = AbiCoder.defaultAbiCoder();

  let t = process.hrtime.bigint();
  const leaves = amounts.accounts.map((a) =>
    keccak256(keccak256(coder.encode(["address", "uint256"], [a.account, a.cumulativeWei]))),
  );
  const leafSeconds = seconds(t);
  console.log(`baseline: ${leaves.length} leaves hashed with ethers in ${leafSeconds.toFixed(2)} s`);

  t = process.hrtime.bigint();
  const tree = new MerkleTree(leaves, keccak256, { sortPairs: true });
  const root = tree.getHexRoot();
  const treeSeconds = seconds(t);
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  console.log(`baseline: merkletreejs tree in ${treeSeconds.toFixed(2)} s, peak RSS ${peakRssMb} MB`);
  console.log(JSON.stringify({ root, leafSeconds, treeSeconds, peakRssMb }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
