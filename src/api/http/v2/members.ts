// /v2/members, /v2/machines and /v2/stats/* as etcd 3.4's v2http serves them.
import type { Logger } from '../../../log/types.js';
import { goJsonString, goJsonStrings } from '../../../peer/wire/go-json.js';
import type { MemberRecord } from '../../../server/member-json.js';
import { V2HttpError, type V2Port } from '../../../server/v2/port.js';
import type { HttpResponseLike } from '../types.js';
import { allowMethods, goHttpError, readBody, type V2HttpRequest, writeHttpError } from './http.js';

export const MEMBERS_PREFIX = '/v2/members';

/** httptypes.Member: id, name, peerURLs, clientURLs (never null). */
export function memberJson(m: MemberRecord): string {
  const list = (urls: readonly string[]) => (urls.length === 0 ? '[]' : goJsonStrings(urls));
  return (
    `{"id":"${m.id.toString(16)}","name":${goJsonString(m.name)},` +
    `"peerURLs":${list(m.peerUrls)},"clientURLs":${list(m.clientUrls)}}`
  );
}

/** Go's types.NewURLs: every URL http(s)/unix(s), host:port, no path; sorted. Throws etcd's message. */
export function parsePeerUrls(urls: readonly string[]): string[] {
  if (urls.length === 0) throw new Error('no valid URLs given');
  const out: string[] = [];
  for (const raw of urls) {
    const s = raw.trim();
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):(.*)$/.exec(s);
    const scheme = m === null ? '' : m[1]!.toLowerCase();
    if (!['http', 'https', 'unix', 'unixs'].includes(scheme)) {
      throw new Error(`URL scheme must be http, https, unix, or unixs: ${s}`);
    }
    const rest = m![2]!;
    const authority = rest.startsWith('//') ? /^\/\/([^/?#]*)/.exec(rest)![1]! : '';
    const afterAuthority = rest.startsWith('//') ? rest.slice(2 + authority.length) : rest;
    const host = authority.slice(authority.lastIndexOf('@') + 1);
    if (!/^(\[[^\]]*\]|[^:[\]]*):[^:]*$/.test(host)) {
      throw new Error(`URL address does not have the form "host:port": ${s}`);
    }
    if (afterAuthority.split(/[?#]/)[0] !== '') throw new Error(`URL must not contain a path: ${s}`);
    out.push(s);
  }
  return out.sort();
}

/** etcd's unmarshalRequest for member bodies: application/json {"peerURLs": [...]}. */
async function readPeerUrls(req: V2HttpRequest, res: HttpResponseLike): Promise<string[] | undefined> {
  let ctype = headerOf(req, 'content-type') ?? '';
  const semicolon = ctype.indexOf(';');
  if (semicolon !== -1) ctype = ctype.slice(0, semicolon).trim().toLowerCase();
  if (ctype !== 'application/json') {
    writeHttpError(res, 415, `Bad Content-Type ${ctype}, accept application/json`);
    return undefined;
  }
  const body = (await readBody(req, 64 << 20)).text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (err) {
    writeHttpError(res, 400, goJsonSyntaxError(body, err as Error));
    return undefined;
  }
  const peerUrls = field(parsed, 'peerURLs');
  if (
    peerUrls !== undefined &&
    peerUrls !== null &&
    !(Array.isArray(peerUrls) && peerUrls.every((u) => typeof u === 'string'))
  ) {
    writeHttpError(res, 400, 'json: cannot unmarshal into Go struct field .peerURLs of type []string');
    return undefined;
  }
  try {
    return parsePeerUrls((peerUrls as string[] | null | undefined) ?? []);
  } catch (err) {
    writeHttpError(res, 400, (err as Error).message);
    return undefined;
  }
}

/** Go's encoding/json wording for the common syntax errors. */
function goJsonSyntaxError(body: string, err: Error): string {
  if (body.trim() === '' || /end of JSON input/i.test(err.message)) return 'unexpected end of JSON input';
  const at = /position (\d+)/.exec(err.message);
  const ch = at === null ? undefined : body[Number(at[1])];
  return ch === undefined ? err.message : `invalid character '${ch}' looking for beginning of value`;
}

/** Go's case-insensitive struct field match. */
function field(v: unknown, name: string): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  let found: unknown;
  for (const [k, x] of Object.entries(v)) if (k.toLowerCase() === name.toLowerCase()) found = x;
  return found;
}

function headerOf(req: V2HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

export class MembersHandler {
  constructor(
    private readonly port: V2Port,
    private readonly log: Logger,
  ) {}

  async serve(req: V2HttpRequest, res: HttpResponseLike, urlPath: string): Promise<void> {
    if (!allowMethods(req, res, ['GET', 'POST', 'DELETE', 'PUT'])) return;
    res.setHeader('X-Etcd-Cluster-Id', this.port.clusterId().toString(16));
    const rest = urlPath.slice(MEMBERS_PREFIX.length).replace(/^\//, '');
    try {
      switch (req.method) {
        case 'GET':
          this.get(res, rest);
          return;
        case 'POST': {
          const urls = await readPeerUrls(req, res);
          if (urls === undefined) return;
          const m = await this.port.addMember(urls);
          res.setHeader('Content-Type', 'application/json');
          res.statusCode = 201;
          res.end(`${memberJson(m)}\n`);
          return;
        }
        case 'DELETE': {
          const id = this.memberId(res, rest);
          if (id === undefined) return;
          await this.port.removeMember(id);
          res.statusCode = 204;
          res.end();
          return;
        }
        case 'PUT': {
          const id = this.memberId(res, rest);
          if (id === undefined) return;
          const urls = await readPeerUrls(req, res);
          if (urls === undefined) return;
          await this.port.updateMember(id, urls);
          res.statusCode = 204;
          res.end();
          return;
        }
      }
    } catch (err) {
      if (err instanceof V2HttpError) {
        writeHttpError(res, err.status, err.message);
        return;
      }
      this.log.warn('unexpected v2 response error', { 'internal-server-error': (err as Error).message });
      writeHttpError(res, 500, 'Internal Server Error');
    }
  }

  private get(res: HttpResponseLike, rest: string): void {
    if (rest === '') {
      res.setHeader('Content-Type', 'application/json');
      res.statusCode = 200;
      res.end(`{"members":[${this.port.members().map(memberJson).join(',')}]}\n`);
      return;
    }
    if (rest === 'leader') {
      const leader = this.port.leader();
      const m = leader === 0n ? undefined : this.port.member(leader);
      if (m === undefined) {
        writeHttpError(res, 503, 'During election');
        return;
      }
      res.setHeader('Content-Type', 'application/json');
      res.statusCode = 200;
      res.end(`${memberJson(m)}\n`);
      return;
    }
    writeHttpError(res, 404, 'Not found');
  }

  /** etcd's getID: the hex id after /v2/members/. */
  private memberId(res: HttpResponseLike, rest: string): bigint | undefined {
    if (rest === '') {
      goHttpError(res, 405, 'Method Not Allowed');
      return undefined;
    }
    if (!/^[0-9a-fA-F]{1,16}$/.test(rest)) {
      writeHttpError(res, 404, `No such member: ${rest}`);
      return undefined;
    }
    return BigInt(`0x${rest}`);
  }
}

/** /v2/machines: every member's client URLs, sorted, comma-separated. */
export function serveMachines(req: V2HttpRequest, res: HttpResponseLike, port: V2Port): void {
  if (!allowMethods(req, res, ['GET', 'HEAD'])) return;
  const urls = port
    .members()
    .flatMap((m) => m.clientUrls)
    .sort();
  res.statusCode = 200;
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(urls.join(', '));
}

/** /v2/stats/{self,leader,store}. */
export function serveStats(req: V2HttpRequest, res: HttpResponseLike, port: V2Port, which: string): void {
  if (!allowMethods(req, res, ['GET'])) return;
  let body: string | undefined;
  if (which === 'self') body = port.selfStats();
  else if (which === 'store') body = port.storeStats();
  else body = port.leaderStats();
  if (body === undefined) {
    writeHttpError(res, 403, 'not current leader');
    return;
  }
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json');
  res.end(body);
}
