import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseExposition, sampleValue } from './metrics-text.js';

// prom-client writes NaN as `Nan` (the Node event-loop delay mean between two
// scrapes taken before the delay histogram had a sample); Prometheus reads any case.
test('the exposition reader reads values as Prometheus does', () => {
  const families = parseExposition(
    ['# TYPE a gauge', 'a Nan', '# TYPE b gauge', 'b{x="1"} +Inf', 'b{x="2"} -Inf', 'b{x="3"} 1.5e-3'].join(
      '\n',
    ),
  );
  assert.ok(Number.isNaN(families.get('a')?.samples[0]?.value));
  assert.equal(sampleValue(families, 'b', { x: '1' }), Number.POSITIVE_INFINITY);
  assert.equal(sampleValue(families, 'b', { x: '2' }), Number.NEGATIVE_INFINITY);
  assert.equal(sampleValue(families, 'b', { x: '3' }), 0.0015);
  assert.throws(() => parseExposition('c abc'), /bad value: abc/);
});
