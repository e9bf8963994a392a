import { expect } from "chai";
import { execFile } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "csv-parse/sync";
import {
  DEFAULT_GENESIS_ISO,
  type IssuanceCliArgs,
  WEEK_CSV_HEADER,
  formatScheduleSummary,
  formatYearTable,
  parseIsoUtcSeconds,
  parseIssuanceArgs,
  weekCsv,
} from "../../lib/issuance-cli";
import { DEFAULT_SCHEDULE_PARAMS, scheduleFromParams } from "../../lib/issuance";
import { expectInputError } from "../helpers/tasks";

const E18 = 10n ** 18n;
const POOL = 450_000_000n * E18;
const FIRST_WEEKLY = 1_300_029_959_710_292_160_200_586n;
const GENESIS = Date.UTC(2026, 10, 30, 5, 0, 0) / 1000;
const ROOT = path.resolve(__dirname, "../..");

const inputErrorOf = (args: IssuanceCliArgs) =>
  expectInputError(() => parseIssuanceArgs(args), `expected ${JSON.stringify(args)} to be rejected`);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function hardhat(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      "npx",
      ["hardhat", "issuance", ...args],
      { cwd: ROOT, timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: "0" } },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

interface CsvRow {
  week: string;
  start: string;
  end: string;
  amount_wei: string;
  cumulative_wei: string;
}

function checkCsv(text: string): CsvRow[] {
  expect(text.split("\n")[0]).to.equal("week,start,end,amount_wei,cumulative_wei");
  const rows = parse(text, { columns: true, skip_empty_lines: false }) as CsvRow[];
  let cumulative = 0n;
  rows.forEach((r, w) => {
    expect(r.week).to.equal(String(w));
    expect(r.start).to.equal(new Date((GENESIS + w * 604_800) * 1000).toISOString().replace(".000Z", "Z"));
    expect(r.end).to.equal(new Date((GENESIS + (w + 1) * 604_800) * 1000).toISOString().replace(".000Z", "Z"));
    expect(r.amount_wei).to.match(/^\d+$/);
    cumulative += BigInt(r.amount_wei);
    expect(BigInt(r.cumulative_wei)).to.equal(cumulative);
  });
  return rows;
}

