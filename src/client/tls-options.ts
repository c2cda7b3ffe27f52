/** TLS material for https (or scheme-less, when configured) endpoints. */
export interface TlsOptions {
  /**
   * PEM CA bundle (one buffer, or one per certificate); when absent the system
   * roots are used. An empty list trusts nothing, as Go's empty pool.
   */
  ca?: Buffer | Buffer[];
  /** PEM client certificate and key for mutual TLS. */
  cert?: Buffer;
  key?: Buffer;
  /** Accept any server certificate (testing only, as etcdctl's flag of the same name). */
  insecureSkipVerify?: boolean;
  /** Overrides the name checked against the server certificate. */
  serverName?: string;
}
