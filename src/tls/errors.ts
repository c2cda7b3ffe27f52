/** A TLS setting that cannot be used; the message is etcd's (or Go's) text for the same problem. */
export class TlsSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TlsSetupError';
  }
}
