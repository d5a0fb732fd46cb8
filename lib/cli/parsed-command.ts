// The shell shared by subcommands that parse their arguments and then run
// long work: usage errors exit with 2, --help prints the usage, Ctrl-C
// (an AbortError from withInterrupt) exits with 130, other failures with 1.
import { AbortError } from '../errors.js';
import type { Command } from './main.js';

export interface ParsedCommandSpec<Options> {
  /** The subcommand's name, used as the prefix of its messages. */
  name: string;
  summary: string;
  usage: string;
  /** Returns the options, or 'help'. Throws on invalid arguments. */
  parse(args: string[]): Options | 'help';
  /** Runs the command and resolves to the exit code. */
  run(options: Options): Promise<number>;
  /** Message printed to stderr on Ctrl-C (default `claq NAME: interrupted`). */
  interruptedMessage?: string;
}

/** Builds a Command from an argument parser and a runner. */
export function parsedCommand<Options>(spec: ParsedCommandSpec<Options>): Command {
  const prefix = `claq ${spec.name}`;
  return {
    summary: spec.summary,
    async run(args: string[]): Promise<number> {
      let options: Options | 'help';
      try {
        options = spec.parse(args);
      } catch (error) {
        console.error(`${prefix}: ${(error as Error).message}`);
        console.error(spec.usage);
        return 2;
      }
      if (options === 'help') {
        console.log(spec.usage);
        return 0;
      }

      try {
        return await spec.run(options);
      } catch (error) {
        if (error instanceof AbortError) {
          console.error(spec.interruptedMessage ?? `${prefix}: interrupted`);
          return 130;
        }
        console.error(`${prefix}: ${error instanceof Error ? error.message : String(error)}`);
        return 1;
      }
    },
  };
}
