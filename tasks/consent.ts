/**
 * Consent tasks (thin: argument parsing, files and printing; the rules are in lib/consent/).
 *
 * `staking:evidence --consumer C [--vehicle V] --log <access.jsonl> [--head-count N --head-hash H] [--out f]`
 * verifies the node's access log (against the published head when given), writes the evidence of C's reads (of V)
 * and prints its keccak256: the `evidenceHash` of a slash proposal, whose `evidenceURI` is where the file is
 * published. Works offline: it reads no chain.
 */
import fs from "node:fs";
import path from "node:path";
import { task } from "hardhat/config";
import { InputError } from "../lib/errors";
import { evidenceFile, exportEvidence, parseAccessLog, type LogHead } from "../lib/consent/access-log";
import { ConsentError } from "../lib/consent/errors";
import { parseAddress, parseId, parseIntIn } from "../lib/registry-args";
import { arg, cli, say, table } from "./kit";

const PLUGIN = "dimo-consent";
const T = "staking:evidence";

function readLog(file: string | undefined): { text: string; source: string } {
  if (file === undefined || file === "")
    throw new InputError(T, "--log", "missing (the node's access log, JSON Lines)");
  try {
    return { text: fs.readFileSync(file, "utf8"), source: file };
  } catch (e) {
    throw new InputError(
      T,
      "--log",
      `cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
}

function parseHead(count: string | undefined, hash: string | undefined): LogHead | undefined {
  if (count === undefined && hash === undefined) return undefined;
  if (count === undefined || hash === undefined) {
    throw new InputError(
      T,
      count === undefined ? "--head-count" : "--head-hash",
      "give both --head-count and --head-hash",
    );
  }
  if (!/^0x[0-9a-f]{64}$/.test(hash))
    throw new InputError(T, "--head-hash", `"${hash}" is not a lower-case 32-byte hex hash`);
  return { count: parseIntIn(count, arg(T)("head-count"), 0, Number.MAX_SAFE_INTEGER), hash };
}

task(T, "Exports a consumer's reads from the node's access log as evidence for a slash proposal (file + keccak256)")
  .addParam("consumer", "The consumer's address")
  .addOptionalParam("vehicle", "Only this vehicle's reads")
  .addParam("log", "The node's access log (JSON Lines)")
  .addOptionalParam("headCount", "Entries of the published head (with --head-hash)")
  .addOptionalParam("headHash", "Hash of the published head (with --head-count)")
  .addOptionalParam("out", "Evidence file to write (default: evidence-<consumer>[-<vehicle>].json beside the log)")
  .setAction(
    cli(
      PLUGIN,
      async (args: {
        consumer?: string;
        vehicle?: string;
        log?: string;
        headCount?: string;
        headHash?: string;
        out?: string;
      }) => {
        const consumer = parseAddress(args.consumer, arg(T)("consumer"));
        const vehicleId = args.vehicle === undefined ? undefined : parseId(args.vehicle, arg(T)("vehicle")).toString();
        const published = parseHead(args.headCount, args.headHash);
        const { text, source } = readLog(args.log);
        const entries = parseAccessLog(text, source);
        let evidence;
        try {
          evidence = exportEvidence(entries, { consumer, vehicleId, published });
        } catch (e) {
          if (e instanceof ConsentError) throw new InputError(source, "log", e.message);
          throw e;
        }
        const out =
          args.out ??
          path.join(
            path.dirname(source),
            `evidence-${consumer.toLowerCase()}${vehicleId === undefined ? "" : `-${vehicleId}`}.json`,
          );
        const file = evidenceFile(evidence);
        fs.writeFileSync(out, file.text);
        say(
          `Evidence of ${consumer}'s reads${vehicleId === undefined ? "" : ` of vehicle ${vehicleId}`} written to ${out}`,
        );
        table([
          ["log head", `${evidence.head.count} entries, ${evidence.head.hash}${published ? " (published head)" : ""}`],
          ["reads", String(evidence.summary.reads)],
          ["rows returned", String(evidence.summary.rows)],
          ["vehicles read", String(Object.keys(evidence.summary.readsByVehicle).length)],
          ["evidenceHash", file.hash],
        ]);
        say("Publish the file and pass its address as the slash proposal's evidenceURI, with this evidenceHash.");
        return { out, evidenceHash: file.hash, evidence };
      },
    ),
  );
