/**
 * Runs async tasks one after another, in the order they were given: a fold that reads "after the
 * last event I folded" must not run twice at once, or both would fold the same events.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    // A failed task fails its caller only; the next one still runs.
    this.#tail = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }
}
