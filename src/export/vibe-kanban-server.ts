/**
 * Vibe Kanban's own documented way to start its MCP server. In a file of its own: `loki export
 * --help` shows it without loading the exporter.
 */
export const DEFAULT_VIBE_KANBAN_SERVER = ['npx', '-y', 'vibe-kanban@latest', '--mcp'] as const;
