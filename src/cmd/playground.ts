#!/usr/bin/env node
// `npm start`: the local playground. One node on localhost:8080 with two mountpaths under ./data
// (TAIS_DATA, TAIS_PORT override), in the foreground; Ctrl-C stops it cleanly.
import path from 'node:path';
import { spawn } from 'node:child_process';

const data = path.resolve(process.env.TAIS_DATA ?? 'data');
const port = process.env.TAIS_PORT ?? '8080';
const node = path.join(__dirname, 'aisnode.js');
const args = [node, '--port', port, '--confdir', path.join(data, 'conf'), '--mountpath', path.join(data, 'mp1'), '--mountpath', path.join(data, 'mp2')];

console.log(`tais playground: data under ${data}`);
console.log(`  S3 endpoint:  http://localhost:${port}/s3   e.g. aws --endpoint-url http://localhost:${port}/s3 s3 ls`);
const child = spawn(process.execPath, args, { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
