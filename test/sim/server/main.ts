import { serverSimMain } from './sweep.js';

process.exitCode = await serverSimMain(process.argv.slice(2));
