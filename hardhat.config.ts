import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/config";
import "@nomicfoundation/hardhat-toolbox";

import "./tasks";

const SOLC_VERSION = "0.8.28";

// No compiler download is possible here: compile with the pinned npm `solc` (wasm) package.
subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const solc = require("solc") as { version(): string };
  return {
    version: SOLC_VERSION,
    longVersion: solc.version().replace(".Emscripten.clang", ""),
    compilerPath: require.resolve("solc/soljson.js"),
    isSolcJs: true,
  };
});

const networks: HardhatUserConfig["networks"] = {
  hardhat: { initialDate: "2026-11-25T00:00:00Z" },
  // LOCALHOST_RPC_URL lets CI run its node on any free port.
  localhost: { url: process.env.LOCALHOST_RPC_URL ?? "http://127.0.0.1:8545" },
};
// Real networks come from the environment only; nothing secret is committed.
if (process.env.RPC_URL) {
  networks[process.env.NETWORK_NAME ?? "remote"] = {
    url: process.env.RPC_URL,
    accounts: process.env.DEPLOYER_PRIVATE_KEY ? [process.env.DEPLOYER_PRIVATE_KEY] : [],
  };
}

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      evmVersion: "cancun",
      optimizer: { enabled: true, runs: 10_000 },
    },
  },
  networks,
  gasReporter: { enabled: process.env.REPORT_GAS === "1", offline: true },
  // TEST_TIMINGS=<file>: per-file wall times (scripts/test-timings.js), to see where the suite spends its time.
  mocha: {
    timeout: 120_000,
    ...(process.env.TEST_TIMINGS ? { reporter: require.resolve("./scripts/test-timings.js") } : {}),
  },
};

export default config;
