/**
 * Proves that work ran at the same time: a fake API holds the first call of each party until all
 * `parties` have called. If they all arrive while it holds, they were all in flight together
 * (`met`). If they do not within `deadlineMilliseconds` (work that runs one after another never
 * can), everyone is let go so the run still ends, and `met` stays false with `arrived` naming who
 * came.
 */
export class ArrivalBarrier {
  readonly #parties: number;
  readonly #arrived = new Set<string>();
  readonly #released: Promise<void>;
  readonly #deadline: NodeJS.Timeout;
  #release!: () => void;
  #holding = true;
  #met = false;

  constructor(parties: number, deadlineMilliseconds = 180_000) {
    this.#parties = parties;
    this.#released = new Promise((resolve) => {
      this.#release = resolve;
    });
    this.#deadline = setTimeout(() => this.#open(), deadlineMilliseconds);
    this.#deadline.unref();
  }

  /**
   * Called by each party (the same party again is not counted twice); settles once the barrier
   * opens. Only arrivals while it still holds count towards `met`.
   */
  arrive(party: string): Promise<void> {
    this.#arrived.add(party);
    if (this.#holding && this.#arrived.size >= this.#parties) {
      this.#met = true;
      this.#open();
    }
    return this.#released;
  }

  get met(): boolean {
    return this.#met;
  }

  get arrived(): string[] {
    return [...this.#arrived];
  }

  #open(): void {
    this.#holding = false;
    clearTimeout(this.#deadline);
    this.#release();
  }
}
