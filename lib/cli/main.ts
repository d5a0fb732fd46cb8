#!/usr/bin/env node
// The `claq` command: one subcommand per module under lib/cli/.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export interface Command {
  /** One line for `claq help`. */
  summary: string;
  /** Runs the command with the arguments after its name; resolves to the exit code. */
  run(args: string[]): Promise<number>;
}

// Each entry loads its module only when that command runs or `claq help`
// lists the summaries, so a command's dependencies load only when needed.
const commands: Record<string, () => Promise<Command>> = {
  demo: async () => (await import('./demo.js')).command,
  inspect: async () => (await import('./inspect.js')).command,
  eval: async () => (await import('./eval.js')).command,
  export: async () => (await import('./export.js')).command,
  generate: async () => (await import('./generate.js')).command,
  quantize: async () => (await import('./quantize.js')).command,
};

async function printHelp(): Promise<void> {
  const lines = ['usage: claq <command> [options]', '', 'commands:'];
  const names = Object.keys(commands).sort();
  const width = Math.max(...names.map((name) => name.length));
  for (const name of names) lines.push(`  ${name.padEnd(width)}  ${(await commands[name]()).summary}`);
  lines.push('', 'Run "claq <command> --help" for the options of one command.');
  console.log(lines.join('\n'));
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    await printHelp();
    return name === undefined ? 1 : 0;
  }
  const load = commands[name];
  if (load === undefined) {
    console.error(`claq: unknown command '${name}'. Run "claq help" for the list.`);
    return 2;
  }
  const command = await load();
  return command.run(rest);
}

// npm installs the bin as a symlink (node_modules/.bin/claq), and argv[1]
// keeps the link's path, so compare the resolved path.
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (error: unknown) => {
      console.error(`claq: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
