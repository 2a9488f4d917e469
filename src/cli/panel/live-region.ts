/**
 * A block of lines at the bottom of a terminal, redrawn in place: each draw moves the cursor back
 * to the block's first line, clears to the end of the screen and writes the new block in ONE write,
 * so the terminal never shows half a frame. Lines printed "above" scroll up like ordinary output.
 *
 * Hand-written because it is a few ANSI sequences (cursor up, erase down, cursor hide/show): the
 * libraries that do this (log-update, ink) bring a dependency tree for the same handful of bytes.
 *
 * Invariant: every frame line is shorter than the terminal is wide (the caller truncates), so the
 * block's height on screen is its number of lines and the cursor-up count is exact.
 */
const CSI = '\u001b[';
export const HIDE_CURSOR = `${CSI}?25l`;
export const SHOW_CURSOR = `${CSI}?25h`;
export const ERASE_DOWN = `${CSI}J`;

export class LiveRegion {
  readonly #write: (text: string) => void;
  #height = 0;
  #isCursorHidden = false;
  #isClosed = false;

  constructor(write: (text: string) => void) {
    this.#write = write;
  }

  /** Writes `above` (whole lines, kept in the scrollback) where the block was, then the new block. */
  draw(frame: readonly string[], above: readonly string[] = []): void {
    if (this.#isClosed) return;
    let text = this.#isCursorHidden ? '' : HIDE_CURSOR;
    this.#isCursorHidden = true;
    text += this.#eraseBlock();
    for (const line of above) text += `${line}\n`;
    for (const line of frame) text += `${line}\n`;
    this.#height = frame.length;
    this.#write(text);
  }

  /** Takes the block off the screen, runs `write` (output of another kind, e.g. stderr), then redraws nothing: the next draw does. */
  clearFor(write: () => void): void {
    if (this.#isClosed) {
      write();
      return;
    }
    const erase = this.#eraseBlock();
    this.#height = 0;
    if (erase !== '') this.#write(erase);
    write();
  }

  /**
   * Leaves the terminal as a plain program would: the last frame (when given) stays as ordinary
   * output, the cursor is shown again. Idempotent, so both the normal end and Ctrl-C may call it.
   */
  close(lastFrame: readonly string[] | null, above: readonly string[] = []): void {
    if (this.#isClosed) return;
    let text = this.#eraseBlock();
    for (const line of above) text += `${line}\n`;
    for (const line of lastFrame ?? []) text += `${line}\n`;
    if (this.#isCursorHidden) text += SHOW_CURSOR;
    this.#isClosed = true;
    this.#height = 0;
    if (text !== '') this.#write(text);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  // \r first: an echoed ^C (or anything typed) may have left the cursor mid-line.
  #eraseBlock(): string {
    return this.#height === 0 ? '' : `\r${CSI}${this.#height}A${ERASE_DOWN}`;
  }
}
