import { expect } from "chai";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runHardhatCli } from "../helpers/tasks";

/**
 * Hardhat prints every error again with its stack when it believes it runs in CI, and a Linux box without
 * DISPLAY counts as CI. These run the real CLI in exactly that environment (DISPLAY, WAYLAND_DISPLAY, CI and
 * GITHUB_ACTIONS unset, on Linux) and check that a task's error is one line.
 */
const HEADLESS = { DISPLAY: undefined, WAYLAND_DISPLAY: undefined, CI: undefined, GITHUB_ACTIONS: undefined };

/** stderr's non-empty lines. */
const lines = (text: string) => text.split("\n").filter((l) => l.trim() !== "");

describe("task errors are one line on a headless machine", function () {
  this.timeout(180_000);
  let dir: string;

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-one-line-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("a bad argument: one line, no stack trace, exit 1", function () {
    const cli = runHardhatCli(["staking:stake", "--amount", "0"], dir, HEADLESS);
    expect(cli.status).to.equal(1);
    expect(lines(cli.stderr)).to.deep.equal([
      "Error in plugin dimo-staking: staking:stake --amount: must be more than 0",
    ]);
    expect(cli.stderr).not.to.match(/^\s+at /m);
  });

  it("Hardhat's own argument errors (a missing parameter, an unknown option): one line, exit 1", function () {
    const missing = runHardhatCli(["rewards:verify"], dir, HEADLESS);
    expect(missing.status).to.equal(1);
    expect(lines(missing.stderr)).to.deep.equal([
      "Error HH306: The '--file' parameter of task 'rewards:verify' expects a value, but none was passed.",
    ]);
    const unknown = runHardhatCli(["staking:status", "--no-such-option", "1"], dir, HEADLESS);
    expect(unknown.status).to.equal(1);
    const got = lines(unknown.stderr);
    expect(got).to.have.length(1);
    expect(got[0]).to.match(/^Error HH\d+: .*no-such-option/);
    expect(unknown.stderr + missing.stderr).not.to.match(/^\s+at /m);
  });

  it("--show-stack-traces still prints the stack", function () {
    const cli = runHardhatCli(["staking:stake", "--amount", "0", "--show-stack-traces"], dir, HEADLESS);
    expect(cli.status).to.equal(1);
    expect(cli.stderr).to.match(/^\s+at /m);
  });

  it("a task without --network says tasks need a running network and how to start one", function () {
    const cli = runHardhatCli(["staking:status"], dir, HEADLESS);
    expect(cli.status).to.equal(1);
    const got = lines(cli.stderr);
    expect(got).to.have.length(1);
    expect(got[0]).to.include("tasks need a running network");
    expect(got[0]).to.include("npx hardhat node --hostname 127.0.0.1");
    expect(got[0]).to.include("--network localhost");
  });

  it("a truncated deployment record names the file and the line", function () {
    const file = path.join(dir, "hardhat.json");
    fs.writeFileSync(file, '{\n  "chainId": 31337,\n  "contracts": {\n    "DimoToken": { "address": "0x12');
    try {
      const cli = runHardhatCli(["staking:status"], dir, HEADLESS);
      expect(cli.status).to.equal(1);
      const got = lines(cli.stderr);
      expect(got).to.have.length(1);
      expect(got[0]).to.match(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:4 .*invalid JSON`));
      expect(cli.stderr).not.to.include("unexpected error");
    } finally {
      fs.rmSync(file);
    }
  });
});
