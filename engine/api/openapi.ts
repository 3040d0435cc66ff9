// The OpenAPI description the engine serves at /api/openapi.json. Kept next to the routes it
// describes; test/engine/api.test.ts checks that every documented path answers.
const bearer = [{ bearer: [] as string[] }];
const ok = { '200': { description: 'OK' }, '401': { description: 'no or bad token' }, '403': { description: 'role lacks the permission' } };
const idsBody = { content: { 'application/json': { schema: { type: 'object', required: ['ids'], properties: { ids: { type: 'array', items: { type: 'integer' } } } } } } };
const op = (summary: string, permission: string | null, extra: Record<string, unknown> = {}) => ({
  summary,
  ...(permission ? { description: `Permission: ${permission}`, security: bearer } : { security: [] }),
  responses: ok,
  ...extra,
});
const idParam = (name: string, type = 'string') => ({ name, in: 'path', required: true, schema: { type } });
const historyWindow = { name: 'window', in: 'query', required: false, schema: { type: 'string', example: '1h' }, description: 'How far back: 90s, 15m, 1h, 24h (default 1h; at most the 24 h kept). Up to 1 h comes at 10 s resolution, beyond at 1 min.' };

export const openApiDocument = {
  openapi: '3.0.3',
  info: {
    title: 'hisbridge engine API',
    version: '0.1.0',
    description: 'Channels, messages, queues, dead letters, statistics, alerts, users and audit of one hisbridge engine. Authenticate with POST /api/auth/login, then send Authorization: Bearer <token>.',
  },
  components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  paths: {
    '/health': { get: op('Liveness and store health (503 when the store refuses writes)', null) },
    '/ready': { get: op('Readiness: store writable, every channel started', null) },
    '/metrics': { get: op('Prometheus metrics', 'channels:read') },
    '/api/auth/login': { post: op('Log in with username and password; returns a session token (12 h)', null) },
    '/api/auth/logout': { post: op('End the current session', 'any user') },
    '/api/me': { get: op('The current user and permissions', 'any user') },
    '/api/me/password': { put: op('Change own password (currentPassword, newPassword)', 'any user') },
    '/api/channels': { get: op('Every deployed channel with state, connections and statistics; `undeployed`: channels the channel files define that are not deployed (id, name, sourceFile, deployed: false); channel files refused at load', 'channels:read') },
    '/api/channels/{id}': { get: op('One channel', 'channels:read', { parameters: [idParam('id')] }) },
    '/api/channels/{id}/config': { get: op('The channel configuration and its source file', 'channels:read', { parameters: [idParam('id')] }) },
    '/api/channels/{id}/deploy': { post: op('Re-read the channel file and (re)deploy it', 'channels:control', { parameters: [idParam('id')] }) },
    '/api/channels/{id}/undeploy': { post: op('Stop and remove the channel (queued deliveries stay stored)', 'channels:control', { parameters: [idParam('id')] }) },
    '/api/channels/{id}/pause': { post: op('Stop the source; queued deliveries continue', 'channels:control', { parameters: [idParam('id')] }) },
    '/api/channels/{id}/resume': { post: op('Start the source again', 'channels:control', { parameters: [idParam('id')] }) },
    '/api/channels/{id}/destinations/{name}/{action}': { post: op('Pause or resume one destination queue (action = pause|resume)', 'channels:control', { parameters: [idParam('id'), idParam('name'), idParam('action')] }) },
    '/api/messages': {
      get: op('Search messages (channel, status, from, to, patientId, accession, controlId, specimenId, text, before, limit); keyset paging with `before`', 'messages:read'),
    },
    '/api/messages/{id}': { get: op('One message with every stage, destination state and attempt (content needs messages:content; audited)', 'messages:read', { parameters: [idParam('id', 'integer')] }) },
    '/api/messages/{id}/export': { get: op('Download one stored stage (?stage=raw by default; audited)', 'messages:content', { parameters: [idParam('id', 'integer')] }) },
    '/api/messages/{id}/tree': { get: op('One stored stage decoded as a tree with field names: HL7 v2, ASTM, DICOM, JSON, XML (?stage=raw by default; audited)', 'messages:content', { parameters: [idParam('id', 'integer')] }) },
    '/api/messages/reprocess': { post: op('Run stored messages through their channel again (ids, optional destinations)', 'messages:reprocess', { requestBody: idsBody }) },
    '/api/queues': { get: op('Queue depth per destination', 'channels:read') },
    '/api/dlq': { get: op('Dead letters (channel, before, limit)', 'messages:read') },
    '/api/dlq/replay': { post: op('Put dead letters back in their queue', 'dlq:manage', { requestBody: idsBody }) },
    '/api/dlq/discard': { post: op('Discard dead letters (audited)', 'dlq:manage', { requestBody: idsBody }) },
    '/api/stats': { get: op('Counters, rates and latency percentiles per channel; queue depths', 'channels:read') },
    '/api/stats/history': {
      get: op('Sampled counters (received, filtered, queued, sent, errored, retried, dead) and p95 latencies of every channel over a window, kept in memory by the engine: { windowMs, resolutionMs, from, to, channels: { <id>: [{ at, counters, ackP95, deliveryP95 }] } }', 'channels:read', { parameters: [historyWindow] }),
    },
    '/api/channels/{id}/stats/history': {
      get: op('One channel\'s sampled counters over a window: { channelId, windowMs, resolutionMs, from, to, points }; 404 for a channel neither deployed nor in the history', 'channels:read', { parameters: [idParam('id'), historyWindow] }),
    },
    '/api/alerts': { get: op('Open alerts', 'channels:read') },
    '/api/alerts/{id}/ack': { post: op('Acknowledge an alert', 'channels:control', { parameters: [idParam('id')] }) },
    '/api/events': { get: op('Server-sent events: channel, connection, alert, stats (accepts ?access_token=)', 'channels:read') },
    '/api/users': { get: op('Users', 'users:manage'), post: op('Add a user (username, password ≥ 12 chars, role, displayName)', 'users:manage') },
    '/api/users/{username}': { put: op('Change role, password or disabled', 'users:manage', { parameters: [idParam('username')] }) },
    '/api/tokens': { get: op('API tokens (own, or all for admins)', 'any user'), post: op('Issue an API token (name, expiresInDays); the secret is shown once', 'any user') },
    '/api/tokens/{id}': { delete: op('Revoke an API token', 'any user', { parameters: [idParam('id', 'integer')] }) },
    '/api/audit': { get: op('Audit log (username, patientId, action, before, limit)', 'audit:read') },
  },
};
