/**
 * `chain:advance` arguments: where a local chain's clock should go. Exactly one of `--to-week N` (the start of
 * issuance week N, so weeks 0..N-1 have ended), `--to <time>` (an ISO date-time with its zone, or unix
 * seconds) or `--by <duration>` (`3d`, `+12h`, `2w`…). The target must be after the chain's current time.
 */
import { InputError } from "./errors";
import { WEEK_SECONDS, weekBounds } from "./issuance";
import { isoOf, parseFutureTime, type Where } from "./registry-args";

export interface AdvanceArgs {
  toWeek?: string;
  to?: string;
  by?: string;
}

export interface AdvanceTarget {
  /** Unix seconds the next block will carry. */
  timestamp: number;
  /** What the target is, in words. */
  label: string;
}

/** Largest week `--to-week` accepts (the schedule's 2,080 weeks and a margin). */
export const MAX_ADVANCE_WEEK = 100_000;

/** The target of `chain:advance` for `now` (latest block time) and the vault's `genesis`. */
export function parseAdvanceTarget(args: AdvanceArgs, source: string, now: number, genesis: number): AdvanceTarget {
  const given = (["toWeek", "to", "by"] as const).filter((k) => args[k] !== undefined);
  const flag = { toWeek: "--to-week", to: "--to", by: "--by" } as const;
  if (given.length !== 1) {
    throw new InputError(
      source,
      given.length === 0 ? "--to-week|--to|--by" : given.map((k) => flag[k]).join(" "),
      given.length === 0 ? "say where to go: --to-week N, --to <ISO time> or --by <duration>" : "give only one of them",
    );
  }
  const where: Where = { source, field: flag[given[0]] };
  if (args.toWeek !== undefined) {
    const text = args.toWeek.trim();
    if (!/^\d{1,6}$/.test(text) || Number(text) > MAX_ADVANCE_WEEK) {
      throw new InputError(source, where.field, `expected a week number 0-${MAX_ADVANCE_WEEK}, got "${args.toWeek}"`);
    }
    const week = Number(text);
    const { start } = weekBounds(genesis, week);
    if (start <= now) {
      const current = Math.floor((now - genesis) / WEEK_SECONDS);
      throw new InputError(
        source,
        where.field,
        `week ${week} started at ${isoOf(start)}, not after chain time ${isoOf(now)} (the chain is in week ${current}); time only moves forward`,
      );
    }
    const ended =
      week === 0 ? "no week has ended yet" : week === 1 ? "week 0 has ended" : `weeks 0-${week - 1} have ended`;
    return { timestamp: start, label: `the start of week ${week} (${isoOf(start)}; ${ended})` };
  }
  if (args.to !== undefined) {
    const t = Number(parseFutureTime(args.to, where, now));
    return { timestamp: t, label: isoOf(t) };
  }
  const by = args.by!.trim();
  if (!/^\+?\d{1,9}[smhdw]$/.test(by)) {
    throw new InputError(source, where.field, `expected a duration <n>[s|m|h|d|w] (e.g. 3d, 12h), got "${args.by}"`);
  }
  const t = Number(parseFutureTime(by.startsWith("+") ? by : `+${by}`, where, now));
  return { timestamp: t, label: `${isoOf(t)} (${by.replace(/^\+/, "")} later)` };
}
