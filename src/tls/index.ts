/**
 * TLS for both member ports, from the parsed flags (config TlsConfig +
 * --cipher-suites), as etcd 3.4 configures it (pkg/transport), plus reloading
 * of certificate files replaced on disk.
 *
 * Server side (client port, peer port, metrics port):
 *
 *   const srvTls = await createServerTls({ side: 'peer', tls: cfg.peerTls,
 *     cipherSuites: cfg.cipherSuites, log,
 *     autoTls: { dir: join(cfg.dataDir, 'fixtures', 'peer'), hosts: listenHostPorts } });
 *   log.info('starting with peer TLS', { 'tls-info': describeTls(srvTls.info), 'cipher-suites': cfg.cipherSuites });
 *   // client port (raw TLS sockets):
 *   const server = tls.createServer(srvTls.options(), (socket) => {
 *     if (!srvTls.admit(socket)) return;          // allowed CN/hostname, CRL; false = destroyed + logged
 *     ...
 *   });
 *   // peer port (HTTP/1.1 over TLS): also etcd's client SAN check, which may need DNS
 *   const server = https.createServer({ ...srvTls.options(), ALPNProtocols: ['http/1.1'] }, async (req, res) => {
 *     if (!(await srvTls.admitted(req.socket as tls.TLSSocket))) return;   // once per socket
 *     ...
 *   });
 *   srvTls.attach(server);                         // reload on file change + "rejected connection" logs
 *   ...; srvTls.close();
 *
 * The same ServerTls may be attached to several servers (one per listen URL).
 * Errors are TlsSetupError with etcd's text (unknown cipher suite, missing or
 * mismatched files, allowed-cn together with allowed-hostname).
 *
 * Before anything else at start (etcd fails there, before the data dir exists):
 *   validateTlsFlags(cfg)   // unknown --cipher-suites name, allowed-cn + allowed-hostname
 *
 * Client side (a member dialling a peer URL):
 *
 *   const cliTls = createClientTls(srvTls.info, log);   // same side's effective settings
 *   https.request({ host, port, ...cliTls.options(host) }) / tls.connect(...)
 *
 * Pure checks, exported for tests and other callers:
 *   verifyAllowed(cert, { allowedCn, allowedHostname }) -> string | undefined
 *   certificateValidForHost(cert, host) -> boolean      (Go's VerifyHostname)
 *   checkClientSan(cert, remoteIp) -> Promise<string | undefined>
 *   resolveCipherSuites(goNames) -> { ciphers, unavailable }
 *   parseKeyPair(cert, key) / loadKeyPair(certFile, keyFile) / loadCaBundle(file)
 */
export {
  type AllowedRules,
  certificateValidForHost,
  checkAllowedRules,
  commonName,
  NOT_ALLOWED,
  subjectAltNames,
  verifyAllowed,
} from './allowed.js';
export { type CipherChoice, resolveCipherSuites, TLS13_SUITES } from './cipher-suites.js';
export { type ClientTls, createClientTls } from './client.js';
export { checkClientSan, type SanResolver } from './client-san.js';
export { TlsSetupError } from './errors.js';
export { goHandshakeErrorText, goVerifyText } from './handshake-errors.js';
export { type KeyPair, loadCaBundle, loadKeyPair, parseKeyPair, readTlsFile } from './pem.js';
export { ensureSelfSignedPair, generateSelfSigned, hostOfAddress } from './self-signed.js';
export {
  createServerTls,
  describeTls,
  type EffectiveTls,
  effectiveServerTls,
  needsAdmission,
  type ServerTls,
  type ServerTlsSettings,
  type TlsSide,
} from './server.js';
export { validateTlsFlags } from './validate.js';
