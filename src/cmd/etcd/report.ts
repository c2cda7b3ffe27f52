// How configuration errors reach the terminal before any configured logger
// exists: the same shapes etcd 3.4 prints (a Go flag error plus usage; a capnslog
// "error verifying flags" line; a critical capnslog line).

import { USAGE_TEXT } from '../../config/help.js';
import type { ConfigError } from '../../config/types.js';

const UNSET_ADVERTISE = '--advertise-client-urls is required when --listen-client-urls is set explicitly';

/** capnslog's time stamp: "2006-01-02 15:04:05.000000" (UTC). */
function stamp(now: Date): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}000`;
}

/** The text for stderr and the exit status for an error raised while reading the configuration. */
export function describeConfigError(err: ConfigError, now: Date): { stderr: string; exitCode: number } {
  if (err.kind === 'usage') return { stderr: `${err.message}\n${USAGE_TEXT}\n`, exitCode: 2 };
  if (err.kind === 'plain') return { stderr: `${err.message}\n`, exitCode: 1 };
  if (err.kind === 'fatal') return { stderr: `${stamp(now)} C | pkg/flags: ${err.message}\n`, exitCode: 1 };
  let text = `${stamp(now)} E | etcdmain: error verifying flags, ${err.message}. See 'etcd --help'.\n`;
  if (err.message === UNSET_ADVERTISE) {
    text += `${stamp(now)} E | etcdmain: When listening on specific address(es), this etcd process must advertise accessible url(s) to each connected client.\n`;
  }
  return { stderr: text, exitCode: 1 };
}
