#!/usr/bin/env node
// Keeps the gRPC contract backward compatible. `buf breaking` compares proto/ with
// proto/released/v1.binpb, the buf image of the last released contract (committed, so
// the check needs no network and no git history). Adding messages, fields, enum values
// or RPCs is compatible; removing, renumbering, renaming or retyping is not.
//
//   node scripts/proto-breaking.mjs            check proto/ against the released image
//   node scripts/proto-breaking.mjs --release  at a release: make proto/ the new baseline
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const buf = join(root, 'node_modules', '.bin', 'buf');
const image = join('proto', 'released', 'v1.binpb');

if (process.argv.includes('--release')) {
  execFileSync(buf, ['build', '-o', image], { cwd: root, stdio: 'inherit' });
  console.log(`${image} now holds the contract in proto/; commit it with the release.`);
} else {
  try {
    execFileSync(buf, ['breaking', '--against', image], { cwd: root, stdio: 'inherit' });
  } catch {
    console.error(
      `proto/ breaks the released contract (${image}); keep field numbers, names and types, ` +
        'and add instead of changing. A deliberate break needs a new package version (v2).',
    );
    process.exit(1);
  }
  console.log(`proto/ is compatible with the released contract (${image})`);
}
