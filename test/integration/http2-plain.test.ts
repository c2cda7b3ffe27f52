// Non-gRPC requests over HTTP/2 with TLS (curl negotiates h2 by ALPN on the shared
// client port): the JSON gateway's POSTs and the v2 API's PUTs carry their bodies
// and answer as over HTTP/1.1.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { eventually, MemberProcess, memberSpec, removeDir, tempDir } from './harness.js';
import { CfsslCa, cfsslMissing } from './tls-certs.js';

const run = promisify(execFile);

/** A member whose client URLs are https://. */
class TlsMember extends MemberProcess {
  override args(): string[] {
    const plain = `http://127.0.0.1:${this.spec.clientPort}`;
    return super.args().map((a) => a.replace(plain, `https://127.0.0.1:${this.spec.clientPort}`));
  }
}

describe('HTTP/2 over TLS, not gRPC', { timeout: 60_000, skip: cfsslMissing() ?? false }, () => {
  let dir: string;
  let member: TlsMember;
  let ca: string;

  /** curl over HTTP/2; returns the HTTP version, status and body. */
  async function curl(
    method: string,
    path: string,
    body?: string,
  ): Promise<{ version: string; status: number; body: string }> {
    const args = ['-s', '--http2', '--cacert', ca, '-X', method, '-w', '\n%{http_version} %{http_code}'];
    if (body !== undefined) args.push('--data-binary', body);
    const { stdout } = await run('curl', [...args, `https://127.0.0.1:${member.spec.clientPort}${path}`]);
    const cut = stdout.lastIndexOf('\n');
    const [version, status] = stdout.slice(cut + 1).split(' ');
    return { version: version!, status: Number(status), body: stdout.slice(0, cut) };
  }

  before(async () => {
    dir = tempDir('h2-plain');
    const authority = new CfsslCa(dir);
    ca = authority.ca;
    const server = authority.issue('server', 'server', 'etcd-server', ['127.0.0.1', 'localhost'], 'rsa');
    member = new TlsMember(
      await memberSpec('m1', `${dir}/data`, [
        `--cert-file=${server.cert}`,
        `--key-file=${server.key}`,
        '--enable-v2',
      ]),
    );
    member.start();
    await eventually(async () => {
      const r = await curl('GET', '/health');
      if (r.status !== 200) throw new Error(`health ${r.status}`);
    });
  });

  after(async () => {
    await member.stop();
    removeDir(dir);
  });

  test('gateway POSTs carry their JSON bodies', async () => {
    const put = await curl('POST', '/v3/kv/put', JSON.stringify({ key: 'Zm9v', value: 'YmFy' }));
    assert.equal(put.version, '2');
    assert.equal(put.status, 200, put.body);
    assert.match(put.body, /"revision":"\d+"/);
    const range = await curl('POST', '/v3/kv/range', JSON.stringify({ key: 'Zm9v' }));
    assert.equal(range.status, 200, range.body);
    const kvs = (JSON.parse(range.body) as { kvs: { value: string }[] }).kvs;
    assert.equal(kvs[0]?.value, 'YmFy');
    const bad = await curl('POST', '/v3/kv/put', '{"key":');
    assert.equal(bad.status, 400, bad.body);
  });

  test('v2 PUT with a form body, then GET', async () => {
    const put = await curl('PUT', '/v2/keys/h2key', 'value=hello');
    assert.equal(put.version, '2');
    assert.equal(put.status, 201, put.body);
    const get = await curl('GET', '/v2/keys/h2key');
    assert.equal(get.status, 200);
    assert.equal((JSON.parse(get.body) as { node: { value: string } }).node.value, 'hello');
  });

  test('a gateway watch streams its events as they happen', async () => {
    const args = ['-s', '-N', '--http2', '--cacert', ca, '-X', 'POST', '--data-binary'];
    const create = JSON.stringify({ create_request: { key: Buffer.from('wkey').toString('base64') } });
    const url = `https://127.0.0.1:${member.spec.clientPort}/v3/watch`;
    const child = spawn('curl', [...args, create, url]);
    let out = '';
    const seen = (re: RegExp) =>
      eventually(async () => {
        if (!re.test(out)) throw new Error(`not yet: ${out}`);
      }, 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    try {
      await seen(/"created":true/);
      assert.doesNotMatch(out, /"events"/);
      const value = Buffer.from('streamed').toString('base64');
      const put = await curl(
        'POST',
        '/v3/kv/put',
        JSON.stringify({ key: Buffer.from('wkey').toString('base64'), value }),
      );
      assert.equal(put.status, 200, put.body);
      // The event arrives while the response is still open (curl has not exited).
      await seen(new RegExp(`"value":"${value}"`));
      assert.equal(child.exitCode, null, 'the watch response is still streaming');
      const lines = out.trim().split('\n');
      assert.equal(lines.length, 2, out);
      assert.match(lines[1]!, /^\{"result":\{.*"events":\[/);
    } finally {
      child.kill();
    }
  });

  test('/metrics over h2', async () => {
    const m = await curl('GET', '/metrics');
    assert.equal(m.version, '2');
    assert.equal(m.status, 200);
    assert.match(m.body, /^etcd_mvcc_put_total [1-9]/m);
  });
});
