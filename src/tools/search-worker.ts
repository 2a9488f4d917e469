/**
 * Entry point of the worker thread that runs grep and glob searches (see run-search-worker.ts).
 * It imports nothing but Node and the small search modules, so that it starts fast.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { globFiles } from './glob-files.ts';
import { grepFiles } from './grep-files.ts';
import type { SearchJob, SearchReply } from './search-job.ts';

const job = workerData as SearchJob;
const reply: SearchReply = job.kind === 'grep' ? await grepFiles(job) : await globFiles(job);
parentPort?.postMessage(reply);
