import type { RunProgress, RunStart } from '../../app/index.ts';
import type { Clock } from '../../clock/index.ts';
import type { LokiEvent } from '../../events/index.ts';
import type { TerminalInfo } from '../cli-context.ts';
import { sanitizeForTerminal } from '../terminal-text.ts';
import { LiveRegion } from './live-region.ts';
import { PanelState } from './panel-state.ts';
import { renderPanel } from './render-panel.ts';
import type { Paint } from './terminal-style.ts';

/**
 * Redraws come at most this often however many events arrive (the follower itself reads at most
 * every 200 ms): a busy run is not slowed by its own display.
 */
const REDRAW_DELAY_MILLISECONDS = 100;
/** The elapsed times tick even when nothing happens. */
const TICK_MILLISECONDS = 1000;

/**
 * `loki run`'s live panel on a terminal: the run's lines scroll above it as in the plain mode, and
 * below them the panel (phase, agents with their task and elapsed time, queue counts, spend,
 * elapsed) is redrawn in place.
 */
export class RunPanel {
  readonly #region: LiveRegion;
  readonly #state: PanelState;
  readonly #terminal: TerminalInfo;
  readonly #clock: Clock;
  readonly #paint: Paint;
  #pendingLines: string[] = [];
  #redraw: NodeJS.Timeout | null = null;
  readonly #tick: NodeJS.Timeout;

  constructor(options: {
    write: (text: string) => void;
    terminal: TerminalInfo;
    clock: Clock;
    paint: Paint;
  }) {
    this.#region = new LiveRegion(options.write);
    this.#terminal = options.terminal;
    this.#clock = options.clock;
    this.#paint = options.paint;
    this.#state = new PanelState(options.clock.now());
    this.#tick = setInterval(() => this.#draw(), TICK_MILLISECONDS);
    // The panel never keeps the process alive on its own.
    this.#tick.unref();
  }

  started(start: RunStart): void {
    this.#state.start(start);
    this.#schedule();
  }

  event(event: LokiEvent): void {
    this.#state.apply(event);
    this.#schedule();
  }

  progress(progress: RunProgress): void {
    this.#state.applyProgress(progress);
    this.#schedule();
  }

  /** Text for the scrollback above the panel (the plain mode's lines); sanitised here. */
  print(text: string): void {
    const lines = sanitizeForTerminal(text).split('\n');
    if (lines.at(-1) === '') lines.pop();
    this.#pendingLines.push(...lines);
    this.#schedule();
  }

  /** Writes to another stream (stderr) with the panel off the screen, then redraws it. */
  aside(write: () => void): void {
    this.#region.clearFor(write);
    this.#draw();
  }

  /** The last frame stays as plain output, the cursor is shown; safe to call more than once. */
  close(): void {
    clearInterval(this.#tick);
    if (this.#redraw !== null) clearTimeout(this.#redraw);
    this.#redraw = null;
    const above = this.#pendingLines;
    this.#pendingLines = [];
    this.#region.close(this.#frame(), above);
  }

  #schedule(): void {
    this.#redraw ??= setTimeout(() => {
      this.#redraw = null;
      this.#draw();
    }, REDRAW_DELAY_MILLISECONDS);
  }

  #draw(): void {
    if (this.#region.isClosed) return;
    const above = this.#pendingLines;
    this.#pendingLines = [];
    this.#region.draw(this.#frame(), above);
  }

  #frame(): string[] {
    return renderPanel(this.#state.view(), {
      now: this.#clock.now(),
      columns: this.#terminal.columns(),
      rows: this.#terminal.rows(),
      paint: this.#paint,
    });
  }
}
