/**
 * `npm run readme:walk`: runs the README's local-node walk exactly as written, so the README cannot go stale.
 *
 * Collects the README's code blocks fenced as ```sh walk (in order), starts `hardhat node` on a free
 * 127.0.0.1 port, and runs the blocks as one bash script (`set -euo pipefail`, every command echoed) in a
 * temporary work directory that looks like the project (its sources, config, node_modules, artifacts linked),
 * so the commands' files (CSVs, week files) land there; the deployment record goes there too
 * (DIMO_DEPLOYMENTS_DIR), and nothing in the worktree changes.
 * `--network localhost` reaches the node through LOCALHOST_RPC_URL. The first failing command stops the walk
 * with its README line (an ERR trap) and exits 1; the node and the work directory are removed either way (`--keep` keeps the
 * directory).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { DEPLOYMENTS_DIR_ENV } from "./registry-context";

const ROOT = path.resolve(__dirname, "..");
/** What the work directory links from the project: enough for `npx hardhat <task>` to run there. */
const LINKED = [
  "hardhat.config.ts",
  "tsconfig.json",
  "package.json",
  "node_modules",
  "contracts",
  "tasks",
  "lib",
  "scripts",
  "config",
  "artifacts",
  "cache",
  "typechain-types",
];

export interface WalkBlock {
  /** 1-based README line of the block's first command. */
  line: number;
  /** The block's lines, as written. */
  lines: string[];
}

/** The ```sh walk blocks of a Markdown text, in order. */
export function walkBlocks(markdown: string): WalkBlock[] {
  const blocks: WalkBlock[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (!/^```sh walk\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let j = start;
    while (j < lines.length && !/^```\s*$/.test(lines[j])) j++;
    if (j >= lines.length) throw new Error(`README.md:${i + 1}: a \`\`\`sh walk block is never closed`);
    blocks.push({ line: start + 1, lines: lines.slice(start, j) });
    i = j;
  }
  return blocks;
}

/**
 * One bash script of the blocks: each README line is kept on its own script line (so $LINENO maps back to the
 * README through `lineMap`), a trap names the failing README line.
 */
export function walkScript(blocks: WalkBlock[]): { script: string; lineMap: number[] } {
  const body: string[] = [];
  const readmeLines: number[] = [];
  for (const b of blocks) {
    b.lines.forEach((l, k) => {
      body.push(l);
      readmeLines.push(b.line + k);
    });
  }
  // Script lines 1-5 are this header; script line 6 + k is README line readmeLines[k].
  const HEADER = 5;
  const lineMap = [...new Array<number>(HEADER + 1).fill(0), ...readmeLines];
  const header = [
    `__map=(${lineMap.join(" ")})`,
    "PS4='+ [README.md:${__map[$LINENO]:-?}] '",
    "trap 'echo \"README walk FAILED at README.md:${__map[$LINENO]:-?}: $BASH_COMMAND\" >&2' ERR",
    "set -euo pipefail",
    "set -x",
  ];
  return { script: [...header, ...body].join("\n") + "\n", lineMap };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function startNode(cwd: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    path.join(ROOT, "node_modules", ".bin", "hardhat"),
    ["node", "--hostname", "127.0.0.1", "--port", String(port)],
    { cwd, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output += b.toString();
      if (output.includes("Started HTTP")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`hardhat node exited (${code}):\n${output}`)));
  });
  child.stdout!.removeAllListeners("data");
  child.stderr!.removeAllListeners("data");
  child.stdout!.resume();
  child.stderr!.resume();
  return child;
}

async function stopNode(node: ChildProcess): Promise<void> {
  if (node.exitCode !== null || node.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => node.once("exit", () => resolve()));
  node.kill("SIGTERM");
  const timer = setTimeout(() => node.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<number> {
  const keep = process.argv.includes("--keep");
  const readme = path.join(ROOT, "README.md");
  const blocks = walkBlocks(fs.readFileSync(readme, "utf8"));
  if (blocks.length === 0) throw new Error("README.md has no ```sh walk block");
  const { script, lineMap } = walkScript(blocks);

  // Compile once in the project, so the walk's commands find the artifacts.
  const compile = spawnSync(path.join(ROOT, "node_modules", ".bin", "hardhat"), ["compile", "--quiet"], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (compile.status !== 0) throw new Error("npx hardhat compile failed");

  const work = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-readme-walk-"));
  for (const name of LINKED) {
    if (fs.existsSync(path.join(ROOT, name))) fs.symlinkSync(path.join(ROOT, name), path.join(work, name));
  }
  const port = await freePort();
  console.log(
    `README walk: ${blocks.length} blocks, ${lineMap.length - 5} lines; node on 127.0.0.1:${port}; in ${work}`,
  );
  const node = await startNode(work, port);
  try {
    const file = path.join(work, "walk.sh");
    fs.writeFileSync(file, script);
    const started = Date.now();
    const run = spawnSync("bash", [file], {
      cwd: work,
      stdio: "inherit",
      env: {
        ...process.env,
        LOCALHOST_RPC_URL: `http://127.0.0.1:${port}`,
        // Hardhat resolves the linked config to the project, so its root is the project's: keep the record here.
        [DEPLOYMENTS_DIR_ENV]: path.join(work, "deployments"),
        FORCE_COLOR: "0",
      },
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (run.status !== 0) {
      console.error(`README walk failed after ${seconds} s (exit ${run.status}); the failing line is named above`);
      return 1;
    }
    console.log(`README walk OK: every command of ${blocks.length} blocks succeeded in ${seconds} s`);
    return 0;
  } finally {
    await stopNode(node);
    if (keep) console.log(`work directory kept: ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exit(1);
    },
  );
}
