// The counter RNG is a contract shared with the WGSL and AssemblyScript
// kernels: these fixed vectors pin it bit for bit. They were produced by
// src/runtime/rng.ts once and are cross-checked here by an independent
// BigInt implementation of the algorithm written in rng.ts's header, so a
// vector cannot be wrong in the same way as the code under test.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  mix32, rngKey, hash, hashAt, uniform01, dropoutThreshold, dropoutScale, glorotUniform, epochOrder,
  STREAM_INIT, STREAM_SHUFFLE, STREAM_DROPOUT_BASE,
} from '../src/runtime/rng.js';
import { dropoutMask } from '../src/runtime/reference/kernels.js';

// Independent re-implementation: arbitrary-precision integers reduced mod 2^32.
const M32 = (1n << 32n) - 1n;
function mix32Big(x: bigint): bigint {
  x &= M32;
  x ^= x >> 16n; x = (x * 0x7feb352dn) & M32;
  x ^= x >> 15n; x = (x * 0x846ca68bn) & M32;
  x ^= x >> 16n;
  return x;
}
const keyBig = (seed: bigint, stream: bigint, step: bigint) => mix32Big(mix32Big(mix32Big(seed ^ 0x9e3779b9n) ^ stream) ^ step);
const hashBig = (seed: bigint, stream: bigint, step: bigint, index: bigint) => mix32Big(keyBig(seed, stream, step) ^ index);

const MIX32_VECTORS: [number, number][] = [
  [0, 0x0], [1, 0x688990c0], [2, 0xd1132181], [0xdeadbeef, 0xe628c683], [0xffffffff, 0x6768824a], [12345, 0x912efcf7],
];
const KEY_VECTORS: [number, number, number, number][] = [
  [42, 1, 0, 0x4027b2c9], [42, 2, 3, 0x27726e9d], [0, 0, 0, 0x944fb554], [0xffffffff, 16, 123456, 0x13d6b30c],
];
const HASH_VECTORS: [number, number, number, number, number][] = [
  [42, 1, 0, 0, 0xb22bb04a], [42, 16, 7, 1000, 0xf07a9f1b], [1, 2, 3, 4, 0x8f0ba4b8],
];

test('stream constants are part of the contract', () => {
  assert.is(STREAM_INIT, 1);
  assert.is(STREAM_SHUFFLE, 2);
  assert.is(STREAM_DROPOUT_BASE, 16);
});

test('mix32 fixed vectors', () => {
  for (const [x, want] of MIX32_VECTORS) {
    assert.is(mix32(x), want, `mix32(${x})`);
    assert.is(Number(mix32Big(BigInt(x))), want, `BigInt mix32(${x})`);
  }
});

test('rngKey fixed vectors', () => {
  for (const [seed, stream, step, want] of KEY_VECTORS) {
    assert.is(rngKey(seed, stream, step), want, `rngKey(${seed}, ${stream}, ${step})`);
    assert.is(Number(keyBig(BigInt(seed), BigInt(stream), BigInt(step))), want);
  }
});

test('hash fixed vectors, and hash = hashAt(rngKey)', () => {
  for (const [seed, stream, step, index, want] of HASH_VECTORS) {
    assert.is(hash(seed, stream, step, index), want);
    assert.is(hashAt(rngKey(seed, stream, step), index), want);
    assert.is(Number(hashBig(BigInt(seed), BigInt(stream), BigInt(step), BigInt(index))), want);
  }
});

test('mix32 agrees with the BigInt version on many inputs and returns u32', () => {
  let x = 0x12345678;
  for (let i = 0; i < 2000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0; // any spread of inputs
    const h = mix32(x);
    assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
    assert.is(h, Number(mix32Big(BigInt(x))));
  }
  // Negative and out-of-range numbers are taken mod 2^32.
  assert.is(mix32(-1), mix32(0xffffffff));
});

test('uniform01 is in [0, 1), uses the top 24 bits, and is exact in f32', () => {
  assert.is(uniform01(0), 0);
  assert.is(uniform01(0xffffffff), 1 - 2 ** -24);
  assert.is(uniform01(0x000000ff), 0); // low 8 bits ignored
  const key = rngKey(7, 3, 0);
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const u = uniform01(hashAt(key, i));
    assert.ok(u >= 0 && u < 1);
    if (i < 1000) assert.is(Math.fround(u), u);
    sum += u;
  }
  const mean = sum / 100_000;
  assert.ok(Math.abs(mean - 0.5) < 0.005, `mean ${mean}`);
});

