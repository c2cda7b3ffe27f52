// Public surface of the configuration module.
export { verifyBootstrapCluster } from './bootstrap.js';
export { parseEtcdCommandLine, parseServerConfig } from './parse.js';
export * from './types.js';
export { type EtcdUrl, parseEtcdUrl, parseUrlList } from './urls.js';
export { ETCD_CLUSTER_VERSION, ETCD_SERVER_VERSION, versionText } from './version.js';
