/**
 * Writes many long lines through writeLine, run as its own process by test/support/write-line.test.ts:
 *
 *   node test/support/line-flood.ts <lines>
 *
 * Importing `node:process` makes Node build its stdio streams, which switches the pipes on fds 0–2
 * to non-blocking mode — as happens in every support script that imports Loki's modules. It prints
 * `flooding` on stderr before the first line, then `line <n> <padding>` for each, then `done`.
 */
import { argv } from 'node:process';
import { writeSync } from 'node:fs';
import { writeLine } from './write-line.ts';

const count = Number(argv[2]);
if (!Number.isInteger(count) || count < 1) throw new Error('usage: line-flood.ts <lines>');
const padding = 'x'.repeat(1000);
writeSync(2, 'flooding\n');
for (let number = 1; number <= count; number += 1) writeLine(`line ${number} ${padding}`);
writeLine('done');
