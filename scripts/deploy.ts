// `npx hardhat run scripts/deploy.ts --network <name>`: same as `npx hardhat deploy` on a local network.
import hre from "hardhat";
import { deploySuite } from "./deploy-suite";

deploySuite(hre).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
