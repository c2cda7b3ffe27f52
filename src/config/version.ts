// What "etcd --version" and GET /version report. etcd-ts speaks etcd 3.4's API and
// reports the 3.4.23 server version so clients and tools that check versions
// (etcdctl, client libraries, kubeadm) treat it as the etcd it replaces.

/** The etcd server version we are compatible with and report. */
export const ETCD_SERVER_VERSION = '3.4.23';
/** The cluster version a 3.4 cluster settles on (major.minor.0). */
export const ETCD_CLUSTER_VERSION = '3.4.0';
/** Replaces the Git SHA line: there is no etcd commit behind this build. */
export const BUILD_ID = 'etcd-ts';

const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };

/** The four lines of `etcd --version`, with the runtime lines describing Node.js instead of Go. */
export function versionText(): string {
  const arch = GO_ARCH[process.arch] ?? process.arch;
  return [
    `etcd Version: ${ETCD_SERVER_VERSION}`,
    `Git SHA: Not provided (${BUILD_ID})`,
    `Go Version: node${process.versions.node}`,
    `Go OS/Arch: ${process.platform}/${arch}`,
    '',
  ].join('\n');
}
