/**
 * An error in something a person supplied (a file, a CLI argument, a config field). The message always
 * names where the bad value is: `<source>[:<line>] <field>: <problem>`.
 */
export class InputError extends Error {
  constructor(
    readonly source: string,
    readonly field: string,
    readonly problem: string,
    readonly line?: number,
  ) {
    super(`${source}${line === undefined ? "" : `:${line}`} ${field}: ${problem}`);
    this.name = "InputError";
  }
}
