import { task } from "hardhat/config";
import { cli } from "./kit";

task("deploy", "Deploys (or completes) the DIMO suite and writes deployments/<network>.json")
  .addOptionalParam("deployConfig", "Deploy config file (default config/deploy/<network>.json or default.json)")
  .addFlag("reset", "Ignore the existing deployment record and deploy everything again")
  .addFlag("yes", "Required to send transactions on a non-local network (otherwise: dry run)")
  .setAction(
    // A config or record problem is one line naming the file, line and field (InputError), not a stack trace.
    cli("dimo-deploy", async (args: { deployConfig?: string; reset: boolean; yes: boolean }, hre) => {
      const { deploySuite, isLocalNetwork, loadDeployConfig, defaultConfigPath } =
        await import("../scripts/deploy-suite");
      const { formatDimo } = await import("../lib/units");
      const { genesisQuorumWei, genesisVotableWei, resolveDeployAccounts } = await import("../lib/deploy-config");
      await hre.run("compile", { quiet: true });
      if (!isLocalNetwork(hre.network.name) && !args.yes) {
        const file = args.deployConfig ?? defaultConfigPath(hre.config.paths.root, hre.network.name);
        const config = loadDeployConfig(hre.config.paths.root, hre.network.name, file);
        const signers = await hre.ethers.getSigners();
        // Without a key the dry run still validates the config; only the deployer comparison is skipped.
        const deployer = signers[0]?.address ?? "(none: DEPLOYER_PRIVATE_KEY unset, not compared)";
        const accounts = resolveDeployAccounts(config, {
          deployer,
          accounts: signers.map((s) => s.address),
          env: process.env,
        });
        console.log(`Dry run on ${hre.network.name}: config ${config.source} is valid.`);
        config.allocation.forEach((a, i) => {
          const to =
            accounts.recipients[i] === a.recipient ? a.recipient : `${a.recipient} (${accounts.recipients[i]})`;
          console.log(`  genesis ${to}: ${formatDimo(a.amount)} DIMO`);
        });
        console.log(`  deployer ${deployer}; guardian ${accounts.guardian}; publisher ${accounts.rewardsPublisher}`);
        console.log(
          `  votes possible at genesis ${formatDimo(genesisVotableWei(config.allocation))} DIMO (quorum ${formatDimo(genesisQuorumWei(config.governance.quorumPercent))} DIMO)`,
        );
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
