// The command tree of the `ais` CLI: every command and subcommand has a summary, a usage line, its own
// flags (parsed with node's util.parseArgs, strict) and `--help`. Aliases mirror AIStore's
// (`ais put` = `ais object put`, `ais ls` = `ais bucket ls`, ...).
import { parseArgs } from 'node:util';
import type { Api } from './client';

export interface OptSpec {
  type: 'string' | 'boolean';
  short?: string;
  help: string;
  /** Shown in help: --prefix PREFIX. */
  arg?: string;
}

export type Flags = Record<string, string | boolean | undefined>;

export interface Ctx {
  api: Api;
  out: (line: string) => void;
  err: (line: string) => void;
  /** stdout is a terminal (tables may be decorated, progress shown). */
  tty: boolean;
}

export interface Command {
  name: string;
  aliases?: string[];
  summary: string;
  /** Positional arguments, e.g. 'BUCKET [BUCKET...]'. */
  args?: string;
  description?: string;
  options?: Record<string, OptSpec>;
  examples?: string[];
  sub?: Command[];
  run?: (ctx: Ctx, pos: string[], flags: Flags) => Promise<void>;
}

/** A wrong command line: printed with a hint to --help; exit code 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** Any other failure (the cluster said no, a file cannot be read...): exit code 1. */
export class CliError extends Error {}

const HELP: OptSpec = { type: 'boolean', short: 'h', help: 'show this help' };

export function helpText(cmd: Command, path: string): string {
  const lines: string[] = [];
  lines.push(`NAME:\n   ${path} - ${cmd.summary}`, '');
  if (cmd.sub) {
    lines.push(`USAGE:\n   ${path} COMMAND [arguments...]`, '');
    lines.push('COMMANDS:');
    const w = Math.max(...cmd.sub.map((s) => [s.name, ...(s.aliases ?? [])].join(', ').length));
    for (const s of cmd.sub) lines.push(`   ${[s.name, ...(s.aliases ?? [])].join(', ').padEnd(w)}  ${s.summary}`);
    lines.push('');
  } else {
    lines.push(`USAGE:\n   ${path}${cmd.options && Object.keys(cmd.options).length ? ' [options]' : ''}${cmd.args ? ` ${cmd.args}` : ''}`, '');
  }
  if (cmd.description) lines.push(`DESCRIPTION:\n${cmd.description.replace(/^/gm, '   ')}`, '');
  if (cmd.examples?.length) lines.push('EXAMPLES:', ...cmd.examples.map((e) => `   ${e}`), '');
  const opts = { ...(cmd.options ?? {}), help: HELP };
  lines.push('OPTIONS:');
  const names = Object.entries(opts).map(([n, o]) => `${o.short ? `-${o.short}, ` : ''}--${n}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`);
  const w = Math.max(...names.map((n) => n.length));
  Object.values(opts).forEach((o, i) => lines.push(`   ${names[i]!.padEnd(w)}  ${o.help}`));
  if (cmd.sub) lines.push('', `Run '${path} COMMAND --help' for a command's options.`);
  return lines.join('\n');
}

/** Finds the command named by argv and runs it; help goes to ctx.out. */
export async function dispatch(root: Command, argv: string[], ctx: Ctx): Promise<void> {
  let cmd = root;
  let path = root.name;
  let i = 0;
  while (cmd.sub) {
    const tok = argv[i];
    if (tok === undefined || tok === '--help' || tok === '-h' || tok === 'help') {
      if (tok === undefined && cmd.run) break;
      ctx.out(helpText(cmd, path));
      return;
    }
    const next = cmd.sub.find((s) => s.name === tok || s.aliases?.includes(tok));
    if (!next) {
      if (cmd.run) break;
      const known = cmd.sub.map((s) => s.name).join(', ');
      throw new UsageError(tok.startsWith('-') ? `unknown flag "${tok}" for "${path}"` : `unknown command "${tok}" for "${path}" (commands: ${known})`, path);
    }
    cmd = next;
    path = `${path} ${next.name}`;
    i++;
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [n, o] of Object.entries(cmd.options ?? {})) options[n] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  let parsed;
  try {
    parsed = parseArgs({ args: argv.slice(i), options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option '(.*)'$/, 'unknown flag "$1"'), path);
  }
  if (parsed.values.help) {
    ctx.out(helpText(cmd, path));
    return;
  }
  if (!cmd.run) throw new UsageError(`"${path}" needs a command`, path);
  await cmd.run(ctx, parsed.positionals, parsed.values as Flags);
}

/** Positional count check with a clear message. */
export function needArgs(pos: string[], min: number, max: number, what: string, path: string): void {
  if (pos.length < min) throw new UsageError(`missing ${what}`, path);
  if (pos.length > max) throw new UsageError(`too many arguments: ${pos.slice(max).map((p) => `"${p}"`).join(' ')}`, path);
}

export function intFlag(flags: Flags, name: string, path: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`invalid --${name} "${String(v)}": expected a non-negative integer`, path);
  return n;
}
