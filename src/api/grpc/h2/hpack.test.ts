import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeInt, encodeLiteral, HpackDecoder, HpackError } from './hpack.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('RFC 7541 C.3: requests without Huffman, dynamic table carried across blocks', () => {
  const d = new HpackDecoder();
  const first: Record<string, string> = {};
  d.decode(hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'), first);
  assert.deepEqual(first, {
    ':method': 'GET',
    ':scheme': 'http',
    ':path': '/',
    ':authority': 'www.example.com',
  });
  const second: Record<string, string> = {};
  d.decode(hex('8286 84be 5808 6e6f 2d63 6163 6865'), second);
  assert.deepEqual(second, {
    ':method': 'GET',
    ':scheme': 'http',
    ':path': '/',
    ':authority': 'www.example.com',
    'cache-control': 'no-cache',
  });
});

test('RFC 7541 C.4: the same requests with Huffman-coded strings', () => {
  const d = new HpackDecoder();
  const first: Record<string, string> = {};
  d.decode(hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'), first);
  assert.equal(first[':authority'], 'www.example.com');
  const second: Record<string, string> = {};
  d.decode(hex('8286 84be 5886 a8eb 1064 9cbf'), second);
  assert.equal(second[':authority'], 'www.example.com');
  assert.equal(second['cache-control'], 'no-cache');
});

test('encoder primitives decode back', () => {
  const block: number[] = [];
  encodeLiteral(block, 'grpc-message', 'x'.repeat(300));
  encodeInt(block, 0x80, 7, 2); // indexed :method GET
  const out: Record<string, string> = {};
  new HpackDecoder().decode(Buffer.from(block), out);
  assert.deepEqual(out, { 'grpc-message': 'x'.repeat(300), ':method': 'GET' });
});

test('malformed blocks throw HpackError', () => {
  const d = new HpackDecoder();
  assert.throws(() => d.decode(hex('ff'), {}), HpackError); // truncated integer
  assert.throws(() => d.decode(hex('be'), {}), HpackError); // empty dynamic table
  assert.throws(() => d.decode(hex('0003 6162'), {}), HpackError); // string past end
  assert.throws(() => d.decode(hex('3fe21f'), {}), HpackError); // table size above limit
});

test('header list size is bounded', () => {
  const block: number[] = [];
  encodeLiteral(block, 'big', 'v'.repeat(2000));
  assert.throws(() => new HpackDecoder(4096, 1000).decode(Buffer.from(block), {}), HpackError);
});

test('Huffman padding that is not a prefix of EOS (all ones) is rejected', () => {
  // 'a' is 00011 (5 bits): 00011|111 is correct padding, 00011|000 and 00011|011 are not.
  const block = (byte: number): Buffer => Buffer.from([0x00, 0x01, 0x78, 0x81, byte]);
  const ok: Record<string, string> = {};
  new HpackDecoder().decode(block(0b00011111), ok);
  assert.equal(ok.x, 'a');
  assert.throws(() => new HpackDecoder().decode(block(0b00011000), {}), HpackError);
  assert.throws(() => new HpackDecoder().decode(block(0b00011011), {}), HpackError);
});
