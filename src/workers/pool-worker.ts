// The Piscina worker entry: one exported function per task kind, dispatched by name.
export { putChunk } from './put-chunk';
export { mpuCopy, mpuFinish } from './mpu-assemble';
export { copyRange } from './copy-range';
