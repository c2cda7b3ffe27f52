// etcdctl v2's output: printResponseKey's simple, extended and json formats.
import { goJsonString } from '../../../peer/wire/go-json.js';
import type { KeysNode, KeysResponse } from './client.js';

/** etcd client's Node as json.Marshal writes it (value always, nodes null when none). */
function nodeJson(n: KeysNode | undefined): string {
  if (n === undefined) return 'null';
  let out = `{"key":${goJsonString(n.key ?? '')}`;
  if (n.dir === true) out += ',"dir":true';
  out += `,"value":${goJsonString(n.value ?? '')}`;
  out += `,"nodes":${n.nodes === undefined ? 'null' : `[${n.nodes.map(nodeJson).join(',')}]`}`;
  out += `,"createdIndex":${n.createdIndex ?? 0},"modifiedIndex":${n.modifiedIndex ?? 0}`;
  if (n.expiration !== undefined) out += `,"expiration":${goJsonString(n.expiration)}`;
  if (n.ttl !== undefined && n.ttl !== 0) out += `,"ttl":${n.ttl}`;
  return `${out}}`;
}

export function responseJson(r: KeysResponse): string {
  return `{"action":${goJsonString(r.action)},"node":${nodeJson(r.node)},"prevNode":${nodeJson(r.prevNode)}}`;
}

/** The lines printResponseKey prints; undefined (with a message) for an unknown format. */
export function formatResponse(r: KeysResponse, format: string): { out?: string; err?: string } {
  switch (format) {
    case 'simple':
      return {
        out:
          r.action !== 'delete' ? `${r.node?.value ?? ''}\n` : `PrevNode.Value: ${r.prevNode?.value ?? ''}\n`,
      };
    case 'extended': {
      const n = r.node;
      let out = `Key: ${n?.key ?? ''}\nCreated-Index: ${n?.createdIndex ?? 0}\nModified-Index: ${n?.modifiedIndex ?? 0}\n`;
      if (r.prevNode !== undefined) out += `PrevNode.Value: ${r.prevNode.value ?? ''}\n`;
      out += `TTL: ${n?.ttl ?? 0}\nIndex: ${r.index}\n`;
      if (r.action !== 'delete') out += `\n${n?.value ?? ''}\n`;
      return { out };
    }
    case 'json':
      return { out: `${responseJson(r)}\n` };
    default:
      return { err: `Unsupported output format: ${format}\n` };
  }
}
