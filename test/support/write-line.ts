import { writeSync } from 'node:fs';

/**
 * Writes one line to stdout synchronously. The support scripts report progress this way rather than
 * with process.stdout.write because, on a pipe, Node queues a write in memory once the pipe is full
 * and only flushes it from the event loop; a line queued like that is lost to SIGKILL, and the
 * kill -9 test relies on "printed" meaning "the parent will read it". writeSync on the (blocking)
 * fd instead waits until the parent has room. These scripts therefore never touch process.stdout,
 * whose first use would switch fd 1 to non-blocking mode.
 */
export function writeLine(line: string): void {
  writeSync(1, `${line}\n`);
}
