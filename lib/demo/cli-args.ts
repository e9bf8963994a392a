/**
 * The command-line rule of `npm run demo` and `npm run app`: `--help` prints the usage and exits 0; an unknown
 * option or a stray word prints the problem and the usage and exits 1 (instead of being ignored).
 */
import { InputError } from "../errors";

export interface CliSpec {
  /** The command as typed, e.g. `npm run demo`. */
  command: string;
  /** Options taking a value (`--name v` or `--name=v`), without the dashes, with their help. */
  options: Record<string, string>;
  /** One paragraph under the usage line. */
  about: string;
}

/** The usage text of `spec`. */
export function usage(spec: CliSpec): string {
  const width = Math.max(...Object.keys(spec.options).map((k) => k.length)) + 4;
  const lines = [`Usage: ${spec.command} -- [options]`, "", spec.about, "", "Options:"];
  for (const [name, help] of Object.entries(spec.options)) lines.push(`  --${`${name} <v>`.padEnd(width)}  ${help}`);
  lines.push(`  --${"help".padEnd(width)}  print this and exit`);
  return lines.join("\n");
}

/**
 * "help" when `argv` asks for it, else "run" once every argument is a known option with a value; otherwise an
 * InputError naming the argument.
 */
export function checkCliArgs(argv: readonly string[], spec: CliSpec): "help" | "run" {
  if (argv.some((a) => a === "--help" || a === "-h")) return "help";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z][a-z-]*)(=.*)?$/.exec(a);
    if (!m) throw new InputError(spec.command, a, "unexpected argument (options are --name value)");
    if (!(m[1] in spec.options)) {
      throw new InputError(
        spec.command,
        `--${m[1]}`,
        `unknown option (known: ${Object.keys(spec.options)
          .map((o) => `--${o}`)
          .join(", ")}, --help)`,
      );
    }
    if (m[2] === undefined) {
      if (i + 1 >= argv.length || argv[i + 1].startsWith("--")) {
        throw new InputError(spec.command, `--${m[1]}`, "needs a value");
      }
      i++;
    }
  }
  return "run";
}

/** The options `npm run demo` takes (also accepted by `npm run app`). */
export const DEMO_OPTIONS: Record<string, string> = {
  vehicles: "synthetic vehicles (default 500, DEMO_VEHICLES)",
  weeks: "weeks simulated (default 8, DEMO_WEEKS)",
  seed: "random seed of the fleet and its driving (default 1, DEMO_SEED)",
  owners: "vehicle owners (default 40% of the vehicles, 10-800, DEMO_OWNERS)",
};

export const DEMO_CLI: CliSpec = {
  command: "npm run demo",
  options: { ...DEMO_OPTIONS, network: "hardhat (in-process, default) or localhost (a running `npx hardhat node`)" },
  about:
    "Runs the whole DIMO suite on a synthetic fleet: deploy, devices signing their trips to the network node (a few faulty ones refused), weekly rewards from what it stored, a data consumer's freeze and slash, claims, then batches accepted/refused, a summary and a reconciliation (exit 1 on any mismatch or failed step).",
};

export const APP_CLI: CliSpec = {
  command: "npm run app",
  options: {
    ...DEMO_OPTIONS,
    "rpc-port": "port of the local chain it starts on 127.0.0.1 (default 8545)",
    port: "port of the claim page on 127.0.0.1 (default 5173)",
  },
  about:
    "Starts a local chain, runs the demo against it, builds the driver claim page and serves it (Ctrl-C stops everything; any failed step stops everything and exits 1).",
};

/** Environment variable naming the step at which the demo fails on purpose (a test hook: `week:<N>`). */
export const DEMO_FAIL_AT_ENV = "DIMO_DEMO_FAIL_AT";
