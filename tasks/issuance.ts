/**
 * `npx hardhat issuance [--pool DIMO | --first-weekly DIMO] [--years N] [--weeks-per-year N] [--decay-bps N]
 *   [--genesis ISO] [--out file.csv] [--chart file.svg]`
 *
 * Prints the issuance schedule per year, optionally writes every week as CSV and a chart as SVG.
 * Needs no compiled artifacts and no network. Every argument is validated before anything is written; files are
 * written atomically (temp file in the same directory + rename). Bad input: a one-line `Error: argument --x: ...` on
 * stderr, nothing written, and `process.exitCode = 1` (the Hardhat CLI exits with it).
 */
import * as fs from "fs";
import * as path from "path";
import { task, types } from "hardhat/config";

import { InputError } from "../lib/errors";
import { issuanceChartSvg } from "../lib/chart";
import {
  CLI_SOURCE,
  DEFAULT_GENESIS_ISO,
  type IssuanceCliArgs,
  MAX_DECAY_BPS,
  MAX_WEEKS_PER_YEAR,
  MAX_YEARS,
  formatScheduleSummary,
  formatYearTable,
  parseIssuanceArgs,
  weekCsv,
} from "../lib/issuance-cli";

const TASK = "issuance";

/** Checks that `file` can be created: its directory exists and it is not itself a directory. */
function checkWritable(arg: string, file: string): void {
  const dir = path.dirname(path.resolve(file));
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch {
    throw new InputError(CLI_SOURCE, arg, `directory "${dir}" does not exist`);
  }
  if (!dirStat.isDirectory()) throw new InputError(CLI_SOURCE, arg, `"${dir}" is not a directory`);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    throw new InputError(CLI_SOURCE, arg, `"${file}" is a directory`);
  }
}

/** Writes every file to a temp file next to it first, then renames them all; on failure leaves nothing behind. */
function writeFilesAtomically(files: { file: string; content: string }[]): void {
  const temps: { temp: string; file: string }[] = [];
  try {
    for (const { file, content } of files) {
      const temp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
      temps.push({ temp, file });
      fs.writeFileSync(temp, content, { flag: "wx" });
    }
    for (const { temp, file } of temps) fs.renameSync(temp, file);
  } catch (e) {
    for (const { temp } of temps) fs.rmSync(temp, { force: true });
    throw e;
  }
}

task(TASK, "Prints the DIMO issuance schedule per year; writes every week as CSV (--out) and a chart as SVG (--chart)")
  .addOptionalParam("pool", "Pool to spread exactly, in DIMO (decimal; default 450000000)", undefined, types.string)
  .addOptionalParam(
    "firstWeekly",
    "Fixed first-year weekly amount in DIMO, instead of deriving it from --pool (not with --pool)",
    undefined,
    types.string,
  )
  .addOptionalParam("years", `Number of years, 1..${MAX_YEARS} (default 40)`, undefined, types.string)
  .addOptionalParam("weeksPerYear", `Weeks per year, 1..${MAX_WEEKS_PER_YEAR} (default 52)`, undefined, types.string)
  .addOptionalParam(
    "decayBps",
    `Yearly decay of the weekly amount in basis points, 0..${MAX_DECAY_BPS} (default 1500 = 15%)`,
    undefined,
    types.string,
  )
  .addOptionalParam(
    "genesis",
    `Start of week 0, ISO-8601 with a time zone (default ${DEFAULT_GENESIS_ISO}, a Monday 05:00 UTC)`,
    undefined,
    types.string,
  )
  .addOptionalParam(
    "out",
    "Write every week to this CSV file (week,start,end,amount_wei,cumulative_wei)",
    undefined,
    types.string,
  )
  .addOptionalParam(
    "chart",
    "Write a chart of weekly and cumulative issuance to this SVG file",
    undefined,
    types.string,
  )
  .setAction(async (args: IssuanceCliArgs) => {
    try {
      const opts = parseIssuanceArgs(args);
      if (opts.out !== undefined) checkWritable("--out", opts.out);
      if (opts.chart !== undefined) checkWritable("--chart", opts.chart);
      const files: { file: string; content: string }[] = [];
      if (opts.out !== undefined) files.push({ file: opts.out, content: weekCsv(opts.schedule, opts.genesis) });
      if (opts.chart !== undefined) {
        files.push({ file: opts.chart, content: issuanceChartSvg(opts.schedule, opts.genesis) });
      }

      for (const w of opts.warnings) console.warn(`Warning: ${w}`);
      console.log(formatYearTable(opts.schedule, opts.genesis));
      console.log("(whole DIMO, rounded down; the CSV has every week exactly in wei)");
      console.log("");
      console.log(formatScheduleSummary(opts));

      writeFilesAtomically(files);
      for (const { file } of files) console.log(`wrote ${file}`);
    } catch (e) {
      // One clear line and exit code 1. (Throwing a HardhatPluginError would also exit 1, but Hardhat then prints
      // a stack trace on any machine it takes for CI, e.g. every Linux box without $DISPLAY.)
      const message =
        e instanceof InputError
          ? e.message
          : e instanceof Error && "code" in e && "path" in e
            ? `could not write ${String((e as NodeJS.ErrnoException).path)}: ${e.message}`
            : undefined;
      if (message === undefined) throw e;
      console.error(`Error: ${message}`);
      process.exitCode = 1;
    }
  });
