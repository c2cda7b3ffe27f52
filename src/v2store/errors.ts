// etcd's v2 error codes (etcdserver/api/v2error): the code, its fixed message,
// the cause, the store index, and the HTTP status the v2 API answers with.
// Clients (python-etcd, etcdctl v2, go client v2) match on errorCode.

export const V2ErrorCode = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NoMorePeer: 103,
  NotDir: 104,
  NodeExist: 105,
  KeyIsPreserved: 106,
  RootReadOnly: 107,
  DirNotEmpty: 108,
  ExistingPeerAddr: 109,
  Unauthorized: 110,
  ValueRequired: 200,
  PrevValueRequired: 201,
  TtlNaN: 202,
  IndexNaN: 203,
  ValueOrTtlRequired: 204,
  TimeoutNaN: 205,
  NameRequired: 206,
  IndexOrValueRequired: 207,
  IndexValueMutex: 208,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTtlRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  WatcherCleared: 400,
  EventIndexCleared: 401,
  StandbyInternal: 402,
  InvalidActiveSize: 403,
  InvalidRemoveDelay: 404,
  ClientInternal: 500,
} as const;
export type V2ErrorCode = (typeof V2ErrorCode)[keyof typeof V2ErrorCode];

const MESSAGES: Record<V2ErrorCode, string> = {
  100: 'Key not found',
  101: 'Compare failed',
  102: 'Not a file',
  103: 'Reached the max number of peers in the cluster',
  104: 'Not a directory',
  105: 'Key already exists',
  106: 'The prefix of given key is a keyword in etcd',
  107: 'Root is read only',
  108: 'Directory not empty',
  109: 'Peer address has existed',
  110: 'The request requires user authentication',
  200: 'Value is Required in POST form',
  201: 'PrevValue is Required in POST form',
  202: 'The given TTL in POST form is not a number',
  203: 'The given index in POST form is not a number',
  204: 'Value or TTL is required in POST form',
  205: 'The given timeout in POST form is not a number',
  206: 'Name is required in POST form',
  207: 'Index or value is required',
  208: 'Index and value cannot both be specified',
  209: 'Invalid field',
  210: 'Invalid POST form',
  211: 'Value provided on refresh',
  212: 'A TTL must be provided on refresh',
  300: 'Raft Internal Error',
  301: 'During Leader Election',
  400: 'watcher is cleared due to etcd recovery',
  401: 'The event in requested index is outdated and cleared',
  402: 'Standby Internal Error',
  403: 'Invalid active size',
  404: 'Standby remove delay',
  500: 'Client Internal Error',
};

/** Codes that do not answer 400 Bad Request. */
const STATUS: Partial<Record<V2ErrorCode, number>> = {
  100: 404,
  101: 412,
  102: 403,
  105: 412,
  108: 403,
  110: 401,
  300: 500,
  301: 500,
};

export class V2Error extends Error {
  readonly errorCode: V2ErrorCode;
  /** What the error is about (a key, a comparison); "cause" in the JSON body. */
  override cause: string;
  index: number;

  constructor(code: V2ErrorCode, cause: string, index: number) {
    super(`${MESSAGES[code]} (${cause})`);
    this.name = 'V2Error';
    this.errorCode = code;
    this.cause = cause;
    this.index = index;
  }

  /** etcd's fixed text for the code. */
  get text(): string {
    return MESSAGES[this.errorCode];
  }

  get httpStatus(): number {
    return STATUS[this.errorCode] ?? 400;
  }
}

export function v2Error(code: V2ErrorCode, cause: string, index: number): V2Error {
  return new V2Error(code, cause, index);
}
