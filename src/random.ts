import { randomBytes } from 'node:crypto';
import type { RandomBytes } from './domain/code';

/**
 * The CSPRNG, drawn from in blocks: one `randomBytes` call per `blockSize` bytes instead of one
 * per draw. A small draw (a verification id, a code's digits, an idempotency lease token) costs
 * about as much as the block it comes from, so a delivery's few draws cost one call between them
 * a hundred. Each byte is handed out once: a draw is a view of the current block, and a used-up
 * block is replaced, never refilled. Draws larger than a quarter block go to the source directly.
 */
export function blockRandom(source: RandomBytes = randomBytes, blockSize = 4096): RandomBytes {
  let block: Buffer = Buffer.alloc(0);
  let at = 0;
  return (size) => {
    if (size > blockSize / 4) return source(size);
    if (at + size > block.length) {
      block = source(blockSize);
      at = 0;
    }
    const out = block.subarray(at, at + size);
    at += size;
    return out;
  };
}
