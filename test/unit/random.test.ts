import { blockRandom } from '../../src/random';

/** A source that hands out 0, 1, 2, … (mod 256) and counts its calls: every byte's origin is visible. */
function countingSource() {
  let next = 0;
  const sizes: number[] = [];
  const source = (size: number) => {
    sizes.push(size);
    return Buffer.from(Array.from({ length: size }, () => next++ & 0xff));
  };
  return { source, sizes };
}

describe('blockRandom (the CSPRNG drawn from in blocks)', () => {
  it('hands out every byte of a block once, in order, and draws a new block when one runs out', () => {
    const { source, sizes } = countingSource();
    const random = blockRandom(source, 64);
    const draws = Array.from({ length: 7 }, () => random(16));
    expect(draws.map((d) => d.length)).toEqual([16, 16, 16, 16, 16, 16, 16]);
    // Bytes 0…111 across the draws, none repeated: 4 draws from the first block, 3 from the second.
    expect(Buffer.concat(draws)).toEqual(Buffer.from(Array.from({ length: 112 }, (_, i) => i)));
    expect(sizes).toEqual([64, 64]);
  });

  it('does not split a draw across blocks: the rest of a block too short for it is left unused', () => {
    const { source, sizes } = countingSource();
    const random = blockRandom(source, 64);
    random(12);
    random(12);
    random(12);
    random(12);
    random(12); // 60 bytes used, 4 left: a 12-byte draw takes a fresh block
    expect([...random(12)]).toEqual(Array.from({ length: 12 }, (_, i) => 64 + i));
    expect(sizes).toEqual([64, 64]);
  });

  it('sends a draw larger than a quarter block to the source', () => {
    const { source, sizes } = countingSource();
    const random = blockRandom(source, 64);
    expect(random(17)).toHaveLength(17);
    expect(random(16)).toHaveLength(16);
    expect(sizes).toEqual([17, 64]);
  });

  it('gives distinct draws from the real CSPRNG', () => {
    const random = blockRandom();
    const seen = new Set(Array.from({ length: 1000 }, () => random(16).toString('hex')));
    expect(seen.size).toBe(1000);
  });
});
