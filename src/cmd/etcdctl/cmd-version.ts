import type { Command } from './command.js';

/** The etcdctl release this CLI reproduces, and the API version it speaks. */
export const CTL_VERSION = '3.4.23';
export const API_VERSION = '3.4';

export const versionCommand: Command = {
  name: 'version',
  use: 'version',
  short: 'Prints the version of etcdctl',
  run: async (ctx) => {
    ctx.io.out(`etcdctl version: ${CTL_VERSION}\nAPI version: ${API_VERSION}\n`);
  },
};
