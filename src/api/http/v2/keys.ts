// /v2/keys as etcd 3.4's v2http keysHandler serves it: the form becomes a v2
// Request (parseKeyRequest), the member runs it (writes and quorum reads
// through raft), and the answer is an event, an error, or -- for wait=true --
// a long poll that ends with the first matching event (or a stream of them).
import type { Logger } from '../../../log/types.js';
import { ServerError } from '../../../server/errors.js';
import type { V2DoResponse, V2Port } from '../../../server/v2/port.js';
import { emptyV2Request, type V2Request } from '../../../server/v2/request.js';
import {
  errorJson,
  eventJson,
  isCreated,
  joinPath,
  NS_PER_SECOND,
  nsFromMs,
  V2Action,
  V2Error,
  V2ErrorCode,
  type V2Event,
  type V2Watcher,
} from '../../../v2store/index.js';
import {
  type FormValues,
  formValue,
  getBool,
  getUint64,
  MAX_FORM_BYTES,
  mediaType,
  parseForm,
} from './form.js';
import { allowMethods, readBody, type V2HttpRequest, type V2HttpResponse } from './http.js';

export const KEYS_PREFIX = '/v2/keys';
/** etcd's StoreKeysPrefix: v2 API keys live under /1 in the store. */
export const STORE_KEYS_PREFIX = '/1';

const KEY_METHODS = ['HEAD', 'GET', 'PUT', 'POST', 'DELETE'] as const;

/** Keys as clients see them: without the /1 namespace. */
export function clientKey(key: string): string {
  return key.startsWith(STORE_KEYS_PREFIX) ? key.slice(STORE_KEYS_PREFIX.length) : key;
}

