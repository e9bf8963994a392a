import fs from "node:fs";
import path from "node:path";
import {
  findNodeAtLocation,
  getLocation,
  parseTree,
  type Node,
  type ParseError,
  printParseErrorCode,
} from "jsonc-parser";
import type { ZodIssue, ZodType, ZodTypeDef } from "zod";
import { InputError } from "./errors";

/** 1-based line of a character offset. */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** `a.b[2].c` for a zod/jsonc path. */
export function formatPath(path: (string | number)[]): string {
  return (
    path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), "") || "(root)"
  );
}

/**
 * Parses JSON text and validates it with a zod schema. Any problem becomes an InputError naming the file,
 * the line of the offending value and its field path.
 */
export function parseJsonFile<T>(text: string, source: string, schema: ZodType<T, ZodTypeDef, unknown>): T {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  if (errors.length > 0 || tree === undefined) {
    const e = errors[0];
    const offset = e?.offset ?? 0;
    const where = getLocation(text, offset).path;
    throw new InputError(
      source,
      formatPath(where as (string | number)[]),
      `invalid JSON (${e ? printParseErrorCode(e.error) : "empty file"})`,
      lineOf(text, offset),
    );
  }
  const value: unknown = JSON.parse(text);
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue: ZodIssue = result.error.issues[0];
    throw new InputError(source, formatPath(issue.path), issue.message, lineOfPath(text, tree, issue.path));
  }
  return result.data;
}

/** Line of the deepest existing node on `path` (the field itself, or its parent when it is missing). */
export function lineOfPath(text: string, tree: Node, path: (string | number)[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = findNodeAtLocation(tree, path.slice(0, n));
    if (node) {
      // For a property value, point at the property key's line.
      const at = node.parent?.type === "property" ? node.parent.offset : node.offset;
      return lineOf(text, at);
    }
  }
  return 1;
}

/** Writes `text` to `file` whole or not at all (a temporary file beside it, fsynced, renamed); creates the folder. */
export function writeFileAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(tmp, "w");
    try {
      fs.writeSync(fd, text);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