test('dropout keeps about 1 - rate of 100k elements; threshold and scale', () => {
  for (const rate of [0.1, 0.2, 0.5, 0.9]) {
    const n = 100_000;
    const mask = dropoutMask(n, rngKey(42, STREAM_DROPOUT_BASE + 2, 5), rate);
    const kept = mask.reduce((a, b) => a + b, 0) / n;
    // binomial std at n = 1e5 is at most 0.0016; 5 sigma
    assert.ok(Math.abs(kept - (1 - rate)) < 0.008, `rate ${rate}: kept ${kept}`);
  }
  assert.is(dropoutThreshold(0), 0);
  assert.is(dropoutThreshold(0.5), 2 ** 23);
  assert.is(dropoutThreshold(1), 2 ** 24);
  assert.is(dropoutScale(0.2), Math.fround(1.25));
  assert.is(dropoutScale(0.3), Math.fround(1 / 0.7));
  // Different steps give different masks; the same step the same mask.
  const a = dropoutMask(1000, rngKey(1, 16, 0), 0.5), b = dropoutMask(1000, rngKey(1, 16, 1), 0.5), c = dropoutMask(1000, rngKey(1, 16, 0), 0.5);
  assert.equal(a, c);
  assert.not.equal(a, b);
});

const isPermutation = (order: Uint32Array) => {
  const seen = new Uint8Array(order.length);
  for (const i of order) { if (i >= order.length || seen[i]) return false; seen[i] = 1; }
  return true;
};

test('epochOrder is a permutation; same seed same order; other epoch or seed another order', () => {
  for (const n of [1, 2, 3, 7, 1000, 60000]) assert.ok(isPermutation(epochOrder(n, 42, 0, true)), `n=${n}`);
  const a = epochOrder(1000, 42, 0, true);
  assert.equal(epochOrder(1000, 42, 0, true), a);
  assert.not.equal(epochOrder(1000, 42, 1, true), a);
  assert.not.equal(epochOrder(1000, 43, 0, true), a);
  const identity = Uint32Array.from({ length: 1000 }, (_, i) => i);
  assert.not.equal(a, identity);
  // Fixed vector: the order of 10 examples at seed 42, epoch 0 (pins the Fisher–Yates use of the hash).
  const ten = epochOrder(10, 42, 0, true);
  const expected = Uint32Array.from({ length: 10 }, (_, i) => i);
  const key = Number(keyBig(42n, 2n, 0n));
  for (let i = 9; i > 0; i--) {
    const j = Number(mix32Big(BigInt(key ^ i))) % (i + 1);
    [expected[i], expected[j]] = [expected[j], expected[i]];
  }
  assert.equal(ten, expected);
});

test('epochOrder with shuffle off is the identity, and fills `out`', () => {
  const out = new Uint32Array(5).fill(9);
  const r = epochOrder(5, 42, 3, false, out);
  assert.is(r, out);
  assert.equal([...r], [0, 1, 2, 3, 4]);
});

test('glorotUniform: within ±sqrt(6/(fanIn+fanOut)), spread over the range, deterministic per param index', () => {
  const fanIn = 784, fanOut = 128;
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  const w = new Float32Array(fanIn * fanOut);
  glorotUniform(w, fanIn, fanOut, 42, 0);
  let min = Infinity, max = -Infinity, sum = 0, sq = 0;
  for (const x of w) { min = Math.min(min, x); max = Math.max(max, x); sum += x; sq += x * x; }
  assert.ok(min >= -limit && max < limit, `range [${min}, ${max}] vs ${limit}`);
  assert.ok(min < -0.99 * limit && max > 0.99 * limit, 'covers the range');
  assert.ok(Math.abs(sum / w.length) < 0.01 * limit, 'mean about 0');
  const variance = sq / w.length;
  assert.ok(Math.abs(variance / (limit * limit / 3) - 1) < 0.02, `variance ${variance}`);
  const again = new Float32Array(w.length);
  glorotUniform(again, fanIn, fanOut, 42, 0);
  assert.equal(again, w);
  glorotUniform(again, fanIn, fanOut, 42, 1);
  assert.not.equal(again, w);
  // Element 0 from the formula: (2u - 1)·limit with u from hash(seed, STREAM_INIT, paramIndex, 0).
  assert.is(w[0], Math.fround((2 * uniform01(hash(42, STREAM_INIT, 0, 0)) - 1) * limit));
});

test.run();
