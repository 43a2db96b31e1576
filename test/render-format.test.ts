import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatCount, formatSigned } from '../src/report/format.ts';

test('formatCount groups integers exactly as en-US does, without loading ICU', () => {
  const intl = new Intl.NumberFormat('en-US');
  const values = [0, 1, -1, 9, 10, 99, 100, 999, 1000, -1000, 12_345, 123_456, 1_234_567, -1_234_567];
  values.push(11_689_512, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER);
  for (let digits = 1; digits <= 16; digits++)
    values.push(10 ** digits - 1, 10 ** digits, -(10 ** digits) + 1);
  for (const n of values) assert.equal(formatCount(n), intl.format(n), String(n));
  assert.equal(formatCount(11_689_512), '11,689,512');
  assert.equal(formatSigned(1234), '+1,234');
  assert.equal(formatSigned(-9), '-9');
});

test('formatCount falls back to en-US formatting for fractions and unsafe integers', () => {
  const intl = new Intl.NumberFormat('en-US');
  for (const n of [1234.5678, -0.5, 2 ** 60, 1e21, Infinity, NaN])
    assert.equal(formatCount(n), intl.format(n));
  assert.equal(formatCount(1234.5), '1,234.5');
});
