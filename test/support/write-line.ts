import { writeSync } from 'node:fs';

/** A word to sleep on with Atomics.wait: nothing ever notifies it, so each wait lasts its timeout. */
const SLEEPER = new Int32Array(new SharedArrayBuffer(4));
/** How long to wait before trying again when the pipe is full. */
const FULL_PIPE_WAIT_MILLISECONDS = 2;

/**
 * Writes one line to stdout synchronously: when it returns, the whole line is in the pipe. The
 * support scripts report progress this way rather than with process.stdout.write because, on a pipe,
 * Node queues a write in memory once the pipe is full and only flushes it from the event loop; a
 * line queued like that is lost to SIGKILL, and the kill -9 tests rely on "printed" meaning "the
 * parent will read it".
 *
 * The pipe may be in non-blocking mode: importing `node:process` (as Loki's modules do) makes Node
 * build its stdio streams, which switches fds 0–2 to non-blocking. A full pipe then answers EAGAIN
 * (and may take part of a line), so this waits briefly and writes the rest until all of it is in.
 */
export function writeLine(line: string): void {
  const bytes = Buffer.from(`${line}\n`);
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(1, bytes, offset);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
      Atomics.wait(SLEEPER, 0, 0, FULL_PIPE_WAIT_MILLISECONDS);
    }
  }
}
