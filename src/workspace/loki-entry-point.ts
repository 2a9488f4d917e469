import { fileURLToPath } from 'node:url';

/**
 * This installation's `loki` executable (bin/loki.js), the same relative place from src/ and dist/:
 * what Loki starts when it runs itself in another process (MCP tools, the Codex guard, background
 * runs, the deploy supervisor), so the child is always the same version as its parent.
 */
export const LOKI_ENTRY_POINT = fileURLToPath(new URL('../../bin/loki.js', import.meta.url));
