// Go's words for failed handshakes, for the "rejected connection" lines etcd
// logs: operators grep for them, and they say more than OpenSSL's codes.

/** Go's alert descriptions by OpenSSL's alert reason name. */
const ALERTS: Readonly<Record<string, string>> = {
  SSLV3_ALERT_BAD_CERTIFICATE: 'bad certificate',
  SSLV3_ALERT_UNSUPPORTED_CERTIFICATE: 'unsupported certificate',
  SSLV3_ALERT_CERTIFICATE_REVOKED: 'revoked certificate',
  SSLV3_ALERT_CERTIFICATE_EXPIRED: 'expired certificate',
  SSLV3_ALERT_CERTIFICATE_UNKNOWN: 'unknown certificate',
  SSLV3_ALERT_HANDSHAKE_FAILURE: 'handshake failure',
  SSLV3_ALERT_ILLEGAL_PARAMETER: 'illegal parameter',
  SSLV3_ALERT_UNEXPECTED_MESSAGE: 'unexpected message',
  TLSV1_ALERT_UNKNOWN_CA: 'unknown certificate authority',
  TLSV1_ALERT_ACCESS_DENIED: 'access denied',
  TLSV1_ALERT_DECODE_ERROR: 'error decoding message',
  TLSV1_ALERT_DECRYPT_ERROR: 'error decrypting message',
  TLSV1_ALERT_PROTOCOL_VERSION: 'protocol version not supported',
  TLSV1_ALERT_INSUFFICIENT_SECURITY: 'insufficient security level',
  TLSV1_ALERT_INTERNAL_ERROR: 'internal error',
  TLSV13_ALERT_CERTIFICATE_REQUIRED: 'certificate required',
  TLSV1_ALERT_NO_APPLICATION_PROTOCOL: 'no application protocol',
};

/** Go's x509 verification errors by OpenSSL's verify code. */
const VERIFY: Readonly<Record<string, string>> = {
  UNABLE_TO_GET_ISSUER_CERT: 'x509: certificate signed by unknown authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'x509: certificate signed by unknown authority',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'x509: certificate signed by unknown authority',
  SELF_SIGNED_CERT_IN_CHAIN: 'x509: certificate signed by unknown authority',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'x509: certificate signed by unknown authority',
  CERT_SIGNATURE_FAILURE: 'x509: certificate signed by unknown authority',
  CERT_HAS_EXPIRED: 'x509: certificate has expired or is not yet valid',
  CERT_NOT_YET_VALID: 'x509: certificate has expired or is not yet valid',
  INVALID_PURPOSE: 'x509: certificate specifies an incompatible key usage',
  CERT_REVOKED: 'x509: certificate revoked',
};

/** What Go's x509 would say for an OpenSSL verify code (e.g. Node's `authorizationError`). */
export function goVerifyText(code: string): string {
  return VERIFY[code] ?? `x509: ${code.toLowerCase().replaceAll('_', ' ')}`;
}

/**
 * The error text a Go TLS server logs for a handshake that failed with `err`
 * on the server side. `verifyCode` is Node's authorizationError, set when the
 * client's certificate failed verification.
 */
export function goHandshakeErrorText(err: Error, verifyCode?: string | null): string {
  if (verifyCode) return `tls: failed to verify client certificate: ${goVerifyText(verifyCode)}`;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') return "tls: client didn't provide a certificate";
  if (code === 'ERR_SSL_HTTP_REQUEST' || code === 'ERR_SSL_WRONG_VERSION_NUMBER')
    return 'tls: first record does not look like a TLS handshake';
  if (code === 'ERR_SSL_NO_SHARED_CIPHER') return 'tls: no cipher suite supported by both client and server';
  if (code === 'ERR_SSL_UNSUPPORTED_PROTOCOL') return 'tls: client offered only unsupported versions';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'EOF';
  if (code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'i/o timeout';
  const alert = /^ERR_SSL_(.*_ALERT_.*)$/.exec(code);
  if (alert !== null) {
    const name = alert[1] as string;
    return `remote error: tls: ${
      ALERTS[name] ??
      name
        .replace(/^.*_ALERT_/, '')
        .toLowerCase()
        .replaceAll('_', ' ')
    }`;
  }
  return err.message.trim();
}