function requestError(code: V2ErrorCode, cause: string): V2Error {
  return new V2Error(code, cause, 0);
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function toIndex(n: bigint): number {
  return Number(n > MAX_SAFE ? MAX_SAFE : n);
}

export interface ParsedKeyRequest {
  req: V2Request;
  noValueOnSuccess: boolean;
}

/** etcd's parseKeyRequest: the v2 Request a form describes, or the v2 error it is refused with. */
export function parseKeyRequest(
  method: string,
  urlPath: string,
  form: FormValues,
  nowMs: number,
): ParsedKeyRequest {
  const path = joinPath(STORE_KEYS_PREFIX, urlPath.slice(KEYS_PREFIX.length));
  const prevIndex = getUint64(form, 'prevIndex');
  if (prevIndex === undefined) throw requestError(V2ErrorCode.IndexNaN, 'invalid value for "prevIndex"');
  const waitIndex = getUint64(form, 'waitIndex');
  if (waitIndex === undefined) throw requestError(V2ErrorCode.IndexNaN, 'invalid value for "waitIndex"');
  const flag = (name: string): boolean => {
    const b = getBool(form, name);
    if (b === undefined) throw requestError(V2ErrorCode.InvalidField, `invalid value for "${name}"`);
    return b;
  };
  const recursive = flag('recursive');
  const sorted = flag('sorted');
  const wait = flag('wait');
  const dir = flag('dir');
  const quorum = flag('quorum');
  const stream = flag('stream');
  if (wait && method !== 'GET') {
    throw requestError(V2ErrorCode.InvalidField, '"wait" can only be used with GET requests');
  }
  const prevValue = formValue(form, 'prevValue');
  if (form.has('prevValue') && prevValue === '') {
    throw requestError(V2ErrorCode.PrevValueRequired, '"prevValue" cannot be empty');
  }
  const noValueOnSuccess = flag('noValueOnSuccess');
  let ttl: bigint | undefined;
  if (formValue(form, 'ttl').length > 0) {
    ttl = getUint64(form, 'ttl');
    if (ttl === undefined) throw requestError(V2ErrorCode.TtlNaN, 'invalid value for "ttl"');
  }
  let prevExist: boolean | undefined;
  if (form.has('prevExist')) {
    prevExist = getBool(form, 'prevExist');
    if (prevExist === undefined) throw requestError(V2ErrorCode.InvalidField, 'invalid value for prevExist');
  }
  let refresh: boolean | undefined;
  if (form.has('refresh')) {
    refresh = getBool(form, 'refresh');
    if (refresh === undefined) throw requestError(V2ErrorCode.InvalidField, 'invalid value for refresh');
    if (refresh) {
      if (form.has('value') && formValue(form, 'value') !== '') {
        throw requestError(V2ErrorCode.RefreshValue, 'A value was provided on a refresh');
      }
      if (ttl === undefined) throw requestError(V2ErrorCode.RefreshTtlRequired, 'No TTL value set');
    }
  }
  const req: V2Request = {
    ...emptyV2Request(),
    method,
    path,
    val: formValue(form, 'value'),
    dir,
    prevValue,
    prevIndex: toIndex(prevIndex),
    wait,
    since: toIndex(waitIndex),
    recursive,
    sorted,
    quorum,
    stream,
  };
  if (prevExist !== undefined) req.prevExist = prevExist;
  if (refresh !== undefined) req.refresh = refresh;
  // A TTL is an absolute expire time, fixed by the member that takes the request.
  if (ttl !== undefined) req.expiration = nsFromMs(nowMs) + ttl * NS_PER_SECOND;
  return { req, noValueOnSuccess };
}

export class KeysHandler {
  constructor(
    private readonly port: V2Port,
    private readonly log: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async serve(req: V2HttpRequest, res: V2HttpResponse, urlPath: string, rawQuery: string): Promise<void> {
    if (!allowMethods(req, res, KEY_METHODS)) return;
    res.setHeader('X-Etcd-Cluster-Id', this.port.clusterId().toString(16));
    const method = req.method ?? 'GET';
    const contentType = header(req, 'content-type');
    // Go reads a body only for url-encoded POST/PUT/PATCH forms.
    const formBody =
      (method === 'POST' || method === 'PUT' || method === 'PATCH') &&
      mediaType(contentType) === 'application/x-www-form-urlencoded'
        ? await readBody(req, MAX_FORM_BYTES)
        : undefined;
    const { form, error } = parseForm(method, contentType, formBody?.text ?? '', rawQuery);
    let parsed: ParsedKeyRequest;
    try {
      if (formBody?.overflow === true) throw requestError(V2ErrorCode.InvalidForm, 'http: POST too large');
      if (error !== undefined) throw requestError(V2ErrorCode.InvalidForm, error.message);
      parsed = parseKeyRequest(method, urlPath, form, this.nowMs());
    } catch (err) {
      this.writeError(res, err);
      return;
    }
    let resp: V2DoResponse;
    try {
      resp = await this.port.do(parsed.req);
    } catch (err) {
      if (err instanceof V2Error && err.cause.startsWith(STORE_KEYS_PREFIX)) {
        err.cause = err.cause.slice(STORE_KEYS_PREFIX.length);
      }
      this.writeError(res, err);
      return;
    }
    if (resp.event !== undefined) {
      writeEvent(res, resp, resp.event, parsed.noValueOnSuccess);
    } else if (resp.watcher !== undefined) {
      this.watch(req, res, resp, resp.watcher, parsed.req.stream);
    } else {
      this.writeError(res, new Error('received response with no Event/Watcher'));
    }
  }

  /** etcd's writeKeyError: v2 errors as they are, anything else as a Raft Internal Error. */
  private writeError(res: V2HttpResponse, err: unknown): void {
    let e: V2Error;
    if (err instanceof V2Error) {
      e = err;
    } else {
      const message = err instanceof Error ? err.message : String(err);
      this.log.warn(err instanceof ServerError ? 'v2 response error' : 'unexpected v2 response error', {
        'internal-server-error': message,
      });
      e = new V2Error(V2ErrorCode.RaftInternal, message, 0);
    }
    res.setHeader('X-Etcd-Index', String(e.index));
    res.setHeader('Content-Type', 'application/json');
    res.statusCode = e.httpStatus;
    endWith(res, `${errorJson(e)}\n`);
  }

  /** etcd's handleKeyWatch: headers at once, then the first event (or every event when streaming). */
  private watch(
    req: V2HttpRequest,
    res: V2HttpResponse,
    resp: V2DoResponse,
    watcher: V2Watcher,
    stream: boolean,
  ): void {
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-Etcd-Index', String(watcher.startIndex));
    res.setHeader('X-Raft-Index', String(resp.index));
    res.setHeader('X-Raft-Term', String(resp.term));
    res.writeHead(200);
    res.flushHeaders?.();
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      watcher.remove();
      if (res.writableEnded !== true) res.end();
    };
    const drain = (): void => {
      for (let e = watcher.take(); e !== undefined && !done; e = watcher.take()) {
        res.write(`${eventJson(e, { view: clientKey, omitRefresh: true })}\n`);
        if (!stream) {
          finish();
          return;
        }
      }
      // A stream that fell too far behind was dropped: end it, as etcd does when its channel closes.
      if (watcher.overflowed) finish();
    };
    req.once('close', finish);
    res.once('close', finish);
    watcher.onChange(drain);
    drain();
  }
}

/** etcd's writeKeyEvent. */
function writeEvent(res: V2HttpResponse, resp: V2DoResponse, ev: V2Event, noValueOnSuccess: boolean): void {
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Etcd-Index', String(ev.etcdIndex));
  res.setHeader('X-Raft-Index', String(resp.index));
  res.setHeader('X-Raft-Term', String(resp.term));
  res.statusCode = isCreated(ev) ? 201 : 200;
  const modifying =
    ev.action === V2Action.Set ||
    ev.action === V2Action.CompareAndSwap ||
    ev.action === V2Action.Create ||
    ev.action === V2Action.Update;
  endWith(
    res,
    `${eventJson(ev, { view: clientKey, omitNodes: noValueOnSuccess && modifying, omitRefresh: true })}\n`,
  );
}

/** Ends with a body and its length (a HEAD answer gets the length, not the body, as from Go). */
function endWith(res: V2HttpResponse, body: string): void {
  res.setHeader('Content-Length', String(Buffer.byteLength(body)));
  res.end(body);
}

function header(req: V2HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
