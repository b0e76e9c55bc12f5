import type { SessionManager } from '../../core/manager.js';
import type { FlagSettings, ParsedFlags } from './flags.js';
import type { Output } from './output.js';

/** One `unisession sessions <name>` sub-command: its flags, its help, and what it does. */
export interface Subcommand extends FlagSettings {
  /** The usage line and the sub-command's own flags (the shared ones are appended). */
  readonly help: string[];
  /** Checks what only this sub-command knows (operands, combinations); throws a UsageError. Runs before the store opens. */
  check?(flags: ParsedFlags): void;
  /** Does the work; resolves to the exit code (see exit.ts). */
  run(flags: ParsedFlags, manager: SessionManager, output: Output): Promise<number>;
}
