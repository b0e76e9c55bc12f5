/**
 * One subcommand of the `unisession` CLI. Each lives in its own module (`src/cli/<name>.ts`
 * or `src/cli/<name>/index.ts`) and is loaded only when it runs, so `unisession --help`
 * stays fast and a command's dependencies (a proxy, a database driver) load only for it.
 */
export interface Command {
  /** The full help text of the command (shown by `unisession <name> --help`). */
  readonly usage: string;
  /**
   * The command prints its own `--help` (one per sub-command, say): the CLI then passes
   * `--help` on to `run` instead of printing `usage`. @default false
   */
  readonly handlesHelp?: boolean;
  /**
   * Runs the command with the arguments after its name. Resolves to the process exit code;
   * a long-running command (the demo) resolves only when it has stopped.
   */
  run(argv: string[]): Promise<number>;
}

/** A problem with what the user typed: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
