// Go's encoding/json wording, checked against what etcd 3.4's gateway answers
// (the expected texts were read from a real etcd 3.4.23).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Base64Error, decodeStdBase64 } from './go-base64.js';
import { GoJsonError, goQuote, parseWhole, quoteChar, readValue } from './go-json.js';
import { goJsonString, goJsonStringFromBytes } from './go-json-string.js';

const bytes = (s: string) => Buffer.from(s, 'utf8');

function decoderError(input: string): string {
  try {
    const r = readValue(bytes(input), 0, true);
    return `ok:${r.kind}`;
  } catch (err) {
    assert.ok(err instanceof GoJsonError);
    return err.message;
  }
}

test('json.Decoder syntax errors are Go’s', () => {
  const cases: [string, string][] = [
    ['{"key":"Zm9v"', 'unexpected EOF'],
    ['{"key" "Zm9v"}', `invalid character '"' after object key`],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['[1 2]', "invalid character '2' after array element"],
    ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
    ['{"a":"\\x01"}', "invalid character 'x' in string escape code"],
    ['{"a":\'x\'}', "invalid character '\\'' looking for beginning of value"],
    ['{"a":tx}', "invalid character 'x' in literal true (expecting 'r')"],
    ['{"a":nulL}', "invalid character 'L' in literal null (expecting 'l')"],
    ['{"a":-a}', "invalid character 'a' in numeric literal"],
    ['{"a":0.e}', "invalid character 'e' after decimal point in numeric literal"],
    ['{"a":1e+x}', "invalid character 'x' in exponent of numeric literal"],
    ['{"a":"\\u00"}', `invalid character '"' in \\u hexadecimal character escape`],
    ['{"a":"a\tb"}', "invalid character '\\t' in string literal"],
    ['\u0001', "invalid character '\\x01' looking for beginning of value"],
    ['é', "invalid character 'Ã' looking for beginning of value"],
    ['x', "invalid character 'x' looking for beginning of value"],
    ['   ', 'ok:eof'],
    ['', 'ok:eof'],
    ['{"a":1} trailing junk', 'ok:value'],
    ['12', 'ok:value'],
  ];
  for (const [input, want] of cases) assert.equal(decoderError(input), want, input);
});

test('a value that is not complete yet asks for more, and ends where the value ends', () => {
  assert.deepEqual(readValue(bytes('{"a":'), 0, false), { kind: 'more' });
  assert.deepEqual(readValue(bytes('12'), 0, false), { kind: 'more' });
  const r = readValue(bytes(' {"a":[1,{"b":null}]} {"c":2}'), 0, false);
  assert.equal(r.kind, 'value');
  if (r.kind !== 'value') return;
  assert.equal(r.end, 21);
  assert.deepEqual(r.value, {
    t: 'object',
    entries: [
      [
        'a',
        {
          t: 'array',
          items: [
            { t: 'number', text: '1' },
            { t: 'object', entries: [['b', { t: 'null' }]] },
          ],
        },
      ],
    ],
  });
});

test('strings decode escapes and surrogate pairs; numbers keep their text', () => {
  const v = parseWhole(bytes('["\\u006bey\\n\\ud83d\\ude00\\ud800x", 18446744073709551615, -0.5e-3]'));
  assert.equal(v.t, 'array');
  if (v.t !== 'array') return;
  assert.equal((v.items[0] as { value: string }).value, 'key\n😀\ufffdx');
  assert.deepEqual(v.items[1], { t: 'number', text: '18446744073709551615' });
  assert.deepEqual(v.items[2], { t: 'number', text: '-0.5e-3' });
});

test('json.Unmarshal ends the input with a space: inside a number or literal that space is the error', () => {
  const unmarshal = (s: string) => {
    try {
      parseWhole(bytes(s));
      return 'ok';
    } catch (err) {
      return (err as Error).message;
    }
  };
  assert.equal(unmarshal('-'), "invalid character ' ' in numeric literal");
  assert.equal(unmarshal('1.'), "invalid character ' ' after decimal point in numeric literal");
  assert.equal(unmarshal('tr'), "invalid character ' ' in literal true (expecting 'u')");
  assert.equal(unmarshal('"abc'), 'unexpected end of JSON input');
  assert.equal(unmarshal(''), 'unexpected end of JSON input');
  assert.equal(unmarshal('[1'), 'unexpected end of JSON input');
  assert.equal(unmarshal('12 3'), "invalid character '3' after top-level value");
  assert.equal(unmarshal(' 5 '), 'ok');
});

test('deep nesting stops at Go’s limit instead of exhausting the stack', () => {
  assert.equal(decoderError(`${'['.repeat(10_000)}${']'.repeat(10_000)}`), 'ok:value');
  assert.equal(decoderError('['.repeat(10_001)), "invalid character '[' exceeded max depth");
});

test('base64 errors report Go’s offsets', () => {
  const offset = (s: string) => {
    try {
      return Buffer.from(decodeStdBase64(bytes(s))).toString('latin1');
    } catch (err) {
      assert.ok(err instanceof Base64Error);
      return err.offset;
    }
  };
  const cases: [string, string | number][] = [
    ['Zm9v', 'foo'],
    ['Zm9vYmFy', 'foobar'],
    ['Zh==', 'f'],
    ['Zm8=', 'fo'],
    ['Zm\r\n9v', 'foo'],
    ['', ''],
    ['Zm9', 0],
    ['Zg', 0],
    ['Zm9v=', 4],
    ['Z===', 1],
    ['Zm8=Zm8=', 4],
    ['Zg=x', 2],
    ['Zg=', 3],
    ['Zm9vYmFy!', 8],
    ['====', 0],
  ];
  for (const [input, want] of cases) assert.equal(offset(input), want, input);
});

test('strings are written as Go writes them: HTML-safe, invalid UTF-8 as \\ufffd', () => {
  assert.equal(
    goJsonString('<a href="x">&é\u2028\n\t\u0001'),
    '"\\u003ca href=\\"x\\"\\u003e\\u0026é\\u2028\\n\\t\\u0001"',
  );
  assert.equal(goJsonStringFromBytes(Uint8Array.from([0x61, 0xff, 0xc3, 0x62])), '"a\\ufffd\\ufffdb"');
  assert.equal(quoteChar(0x27), "'\\''");
  assert.equal(quoteChar(0x22), `'"'`);
  assert.equal(goQuote('DESC\\u0045ND'), '"DESC\\\\u0045ND"');
});
