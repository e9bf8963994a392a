import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import {
  checkRoleAccounts,
  genesisQuorumWei,
  genesisVotableWei,
  parseDeployConfig,
  resolveAddress,
  resolveGenesis,
} from "../../lib/deploy-config";
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
  it("accepts the committed configs: 45% to the vault, 8% to the community pool, 47% to the treasury by default", function () {
    for (const name of ["default", "localhost", "hardhat"]) {
      const text = fs.readFileSync(path.join(__dirname, `../../config/deploy/${name}.json`), "utf8");
      const c = parseDeployConfig(text, `${name}.json`);
      expect(c.allocation.find((a) => a.recipient === "issuanceVault")!.amount).to.equal(450_000_000n * 10n ** 18n);
    }
    const c = parseDeployConfig(DEFAULT, "default.json");
    expect(c.allocation.find((a) => a.recipient === "treasury")!.amount).to.equal(470_000_000n * 10n ** 18n);
    expect(c.allocation.find((a) => a.recipient === "env:COMMUNITY_POOL_ADDRESS")!.amount).to.equal(
      80_000_000n * 10n ** 18n,
    );
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
    const e = errorOf(mutate((c) => (c.genesisAllocation[2].amount = "470000000.000000000000000001")));
    expect(e.message).to.equal(
      "deploy.json genesisAllocation: amounts sum to 1000000000.000000000000000001 DIMO but must sum to exactly 1000000000 DIMO (over by 0.000000000000000001)",
    );
  });

  it("refuses a vault amount different from the schedule total", function () {
    const e = errorOf(
      mutate((c) => {
        c.genesisAllocation[0].amount = "400000000";
        c.genesisAllocation[2].amount = "520000000";
      }),
    );
    expect(e.field).to.equal("genesisAllocation.issuanceVault");
  });

  it("names the file, line and field of a malformed value", function () {
    const text = mutate((c) => (c.genesisAllocation[2].amount = "47e7"));
    const e = errorOf(text);
    expect(e.source).to.equal("deploy.json");
    expect(e.field).to.equal("genesisAllocation[2].amount");
    expect(e.line).to.equal(text.split("\n").findIndex((l) => l.includes('"47e7"')) + 1);
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
        c.genesisAllocation[2].amount = "460000000";
        c.genesisAllocation.push({ recipient: "treasury", amount: "10000000" });
      }),
    );
    expect(dup.message).to.match(/exactly one "treasury" entry, found 2/);
  });

  it("refuses a zero allocation and an out-of-range governance value", function () {
    const zero = errorOf(
      mutate((c) => c.genesisAllocation.push({ recipient: "0x0000000000000000000000000000000000000001", amount: "0" })),
    );
    expect(zero.field).to.equal("genesisAllocation[3].amount");
    expect(errorOf(mutate((c) => (c.governance.quorumPercent = 101))).field).to.equal("governance.quorumPercent");
  });

  it("defaults the dispute bond to 10,000 DIMO, reads a configured one and refuses zero", function () {
    expect(parseDeployConfig(DEFAULT, "default.json").rewards.disputeBond).to.equal(10_000n * 10n ** 18n);
    const set = parseDeployConfig(
      mutate((c) => (c.rewards.disputeBond = "2500.5")),
      "deploy.json",
    );
    expect(set.rewards.disputeBond).to.equal(25_005n * 10n ** 17n);
    const e = errorOf(mutate((c) => (c.rewards.disputeBond = "0")));
    expect(e.field).to.equal("rewards.disputeBond");
    expect(e.message).to.match(/must be greater than zero/);
  });

  it("refuses a governance cycle not shorter than the 14-day dispute period (both sides pinned)", function () {
    // Default cycle: 1 day + 7 days + 2 days = 10 days. A voting period of 11 days - 1 s makes it 14 days - 1 s.
    const cycle = (votingPeriodSeconds: number) =>
      mutate((c) => {
        c.governance.votingPeriodSeconds = votingPeriodSeconds;
        c.staking.unbondingPeriodSeconds = 60 * 86400;
        c.staking.freezeDurationSeconds = 60 * 86400;
      });
    expect(() => parseDeployConfig(cycle(11 * 86400 - 1), "deploy.json")).not.to.throw();
    const e = errorOf(cycle(11 * 86400));
    expect(e.field).to.equal("governance");
    expect(e.message).to.match(/1209600 s must be shorter than the distributor's dispute period \(1209600 s\)/);
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

  describe("a governance that can act from day one (I-1)", function () {
    const WEI = 10n ** 18n;
    /** The default config with the community pool given `pool` DIMO and the treasury the rest. */
    const withPool = (pool: string, treasury: string, f: (c: any) => void = () => undefined) =>
      mutate((c) => {
        c.genesisAllocation[1].amount = pool;
        c.genesisAllocation[2].amount = treasury;
        f(c);
      });

    it("the default config: 80,000,000 DIMO can vote at genesis, twice the 40,000,000 quorum", function () {
      const c = parseDeployConfig(DEFAULT, "default.json");
      expect(genesisVotableWei(c.allocation)).to.equal(80_000_000n * WEI);
      expect(genesisQuorumWei(c.governance.quorumPercent)).to.equal(40_000_000n * WEI);
    });

    it("is the quorum percent of the supply, as the Governor computes it (totalSupply · percent / 100)", function () {
      expect(genesisQuorumWei(0)).to.equal(0n);
      expect(genesisQuorumWei(3)).to.equal(30_000_000n * WEI);
      expect(genesisQuorumWei(100)).to.equal(1_000_000_000n * WEI);
    });

    it("refuses the old default (45% vault, 55% treasury): nobody could ever vote", function () {
      const text = mutate((c) => {
        c.genesisAllocation.splice(1, 1);
        c.genesisAllocation[1].amount = "550000000";
      });
      const e = errorOf(text);
      expect(e.message).to.equal(
        `deploy.json:${text.split("\n").findIndex((l) => l.includes('"genesisAllocation"')) + 1} genesisAllocation: only 0 DIMO can vote at genesis (every allocation but the issuance vault and the treasury, which cannot vote) but the quorum is 4% of the supply = 40000000 DIMO, so no proposal could ever pass; allocate at least 40000000 DIMO more to accounts that delegate (e.g. a community pool) or lower governance.quorumPercent`,
      );
    });

    it("accepts votes at genesis exactly at the quorum and refuses 1 wei less", function () {
      const at = parseDeployConfig(withPool("40000000", "510000000"), "deploy.json");
      expect(genesisVotableWei(at.allocation)).to.equal(genesisQuorumWei(4));
      const e = errorOf(withPool("39999999.999999999999999999", "510000000.000000000000000001"));
      expect(e.field).to.equal("genesisAllocation");
      expect(e.message).to.match(
        /only 39999999\.999999999999999999 DIMO can vote .* at least 0\.000000000000000001 DIMO more/,
      );
    });

    it("counts every allocation but the vault and the treasury, literal addresses and local accounts alike", function () {
      const text = withPool("20000000", "510000000", (c) =>
        c.genesisAllocation.push(
          { recipient: "0x00000000000000000000000000000000000000a1", amount: "10000000" },
          { recipient: "account:2", amount: "10000000" },
        ),
      );
      expect(genesisVotableWei(parseDeployConfig(text, "deploy.json").allocation)).to.equal(40_000_000n * WEI);
    });

    it("accepts votes at genesis exactly at the proposal threshold and refuses 1 wei less", function () {
      const zeroQuorum = (c: any) => (c.governance.quorumPercent = 0);
      const at = parseDeployConfig(withPool("100000", "549900000", zeroQuorum), "deploy.json");
      expect(genesisVotableWei(at.allocation)).to.equal(at.governance.proposalThreshold);
      const text = withPool("99999.999999999999999999", "549900000.000000000000000001", zeroQuorum);
      const e = errorOf(text);
      expect(e.field).to.equal("governance.proposalThreshold");
      expect(e.line).to.equal(text.split("\n").findIndex((l) => l.includes('"proposalThreshold"')) + 1);
      expect(e.message).to.match(
        /100000 DIMO but only 99999\.999999999999999999 DIMO can vote at genesis, so nobody could ever propose/,
      );
    });
  });

  describe("role accounts", function () {
    const DEPLOYER = "0x00000000000000000000000000000000000000Aa";
    const OTHER = "0x00000000000000000000000000000000000000bb";
    const config = { source: "deploy.json", lines: { guardian: 7, publisher: 9 } };

    it("refuses the zero address, literal or from the environment", function () {
      const ctx = { accounts: [], env: { ZERO: "0x0000000000000000000000000000000000000000" } };
      expect(() => resolveAddress("0x0000000000000000000000000000000000000000", "guardian", "f", ctx)).to.throw(
        InputError,
        "f guardian: the zero address cannot hold a role or tokens",
      );
      expect(() => resolveAddress("env:ZERO", "rewards.publisher", "f", ctx)).to.throw(
        InputError,
        "f rewards.publisher: environment variable ZERO holds the zero address",
      );
    });

    it("refuses a guardian equal to the deployer (any letter case), naming the line", function () {
      expect(() =>
        checkRoleAccounts(config, { deployer: DEPLOYER, guardian: DEPLOYER.toLowerCase(), publisher: OTHER }),
      ).to.throw(
        InputError,
        `deploy.json:7 guardian: ${DEPLOYER.toLowerCase()} is the deployer, which must keep no power after the deploy; use a separate account`,
      );
    });

    it("refuses a publisher equal to the deployer, naming the line", function () {
      expect(() => checkRoleAccounts(config, { deployer: DEPLOYER, guardian: OTHER, publisher: DEPLOYER })).to.throw(
        InputError,
        `deploy.json:9 rewards.publisher: ${DEPLOYER} is the deployer`,
      );
    });

    it("accepts a guardian and publisher other than the deployer", function () {
      expect(() => checkRoleAccounts(config, { deployer: DEPLOYER, guardian: OTHER, publisher: OTHER })).not.to.throw();
    });

    it("records the lines of the guardian and the publisher", function () {
      const c = parseDeployConfig(DEFAULT, "default.json");
      const lines = DEFAULT.split("\n");
      expect(c.lines.guardian).to.equal(lines.findIndex((l) => l.includes('"guardian"')) + 1);
      expect(c.lines.publisher).to.equal(lines.findIndex((l) => l.includes('"publisher"')) + 1);
    });
  });
});