describe("issuance task", function () {
  describe("argument parsing (lib/issuance-cli)", function () {
    it("defaults to the product schedule and genesis", function () {
      const o = parseIssuanceArgs({});
      expect(o.params).to.deep.equal(DEFAULT_SCHEDULE_PARAMS);
      expect(o.schedule.firstWeekly).to.equal(FIRST_WEEKLY);
      expect(o.schedule.remainder).to.equal(8n);
      expect(o.genesis).to.equal(GENESIS);
      expect(DEFAULT_GENESIS_ISO).to.equal("2026-11-30T05:00:00Z");
      expect(new Date(GENESIS * 1000).getUTCDay()).to.equal(1); // a Monday
      expect(o.warnings).to.deep.equal([]);
      expect(o.out).to.equal(undefined);
      expect(o.chart).to.equal(undefined);
    });

    it("accepts every parameter", function () {
      const o = parseIssuanceArgs({
        pool: "1000.5",
        years: "3",
        weeksPerYear: "4",
        decayBps: "0",
        genesis: "2026-12-07T07:00:00+02:00",
        out: "x.csv",
        chart: "x.SVG",
      });
      expect(o.params).to.deep.equal({ pool: 10005n * 10n ** 17n, years: 3, weeksPerYear: 4, decayBps: 0 });
      expect(o.genesis).to.equal(GENESIS + 604_800);
      expect(o.out).to.equal("x.csv");
      expect(o.chart).to.equal("x.SVG");
      const f = parseIssuanceArgs({ firstWeekly: "1105000" });
      expect(f.params.firstWeekly).to.equal(1_105_000n * E18);
      expect(f.schedule.firstWeekly).to.equal(1_105_000n * E18);
      expect(f.schedule.remainder).to.equal(0n);
    });

    it("warns (but accepts) a genesis that is not a Monday 05:00 UTC", function () {
      const o = parseIssuanceArgs({ genesis: "2026-12-01T05:00:00Z" });
      expect(o.warnings).to.have.length(1);
      expect(o.warnings[0]).to.include("--genesis");
    });

    const bad: [IssuanceCliArgs, string, RegExp][] = [
      [{ pool: "abc" }, "--pool", /non-negative decimal DIMO amount.*"abc"/],
      [{ pool: "-1" }, "--pool", /"-1"/],
      [{ pool: "1e9" }, "--pool", /"1e9"/],
      [{ pool: "0" }, "--pool", /greater than 0/],
      [{ pool: "1000000000.000000000000000001" }, "--pool", /total DIMO supply/],
      [{ pool: "450000000", firstWeekly: "1105000" }, "--first-weekly", /cannot be combined with --pool/],
      [{ firstWeekly: "0" }, "--first-weekly", /greater than 0/],
      [{ firstWeekly: "x" }, "--first-weekly", /"x"/],
      [{ firstWeekly: "100000000" }, "--first-weekly", /more than the total supply/],
      [{ years: "0" }, "--years", /from 1 to 1000/],
      [{ years: "2.5" }, "--years", /"2.5"/],
      [{ years: "1001" }, "--years", /"1001"/],
      [{ weeksPerYear: "0" }, "--weeks-per-year", /from 1 to 53/],
      [{ weeksPerYear: "54" }, "--weeks-per-year", /"54"/],
      [{ decayBps: "10000" }, "--decay-bps", /from 0 to 9999/],
      [{ decayBps: "-1" }, "--decay-bps", /"-1"/],
      [{ decayBps: "15%" }, "--decay-bps", /"15%"/],
      [{ decayBps: "" }, "--decay-bps", /""/],
      [{ genesis: "garbage" }, "--genesis", /ISO-8601 date-time with a time zone/],
      [{ genesis: "2026-11-30" }, "--genesis", /time zone/],
      [{ genesis: "2026-11-30T05:00:00" }, "--genesis", /time zone/],
      [{ genesis: "2026-11-30 05:00:00Z" }, "--genesis", /time zone/],
      [{ genesis: "2026-02-30T05:00:00Z" }, "--genesis", /not a valid date/],
      [{ genesis: "2026-11-30T24:00:00Z" }, "--genesis", /not a valid date/],
      [{ genesis: "2026-11-30T05:00:00.5Z" }, "--genesis", /whole second/],
      [{ genesis: "1969-12-31T23:59:59Z" }, "--genesis", /1970/],
      [{ out: "" }, "--out", /file path/],
      [{ out: "schedule.txt" }, "--out", /\.csv file name/],
      [{ chart: "chart.png" }, "--chart", /\.svg file name/],
    ];
    for (const [args, field, problem] of bad) {
      it(`rejects ${JSON.stringify(args)} naming ${field}`, function () {
        const e = inputErrorOf(args);
        expect(e.field).to.equal(field);
        expect(e.message.startsWith(`argument ${field}: `)).to.equal(true);
        expect(e.problem).to.match(problem);
      });
    }

    it("parses ISO times with offsets and optional seconds", function () {
      expect(parseIsoUtcSeconds("2026-11-30T05:00Z")).to.equal(GENESIS);
      expect(parseIsoUtcSeconds("2026-11-30T05:00:00.000Z")).to.equal(GENESIS);
      expect(parseIsoUtcSeconds("2026-11-30T00:00:00-05:00")).to.equal(GENESIS);
      expect(parseIsoUtcSeconds("2028-02-29T00:00:00Z")).to.equal(Date.UTC(2028, 1, 29) / 1000);
      expect(parseIsoUtcSeconds("1970-01-01T00:00:00Z")).to.equal(0);
    });
  });

  describe("output text (lib/issuance-cli)", function () {
    const s = scheduleFromParams(DEFAULT_SCHEDULE_PARAMS);

    it("week CSV: exact header, 2,080 rows, exact sum, consistent cumulative", function () {
      const csv = weekCsv(s, GENESIS);
      expect(WEEK_CSV_HEADER).to.equal("week,start,end,amount_wei,cumulative_wei");
      expect(csv.endsWith("\n")).to.equal(true);
      const lines = csv.trimEnd().split("\n");
      expect(lines).to.have.length(2081);
      expect(lines[1]).to.equal(
        "0,2026-11-30T05:00:00Z,2026-12-07T05:00:00Z,1300029959710292160200586,1300029959710292160200586",
      );
      const rows = checkCsv(csv);
      expect(rows).to.have.length(2080);
      expect(rows.reduce((a, r) => a + BigInt(r.amount_wei), 0n)).to.equal(POOL);
      expect(weekCsv(s, GENESIS)).to.equal(csv); // deterministic
    });

    it("year table and summary", function () {
      const table = formatYearTable(s, GENESIS).split("\n");
      expect(table).to.have.length(42);
      expect(table[0]).to.match(
        /Year\s+Starts \(UTC\)\s+Weekly \(DIMO\)\s+Yearly total \(DIMO\)\s+Cumulative \(DIMO\)/,
      );
      expect(table[2]).to.match(/^\s*1\s+2026-11-30\s+1,300,029\s+67,601,557\s+67,601,557$/);
      expect(table[41]).to.match(/^\s*40\s+2065-10-12\s+2,297\s+119,479\s+450,000,000$/);
      const summary = formatScheduleSummary(parseIssuanceArgs({}));
      expect(summary).to.include("1,300,029.959710292160200586 DIMO (1300029959710292160200586 wei)");
      expect(summary).to.include("1500 bps (15%)");
      expect(summary).to.include("2,080 (40 years x 52 weeks)");
      expect(summary).to.include("450000000000000000000000000 wei");
      expect(summary).to.match(/remainder:\s+8 wei, added to the last week \(week 2079\)/);
    });
  });

  describe("npx hardhat issuance (child processes)", function () {
    this.timeout(300_000);
    let dir: string;
    const runs: Record<string, Run> = {};

    before(async function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), "issuance-task-"));
      const p = (f: string): string => path.join(dir, f);
      // Run the four CLI invocations in parallel: each one boots Hardhat.
      const [def, fixed, badValue, badPath] = await Promise.all([
        hardhat(["--out", p("s.csv"), "--chart", p("s.svg")]),
        hardhat(["--first-weekly", "1105000", "--out", p("d.csv")]),
        hardhat(["--decay-bps", "10000", "--out", p("bad.csv"), "--chart", p("bad.svg")]),
        hardhat(["--out", p("ok.csv"), "--chart", p(path.join("missing-dir", "c.svg"))]),
      ]);
      Object.assign(runs, { def, fixed, badValue, badPath });
    });

    after(function () {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("default run: prints the table, writes the CSV (2,080 rows summing to 450e24 wei) and the SVG", function () {
      const { code, stdout, stderr } = runs.def;
      expect(code, stderr).to.equal(0);
      expect(stdout).to.include("450,000,000");
      expect(stdout).to.match(/remainder:\s+8 wei/);
      const csv = fs.readFileSync(path.join(dir, "s.csv"), "utf8");
      const rows = checkCsv(csv);
      expect(rows).to.have.length(2080);
      expect(rows.reduce((a, r) => a + BigInt(r.amount_wei), 0n)).to.equal(450_000_000_000_000_000_000_000_000n);
      expect(rows[2079].cumulative_wei).to.equal("450000000000000000000000000");
      expect(rows[0].amount_wei).to.equal(FIRST_WEEKLY.toString());
      expect(csv).to.equal(weekCsv(scheduleFromParams(DEFAULT_SCHEDULE_PARAMS), GENESIS));
      const svg = fs.readFileSync(path.join(dir, "s.svg"), "utf8");
      expect(svg.startsWith("<svg")).to.equal(true);
      // Atomic writes leave no temp files behind.
      expect(fs.readdirSync(dir).filter((f) => f.endsWith(".tmp"))).to.deep.equal([]);
    });

    it("--first-weekly 1105000: first week is exactly 1,105,000 DIMO", function () {
      const { code, stderr } = runs.fixed;
      expect(code, stderr).to.equal(0);
      const rows = checkCsv(fs.readFileSync(path.join(dir, "d.csv"), "utf8"));
      expect(rows).to.have.length(2080);
      expect(rows[0].amount_wei).to.equal((1_105_000n * E18).toString());
      expect(rows[52].amount_wei).to.equal((939_250n * E18).toString());
    });

    it("--decay-bps 10000: exits non-zero with a one-line error naming the argument, writes nothing", function () {
      const { code, stdout, stderr } = runs.badValue;
      expect(code).to.not.equal(0);
      const errorLines = stderr.split("\n").filter((l) => l.trim() !== "");
      expect(errorLines).to.deep.equal([
        'Error: argument --decay-bps: expected an integer from 0 to 9999 (basis points per year), got "10000"',
      ]);
      expect(stdout).not.to.include("Cumulative");
      expect(fs.existsSync(path.join(dir, "bad.csv"))).to.equal(false);
      expect(fs.existsSync(path.join(dir, "bad.svg"))).to.equal(false);
    });

    it("an unwritable --chart path: exits non-zero and does not write the (valid) --out file either", function () {
      const { code, stderr } = runs.badPath;
      expect(code).to.not.equal(0);
      expect(stderr).to.match(/argument --chart: directory .*missing-dir.* does not exist/);
      expect(fs.existsSync(path.join(dir, "ok.csv"))).to.equal(false);
    });
  });
});
