// CLI: writes a national-scale registry for load tests.
// Usage: node dist/simulators/registry-gen.js --points 440000 --out DIR [--format yaml|json]
import { cpSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeNationalRegistry } from './national-registry.js';

const { values } = parseArgs({
  options: {
    points: { type: 'string', default: '440000' },
    out: { type: 'string' },
    profiles: { type: 'string', default: 'config/profiles' },
    format: { type: 'string', default: 'yaml' },
  },
});
const points = Number(values.points);
const format = values.format;
if (!values.out || !Number.isInteger(points) || points < 1 || (format !== 'yaml' && format !== 'json')) {
  console.error('usage: registry-gen --points <integer ≥ 1> --out <folder> [--format yaml|json] [--profiles config/profiles]');
  process.exit(2);
}
const out = resolve(values.out);
const made = writeNationalRegistry(out, { points, format });
cpSync(resolve(values.profiles), join(out, 'profiles'), { recursive: true });
console.log(`wrote ${made.points} points of ${made.enterprises} enterprises in ${made.files} files to ${out} (CONFIG_DIR=${out})`);
