// Public surface of the Raft core.
export { decodeConfChange, encodeConfChange } from './confchange-codec.js';
export { MemoryStorage } from './memory-storage.js';
export { messageSize } from './messages.js';
export { RawNode } from './raw-node.js';
export * from './types.js';
