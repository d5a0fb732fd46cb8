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
  /** Library option names and the flags that set them, so that library errors name the flag. */
  flags?: Readonly<Record<string, string>>;
}

/** Builds a Command from an argument parser and a runner. */
export function parsedCommand<Options>(spec: ParsedCommandSpec<Options>): Command {
  const prefix = `claq ${spec.name}`;
  return {
    summary: spec.summary,
    async run(args: string[]): Promise<number> {
      let options: Options | 'help';
      try {
        options = spec.parse(joinNegativeValues(args));
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
        const message = error instanceof Error ? error.message : String(error);
        console.error(`${prefix}: ${nameFlags(message, spec.flags ?? {})}`);
        return 1;
      }
    },
  };
}

// Writes `--flag -3` as `--flag=-3`: node:util's parseArgs reads a value that
// starts with a dash as a missing value, so a negative number would get its
// "ambiguous argument" message instead of the flag's own range check.
function joinNegativeValues(args: string[]): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const next = args[i + 1];
    if (/^--[a-z][a-z0-9-]*$/.test(flag) && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      joined.push(`${flag}=${next}`);
      i++;
    } else {
      joined.push(flag);
    }
  }
  return joined;
}

/** Replaces `options.name` in a library message with the flag that sets it. */
export function nameFlags(message: string, flags: Readonly<Record<string, string>>): string {
  const renamed = message.replace(/\boptions\.([A-Za-z]+)/g, (match, name: string) => flags[name] ?? match);
  return flags.overwrite === undefined ? renamed : renamed.replace(/\bset overwrite\b/, `pass ${flags.overwrite}`);
}
