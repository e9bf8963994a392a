import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { parseDeployConfig, resolveAddress, resolveGenesis } from "../../lib/deploy-config";
import { InputError } from "../../lib/errors";

const DEFAULT = fs.readFileSync(path.join(__dirname, "../../config/deploy/default.json"), "utf8");

function mutate(f: (c: any) => void): string {
  const c = JSON.parse(DEFAULT);
  f(c);
  return JSON.stringify(c, null, 2);
}

function errorOf(text: string): InputError {
  try {
    parseDeployConfig(text, "deploy.json");
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error("expected an InputError");
}

describe("lib/deploy-config", function () {
  it("accepts the committed configs: 45% to the vault, the rest to the treasury by default", function () {
    for (const name of ["default", "localhost", "hardhat"]) {
      const text = fs.readFileSync(path.join(__dirname, `../../config/deploy/${name}.json`), "utf8");
      const c = parseDeployConfig(text, `${name}.json`);
      expect(c.allocation.find((a) => a.recipient === "issuanceVault")!.amount).to.equal(450_000_000n * 10n ** 18n);
    }
    const c = parseDeployConfig(DEFAULT, "default.json");
    expect(c.allocation.find((a) => a.recipient === "treasury")!.amount).to.equal(550_000_000n * 10n ** 18n);
    expect(c.governance).to.deep.equal({
      votingDelay: 86400,
      votingPeriod: 604800,
      quorumPercent: 4,
      proposalThreshold: 100_000n * 10n ** 18n,
      timelockDelay: 172800,
    });
  });

  it("reads staking.minGrantAgeSeconds (7 days when omitted) and refuses it outside 1-90 days, naming the field", function () {
    expect(parseDeployConfig(DEFAULT, "default.json").staking.minGrantAgeSeconds).to.equal(604800);
    const omitted = mutate((c) => delete c.staking.minGrantAgeSeconds);
    expect(parseDeployConfig(omitted, "deploy.json").staking.minGrantAgeSeconds).to.equal(604800);
    for (const ok of [86400, 90 * 86400]) {
      const text = mutate((c) => (c.staking.minGrantAgeSeconds = ok));
      expect(parseDeployConfig(text, "deploy.json").staking.minGrantAgeSeconds).to.equal(ok);
    }
    for (const bad of [86399, 90 * 86400 + 1]) {
      expect(errorOf(mutate((c) => (c.staking.minGrantAgeSeconds = bad))).field).to.equal("staking.minGrantAgeSeconds");
    }
  });

  it("refuses an allocation that sums to more than the supply, naming the excess", function () {
    const e = errorOf(mutate((c) => (c.genesisAllocation[1].amount = "550000000.000000000000000001")));
    expect(e.message).to.equal(
      "deploy.json genesisAllocation: amounts sum to 1000000000.000000000000000001 DIMO but must sum to exactly 1000000000 DIMO (over by 0.000000000000000001)",
    );
  });

  it("refuses a vault amount different from the schedule total", function () {
    const e = errorOf(
      mutate((c) => {
        c.genesisAllocation[0].amount = "400000000";
        c.genesisAllocation[1].amount = "600000000";
      }),
    );
    expect(e.field).to.equal("genesisAllocation.issuanceVault");
  });

  it("names the file, line and field of a malformed value", function () {
    const text = mutate((c) => (c.genesisAllocation[1].amount = "55e7"));
    const e = errorOf(text);
    expect(e.source).to.equal("deploy.json");
    expect(e.field).to.equal("genesisAllocation[1].amount");
    expect(e.line).to.equal(text.split("\n").findIndex((l) => l.includes('"55e7"')) + 1);
  });

  it("names the line of invalid JSON", function () {
    const e = errorOf('{\n  "genesisAllocation": [\n    { "recipient": "treasury", }\n  ]\n}');
    expect(e.line).to.equal(3);
    expect(e.message).to.match(/invalid JSON/);
  });

  it("refuses unknown fields, both or neither of pool and firstWeekly, and duplicate recipients", function () {
    expect(errorOf(mutate((c) => (c.extra = 1))).message).to.match(/Unrecognized key/);
    expect(errorOf(mutate((c) => (c.issuance.firstWeekly = "1105000"))).field).to.equal("issuance");
    expect(errorOf(mutate((c) => delete c.issuance.pool)).field).to.equal("issuance");
    const dup = errorOf(
      mutate((c) => {
        c.genesisAllocation[1].amount = "540000000";
        c.genesisAllocation.push({ recipient: "treasury", amount: "10000000" });
      }),
    );
    expect(dup.message).to.match(/exactly one "treasury" entry, found 2/);
  });

  it("refuses a zero allocation and an out-of-range governance value", function () {
    const zero = errorOf(
      mutate((c) => c.genesisAllocation.push({ recipient: "0x0000000000000000000000000000000000000001", amount: "0" })),
    );
    expect(zero.field).to.equal("genesisAllocation[2].amount");
    expect(errorOf(mutate((c) => (c.governance.quorumPercent = 101))).field).to.equal("governance.quorumPercent");
  });

  it("resolves local accounts, environment variables and literal addresses", function () {
    const ctx = {
      accounts: ["0x00000000000000000000000000000000000000aa"],
      env: { GUARDIAN: "0x00000000000000000000000000000000000000bb" },
    };
    expect(resolveAddress("account:0", "guardian", "f", ctx)).to.equal(ctx.accounts[0]);
    expect(resolveAddress("env:GUARDIAN", "guardian", "f", ctx)).to.equal(ctx.env.GUARDIAN);
    expect(() => resolveAddress("account:3", "guardian", "f", ctx)).to.throw(InputError, /only 1 local accounts/);
    expect(() => resolveAddress("env:MISSING", "guardian", "f", ctx)).to.throw(
      InputError,
      /MISSING must hold a 0x address/,
    );
    expect(() => resolveAddress("treasury", "guardian", "f", ctx)).to.throw(InputError, /cannot resolve/);
  });

  it("resolves the default genesis to the next Monday 05:00 UTC", function () {
    const wed = Date.parse("2026-11-25T09:00:00Z") / 1000;
    expect(new Date(resolveGenesis("next-monday-0500-utc", wed) * 1000).toISOString()).to.equal(
      "2026-11-30T05:00:00.000Z",
    );
    expect(resolveGenesis(123, wed)).to.equal(123);
  });
});
