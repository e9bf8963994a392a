import { task } from "hardhat/config";
import { cli } from "./kit";

task("deploy", "Deploys (or completes) the DIMO suite and writes deployments/<network>.json")
  .addOptionalParam("deployConfig", "Deploy config file (default config/deploy/<network>.json or default.json)")
  .addFlag("reset", "Ignore the existing deployment record and deploy everything again")
  .addFlag("yes", "Required to send transactions on a non-local network (otherwise: dry run)")
  .setAction(
    cli("dimo-deploy", async (args: { deployConfig?: string; reset: boolean; yes: boolean }, hre) => {
      const { deploySuite, isLocalNetwork, loadDeployConfig, defaultConfigPath } =
        await import("../scripts/deploy-suite");
      const { formatDimo } = await import("../lib/units");
      await hre.run("compile", { quiet: true });
      if (!isLocalNetwork(hre.network.name) && !args.yes) {
        const file = args.deployConfig ?? defaultConfigPath(hre.config.paths.root, hre.network.name);
        const config = loadDeployConfig(hre.config.paths.root, hre.network.name, file);
        console.log(`Dry run on ${hre.network.name}: config ${config.source} is valid.`);
        for (const a of config.allocation) console.log(`  genesis ${a.recipient}: ${formatDimo(a.amount)} DIMO`);
        console.log("Nothing was sent. Re-run with --yes to deploy.");
        return;
      }
      const { deploymentRecordPath, HARDHAT_NETWORK, NO_RUNNING_NETWORK } = await import("../scripts/registry-context");
      // Where the tasks read it: deployments/<network>.json, or DIMO_DEPLOYMENTS_DIR when set.
      await deploySuite(hre, {
        configPath: args.deployConfig,
        reset: args.reset,
        recordPath: deploymentRecordPath(hre),
      });
      if (hre.network.name === HARDHAT_NETWORK) {
        console.log(
          `Note: this deployment lived on Hardhat's in-process network and ended with this command; ${NO_RUNNING_NETWORK}.`,
        );
      }
    }),
  );
