// The v2 API on the client port (etcd 3.4 with --enable-v2): /v2/keys,
// /v2/members, /v2/machines, /v2/stats/*. Paths are routed as Go's ServeMux
// routes etcd's handlers: unclean paths are redirected to their clean form,
// anything else under /v2 is "404 page not found".
import type { Logger } from '../../../log/types.js';
import type { V2Port } from '../../../server/v2/port.js';
import { cleanPath } from '../../../v2store/index.js';
import type { HttpRequestLike, HttpResponseLike } from '../types.js';
import { urlUnescape } from './form.js';
import { goHttpError, isStreaming, isWritable } from './http.js';
import { KEYS_PREFIX, KeysHandler } from './keys.js';
import { MEMBERS_PREFIX, MembersHandler, serveMachines, serveStats } from './members.js';

export { clientKey, KEYS_PREFIX, parseKeyRequest } from './keys.js';
export { memberJson, parsePeerUrls } from './members.js';

/** Answers the request when it is one of the v2 API's; false to let the caller route it. */
export type V2Handler = (req: HttpRequestLike, res: HttpResponseLike) => boolean;

/** Go's ServeMux cleanPath: path.Clean, keeping one trailing slash. */
export function muxCleanPath(p: string): string {
  if (p === '') return '/';
  if (!p.startsWith('/')) p = `/${p}`;
  let np = cleanPath(p);
  if (p.endsWith('/') && np !== '/') np += '/';
  return np;
}

function route(path: string): 'keys' | 'members' | 'machines' | 'stats' | undefined {
  if (path === KEYS_PREFIX || path.startsWith(`${KEYS_PREFIX}/`)) return 'keys';
  if (path === MEMBERS_PREFIX || path.startsWith(`${MEMBERS_PREFIX}/`)) return 'members';
  if (path === '/v2/machines') return 'machines';
  if (path === '/v2/stats/self' || path === '/v2/stats/leader' || path === '/v2/stats/store') return 'stats';
  return undefined;
}

export function createV2Handler(port: V2Port, log: Logger): V2Handler {
  const keys = new KeysHandler(port, log);
  const members = new MembersHandler(port, log);
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
    if (!rawPath.startsWith('/v2/') && rawPath !== '/v2') return false;
    if (!isStreaming(req) || !isWritable(res)) return false;
    let path: string;
    try {
      path = urlUnescape(rawPath, false);
    } catch {
      goHttpError(res, 400, 'Bad Request');
      return true;
    }
    const clean = muxCleanPath(path);
    if (clean !== path) {
      // Go's ServeMux: 301 to the clean path, query kept.
      res.statusCode = 301;
      const location = q < 0 ? clean : `${clean}?${rawQuery}`;
      res.setHeader('Location', location);
      if (req.method === 'GET' || req.method === 'HEAD') {
        res.setHeader('Content-Type', 'text/html; charset=utf-8');
        res.end(
          `<a href="${location.replace(/&/g, '&amp;').replace(/"/g, '&#34;')}">Moved Permanently</a>.\n\n`,
        );
      } else {
        res.end();
      }
      return true;
    }
    const which = route(path);
    const failed = (err: unknown): void => {
      log.warn('v2 request failed', { error: (err as Error).message });
      if (res.writableEnded !== true) goHttpError(res, 500, 'Internal Server Error');
    };
    switch (which) {
      case 'keys':
        keys.serve(req, res, path, rawQuery).catch(failed);
        return true;
      case 'members':
        members.serve(req, res, path).catch(failed);
        return true;
      case 'machines':
        serveMachines(req, res, port);
        return true;
      case 'stats':
        serveStats(req, res, port, path.slice('/v2/stats/'.length));
        return true;
      default:
        goHttpError(res, 404, '404 page not found');
        return true;
    }
  };
}
