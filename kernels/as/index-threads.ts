// The threads build's entry (asconfig.threads.json): every export of the
// one-thread build (index.ts) and the worker loop of threads.ts, compiled
// with shared memory and atomics.
export * from './index';
export { workerLoop, threadScratchBytes, controlLayout } from './threads';
