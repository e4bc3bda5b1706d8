#!/usr/bin/env node
// `npm stop`: stops the playground started by `npm start` (its pid is in <data>/playground.pid).
import fs from 'node:fs';
import path from 'node:path';

const pidFile = path.join(path.resolve(process.env.TAIS_DATA ?? 'data'), 'playground.pid');
let pid: number;
try {
  pid = Number(fs.readFileSync(pidFile, 'utf8'));
} catch {
  console.log('playground: not running');
  process.exit(0);
}
try {
  process.kill(pid, 'SIGTERM');
} catch {
  console.log('playground: not running (stale pid file removed)');
  fs.rmSync(pidFile, { force: true });
  process.exit(0);
}
const deadline = Date.now() + 15_000;
const wait = (): void => {
  try {
    process.kill(pid, 0);
  } catch {
    console.log('playground: stopped');
    return;
  }
  if (Date.now() > deadline) {
    console.error(`playground: pid ${pid} still running after 15 s`);
    process.exit(1);
  }
  setTimeout(wait, 100);
};
wait();
