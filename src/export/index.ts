export {
  exportToVibeKanban,
  type VibeKanbanExportRequest,
  type VibeKanbanExportResult,
} from './export-to-vibe-kanban.ts';
export { DEFAULT_VIBE_KANBAN_SERVER } from './vibe-kanban-server.ts';
export { type StatusMapping, type VibeKanbanStatus, vibeKanbanStatusOf } from './vibe-kanban-status.ts';
