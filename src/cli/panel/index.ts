export { ERASE_DOWN, HIDE_CURSOR, LiveRegion, SHOW_CURSOR } from './live-region.ts';
export { type PanelAgent, PanelState, type PanelView } from './panel-state.ts';
export { formatDuration, renderPanel } from './render-panel.ts';
export { RunPanel } from './run-panel.ts';
export { type Paint, paintFor, plainPaint } from './terminal-style.ts';
export { watchStatus } from './watch-status.ts';
