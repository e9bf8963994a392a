/**
 * The stores the telemetry tests run against: the embedded SQLite store, and PostgreSQL at
 * `TEST_DATABASE_URL`, or, when it is unset, a throwaway server that `scripts/pg-test-server.sh` starts
 * on first use (installing Debian's postgresql when missing, as root) and a root `after` hook stops. Each
 * `open()` gets an empty database (a fresh SQLite file, or a fresh PostgreSQL database).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { openStore, type StoreKind, type TelemetryStore } from "../../node/store";

const SCRIPT = path.join(__dirname, "..", "..", "scripts", "pg-test-server.sh");
let started: { dir: string; url: string } | undefined;
let counter = 0;

/** The base PostgreSQL URL for tests (starting the throwaway server when needed). */
export function testPostgresUrl(): string {
  if (process.env.TEST_DATABASE_URL) return process.env.TEST_DATABASE_URL;
  if (!started) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "dimo-pg-"));
    const url = execFileSync("bash", [SCRIPT, "start", dir], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    started = { dir, url };
  }
  return started.url;
}

after(function () {
  if (started) {
    execFileSync("bash", [SCRIPT, "stop", started.dir], { stdio: "inherit" });
    started = undefined;
  }
});

/** A URL of a new, empty PostgreSQL database. */
export async function freshPostgresUrl(): Promise<string> {
  const base = testPostgresUrl();
  const name = `telemetry_test_${process.pid}_${Date.now()}_${counter++}`;
  const client = new Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh SQLite file path. */
export function freshSqliteFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), "dimo-sqlite-")), "telemetry.sqlite");
}

export interface StoreTarget {
  kind: StoreKind;
  /** Opens an empty store; `location` reopens the same one (a restart). */
  open(location?: StoreLocation): Promise<{ store: TelemetryStore; location: StoreLocation }>;
}
export type StoreLocation = { databaseUrl?: string; sqliteFile?: string };

export const STORE_TARGETS: StoreTarget[] = [
  {
    kind: "sqlite",
    async open(location) {
      const loc = location ?? { sqliteFile: freshSqliteFile() };
      return { store: await openStore(loc), location: loc };
    },
  },
  {
    kind: "postgres",
    async open(location) {
      const loc = location ?? { databaseUrl: await freshPostgresUrl() };
      return { store: await openStore(loc), location: loc };
    },
  },
];
