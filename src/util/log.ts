// Minimal leveled logger: one line per event on stderr, with time and node name, greppable in tests.
let prefix = '';
let verbose = process.env.TAIS_LOG === 'debug';

function line(level: string, msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} ${prefix}${msg}\n`);
}

export const log = {
  setNode(name: string): void {
    prefix = `[${name}] `;
  },
  setVerbose(on: boolean): void {
    verbose = on;
  },
  info: (msg: string): void => line('I', msg),
  warn: (msg: string): void => line('W', msg),
  error: (msg: string): void => line('E', msg),
  debug: (msg: string): void => {
    if (verbose) line('D', msg);
  },
};
