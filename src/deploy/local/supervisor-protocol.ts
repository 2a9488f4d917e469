import { z } from 'zod';

/** The control channel's messages (CLI → supervisor), validated on both sides. */
export const startAppRequestSchema = z.object({
  version: z.string().regex(/^v\d+$/),
  directory: z.string().min(1),
  startCommand: z.string().min(1),
  /** Runs the app inside bubblewrap (host network, only its release directory writable); null: plain. */
  bubblewrapPath: z.string().nullable(),
});
export type StartAppRequest = z.infer<typeof startAppRequestSchema>;

export const routeSchema = z.object({
  /** The version that takes the traffic; null: nothing is routed (503). */
  active: z.string().nullable(),
  /** During a canary: this share (0–100) of requests goes to `version` instead. */
  canary: z.object({ version: z.string(), percent: z.number().min(0).max(100) }).nullable(),
});
export type Route = z.infer<typeof routeSchema>;

export const appStateSchema = z.object({
  version: z.string(),
  pid: z.number().nullable(),
  port: z.number(),
  restarts: z.number(),
  state: z.enum(['starting', 'running', 'restarting', 'stopped']),
});
export type AppState = z.infer<typeof appStateSchema>;

export const trafficSampleSchema = z.object({
  requests: z.number(),
  errors: z.number(),
  medianLatencyMilliseconds: z.number().nullable(),
});

export const supervisorStatusSchema = z.object({
  pid: z.number(),
  proxyPort: z.number(),
  route: routeSchema,
  apps: z.array(appStateSchema),
  /** Per version, since the last reset: what the canary comparison reads. */
  traffic: z.record(z.string(), trafficSampleSchema),
});
export type SupervisorStatus = z.infer<typeof supervisorStatusSchema>;
