// The REST API (Orthanc-style: small and clear, over everything the engine knows). Every route but
// /health and /ready needs a bearer token (a login session or an API token); each route names the
// permission it needs; every read of message content is written to the audit log.
import express, { type NextFunction, type Request, type Response } from 'express';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { z, ZodError } from 'zod';
import { AuthError, can, permissionsOf, roles, type Permission, type SecurityStore, type User } from '../auth/security-store';
import { ChannelConfigError, NotFoundError, type Engine } from '../engine';
import { listenOrExplain } from '../net/listen';
import { parseWindow, type StatsHistory } from '../metrics/history';
import { messageStatuses } from '../store/types';
import { openApiDocument } from './openapi';
import { decodeContentTree } from '../../console/server/content-tree';

declare module 'express-serve-static-core' {
  interface Request {
    user?: User;
    token?: string;
  }
}

export interface ChannelSource {
  /** Re-reads one channel's file and redeploys it (the console's "deploy" button). */
  redeploy(channelId: string): Promise<void>;
  /** Problems found in channel files at load, so the console can show refused channels. */
  problems(): Array<{ file: string; field: string; message: string; channelId?: string }>;
  /** Channels the files define, deployed or not, so the console can offer to deploy an undeployed one. */
  definitions?(): Array<{ id: string; name: string; file: string }>;
}

/** A router contributed by another area (claims, IoMT, EMR…), mounted under /api/<path>. */
export interface ApiExtension {
  path: string;
  permission: Permission;
  router: express.Router;
}

export interface ApiOptions {
  engine: Engine;
  security: SecurityStore;
  channels?: ChannelSource;
  extensions?: ApiExtension[];
  /** Folder of the built web console, served at `/`. */
  consoleDir?: string;
  /** Sampled channel counters over the last day (engine/metrics/history.ts); absent = no history routes. */
  statsHistory?: StatsHistory;
}

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
  }
}

const idList = z.object({ ids: z.array(z.number().int().positive()).min(1, 'give at least one id').max(10_000) });

export function requirePermission(permission: Permission) {
  return (req: Request, _res: Response, next: NextFunction) => {
    if (!req.user) return next(new HttpError(401, 'authentication required'));
    if (!can(req.user.role, permission)) return next(new HttpError(403, `role "${req.user.role}" lacks permission "${permission}"`));
    next();
  };
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpError(400, `${issue.path.join('.') || 'body'}: ${issue.message}`, issue.path.join('.'));
  }
  return result.data;
}

const searchQuery = z.object({
  channel: z.string().optional(),
  status: z.enum(messageStatuses).optional(),
  from: z.coerce.date().optional(),
  to: z.coerce.date().optional(),
  patientId: z.string().optional(),
  accession: z.string().optional(),
  controlId: z.string().optional(),
  specimenId: z.string().optional(),
  text: z.string().max(200).optional(),
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
});

export function createApiApp(options: ApiOptions): express.Express {
  const { engine, security } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('x-frame-options', 'DENY');
    next();
  });
  app.use(express.json({ limit: '2mb' }));
  const remote = (req: Request) => req.socket.remoteAddress ?? '';
  const audit = (req: Request, action: string, target?: string, patientId?: string | null, detail?: string) =>
    security.audit({ username: req.user?.username ?? '(anonymous)', action, target, patientId, detail, remote: remote(req) });

  // ------------------------------------------------------------ unauthenticated
  app.get('/health', (_req, res) => {
    const health = engine.health();
    res.status(health.ok ? 200 : 503).json(health);
  });
  app.get('/ready', (_req, res) => {
    const ready = engine.ready();
    res.status(ready.ready ? 200 : 503).json(ready);
  });
  app.get('/api/openapi.json', (_req, res) => res.json(openApiDocument));

  const loginBody = z.object({ username: z.string().min(1), password: z.string().min(1) });
  app.post('/api/auth/login', (req, res) => {
    const { username, password } = parse(loginBody, req.body);
    const user = security.checkPassword(username, password);
    if (!user) {
      security.audit({ username, action: 'login-failed', remote: remote(req) });
      throw new HttpError(401, 'wrong username or password');
    }
    const session = security.issueToken(user.username, 'session');
    security.audit({ username: user.username, action: 'login', remote: remote(req) });
    res.json({ token: session.token, expiresAt: session.expiresAt, user: { ...user, permissions: permissionsOf(user.role) } });
  });

  // ------------------------------------------------------------ authentication for everything below
  app.use((req, _res, next) => {
    if (!req.path.startsWith('/api/') && req.path !== '/metrics') return next();
    const header = req.headers.authorization ?? '';
    // EventSource cannot set headers: the SSE stream also accepts ?access_token=.
    const token = header.startsWith('Bearer ') ? header.slice(7) : req.path === '/api/events' && typeof req.query.access_token === 'string' ? req.query.access_token : undefined;
    if (!token) return next(new HttpError(401, 'missing bearer token (Authorization: Bearer <token>)'));
    const user = security.authenticate(token);
    if (!user) return next(new HttpError(401, 'invalid or expired token'));
    req.user = user;
    req.token = token;
    next();
  });

  app.get('/metrics', requirePermission('channels:read'), async (_req, res) => {
    await engine.evaluateAlerts().catch(() => undefined);
    res.setHeader('content-type', engine.metrics.registry.contentType);
    res.send(await engine.metrics.registry.metrics());
  });

  app.post('/api/auth/logout', (req, res) => {
    security.revokeToken(req.token!);
    res.json({ ok: true });
  });
  app.get('/api/me', (req, res) => res.json({ ...req.user, permissions: permissionsOf(req.user!.role) }));
  app.put('/api/me/password', (req, res) => {
    const body = parse(z.object({ currentPassword: z.string(), newPassword: z.string() }), req.body);
    if (!security.checkPassword(req.user!.username, body.currentPassword)) throw new HttpError(403, 'currentPassword: wrong password', 'currentPassword');
    security.setPassword(req.user!.username, body.newPassword);
    audit(req, 'password-changed', `user:${req.user!.username}`);
    res.json({ ok: true });
  });

  // ------------------------------------------------------------ channels
  app.get('/api/channels', requirePermission('channels:read'), (_req, res) => {
    const deployed = engine.channelIds();
    const undeployed = (options.channels?.definitions?.() ?? []).filter((d) => !deployed.includes(d.id)).map((d) => ({ id: d.id, name: d.name, sourceFile: d.file, deployed: false }));
    res.json({ channels: deployed.map((id) => engine.describeChannel(id)), undeployed, problems: options.channels?.problems() ?? [], connectorTypes: engine.connectorTypes() });
  });
  app.get('/api/channels/:id', requirePermission('channels:read'), (req, res) => res.json(engine.describeChannel(String(req.params.id))));
  app.get('/api/channels/:id/config', requirePermission('channels:read'), (req, res) => {
    const id = String(req.params.id);
    const description = engine.describeChannel(id);
    const config = engine.channelConfig(id);
    const sourceText = description.sourceFile && fs.existsSync(description.sourceFile) ? fs.readFileSync(description.sourceFile, 'utf8') : null;
    res.json({ sourceFile: description.sourceFile, sourceText, config: JSON.parse(JSON.stringify(config, (_k, v) => (typeof v === 'function' ? `[function ${v.name || 'anonymous'}]` : v))) });
  });
  const channelAction = (action: string, run: (id: string, req: Request) => Promise<void>) =>
    app.post(`/api/channels/:id/${action}`, requirePermission('channels:control'), async (req, res) => {
      const id = String(req.params.id);
      await run(id, req);
      audit(req, `channel-${action}`, `channel:${id}`);
      res.json({ ok: true, channel: engine.channelIds().includes(id) ? engine.describeChannel(id) : { id, state: 'undeployed' } });
    });
  channelAction('deploy', async (id) => {
    if (!options.channels) throw new HttpError(409, 'this engine was not started from a channels folder');
    await options.channels.redeploy(id);
  });
  channelAction('undeploy', (id) => engine.undeployChannel(id));
  channelAction('pause', (id) => engine.pauseChannel(id));
  channelAction('resume', (id) => engine.resumeChannel(id));
  app.post('/api/channels/:id/destinations/:name/:action', requirePermission('channels:control'), (req, res) => {
    const action = String(req.params.action);
    if (action !== 'pause' && action !== 'resume') throw new HttpError(404, `unknown action "${action}" (pause or resume)`);
    engine.pauseDestination(String(req.params.id), String(req.params.name), action === 'pause');
    audit(req, `destination-${action}`, `channel:${req.params.id}/${req.params.name}`);
    res.json({ ok: true });
  });

  // ------------------------------------------------------------ messages
  app.get('/api/messages', requirePermission('messages:read'), async (req, res) => {
    const q = parse(searchQuery, req.query);
    const messages = await engine.store.search({
      channelId: q.channel,
      status: q.status,
      from: q.from,
      to: q.to,
      patientId: q.patientId,
      accession: q.accession,
      controlId: q.controlId,
      specimenId: q.specimenId,
      text: q.text,
      beforeId: q.before,
      limit: q.limit,
    });
    if (q.patientId) audit(req, 'search-messages', undefined, q.patientId);
    res.json({ messages, next: messages.length === q.limit ? messages[messages.length - 1].id : null });
  });
  app.get('/api/messages/:id', requirePermission('messages:read'), async (req, res) => {
    const id = parse(z.coerce.number().int().positive(), req.params.id);
    const message = await engine.store.get(id);
    if (!message) throw new HttpError(404, `message ${id} not found`);
    const withContent = can(req.user!.role, 'messages:content');
    audit(req, withContent ? 'read-message' : 'read-message-metadata', `message:${id}`, message.correlation.patientId ?? null);
    res.json({
      ...message,
      contents: withContent ? message.contents.map((c) => ({ stage: c.stage, contentType: c.contentType, size: c.data.length, text: isText(c.contentType, c.data) ? c.data.toString('utf8') : null, base64: isText(c.contentType, c.data) ? null : c.data.toString('base64') })) : [],
      contentHidden: !withContent,
    });
  });
  // A stored stage decoded as a tree with field names (HL7 v2, ASTM, DICOM, JSON, XML), for the console.
  app.get('/api/messages/:id/tree', requirePermission('messages:content'), async (req, res) => {
    const id = parse(z.coerce.number().int().positive(), req.params.id);
    const message = await engine.store.get(id);
    if (!message) throw new HttpError(404, `message ${id} not found`);
    const stage = typeof req.query.stage === 'string' ? req.query.stage : 'raw';
    const content = message.contents.find((c) => c.stage === stage);
    if (!content) throw new HttpError(404, `message ${id} has no stored "${stage}" content`);
    let hl7Charset: string | undefined;
    try {
      const charset = (engine.channelConfig(message.channelId).source.config as Record<string, unknown>)?.charset;
      if (typeof charset === 'string') hl7Charset = charset;
    } catch {
      /* channel no longer deployed: MSH-18 or UTF-8 decides */
    }
    audit(req, 'read-message', `message:${id}`, message.correlation.patientId ?? null, `tree ${stage}`);
    res.json(decodeContentTree(content, { dataDir: engine.dataDir, hl7Charset }));
  });
  app.post('/api/messages/reprocess', requirePermission('messages:reprocess'), async (req, res) => {
    const body = parse(idList.extend({ destinations: z.array(z.string()).optional() }), req.body);
    const results = await engine.reprocess(body.ids, body.destinations);
    audit(req, 'reprocess', `messages:${body.ids.join(',')}`, undefined, body.destinations ? `destinations ${body.destinations.join(',')}` : undefined);
    res.json({ results });
  });
  app.get('/api/messages/:id/export', requirePermission('messages:content'), async (req, res) => {
    const id = parse(z.coerce.number().int().positive(), req.params.id);
    const message = await engine.store.get(id);
    if (!message) throw new HttpError(404, `message ${id} not found`);
    const stage = typeof req.query.stage === 'string' ? req.query.stage : 'raw';
    const content = message.contents.find((c) => c.stage === stage);
    if (!content) throw new HttpError(404, `message ${id} has no stored "${stage}" content`);
    audit(req, 'export-message', `message:${id}`, message.correlation.patientId ?? null, stage);
    res.setHeader('content-type', content.contentType);
    res.setHeader('content-disposition', `attachment; filename="message-${id}-${stage.replace(/[^a-z0-9-]/gi, '_')}"`);
    res.send(content.data);
  });

  // ------------------------------------------------------------ queues, dead letters
  app.get('/api/queues', requirePermission('channels:read'), async (_req, res) => res.json({ queues: await engine.store.queueDepths() }));
  app.get('/api/dlq', requirePermission('messages:read'), async (req, res) => {
    const q = parse(z.object({ channel: z.string().optional(), before: z.coerce.number().int().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }), req.query);
    res.json({ deadLetters: await engine.store.deadLetters({ channelId: q.channel, beforeQueueId: q.before, limit: q.limit }) });
  });
  app.post('/api/dlq/replay', requirePermission('dlq:manage'), async (req, res) => {
    const { ids } = parse(idList, req.body);
    const replayed = await engine.replayDeadLetters(ids);
    audit(req, 'dlq-replay', `queue:${ids.join(',')}`);
    res.json({ replayed });
  });
  app.post('/api/dlq/discard', requirePermission('dlq:manage'), async (req, res) => {
    const { ids } = parse(idList, req.body);
    const discarded = await engine.discardDeadLetters(ids);
    audit(req, 'dlq-discard', `queue:${ids.join(',')}`);
    res.json({ discarded });
  });

  // ------------------------------------------------------------ stats, alerts, live events
  app.get('/api/stats', requirePermission('channels:read'), async (_req, res) => {
    const channels = Object.fromEntries(engine.channelIds().map((id) => [id, engine.describeChannel(id).stats]));
    res.json({ at: new Date().toISOString(), channels, queues: await engine.store.queueDepths(), health: engine.health(), memory: process.memoryUsage().rss });
  });
  // Charts start from the engine's own history (10 s for an hour, 1 min for a day), then go on live.
  const historyWindow = (req: Request) => {
    if (!options.statsHistory) throw new HttpError(404, 'this engine keeps no statistics history');
    try {
      return parseWindow(typeof req.query.window === 'string' ? req.query.window : undefined, 3_600_000, options.statsHistory.maxWindowMs);
    } catch (error) {
      throw new HttpError(400, (error as Error).message, 'window');
    }
  };
  app.get('/api/stats/history', requirePermission('channels:read'), (req, res) => {
    const windowMs = historyWindow(req);
    const history = options.statsHistory!;
    const ids = [...new Set([...engine.channelIds(), ...history.channelIds()])].sort();
    const series = ids.map((id) => [id, history.series(id, windowMs)] as const);
    const first = series[0]?.[1] ?? history.series('', windowMs);
    res.json({ windowMs, resolutionMs: first.resolutionMs, from: first.from, to: first.to, channels: Object.fromEntries(series.map(([id, s]) => [id, s.points])) });
  });
  app.get('/api/channels/:id/stats/history', requirePermission('channels:read'), (req, res) => {
    const windowMs = historyWindow(req);
    const id = String(req.params.id);
    if (!engine.channelIds().includes(id) && !options.statsHistory!.channelIds().includes(id)) throw new HttpError(404, `channel "${id}" is not deployed and has no history`);
    res.json({ channelId: id, windowMs, ...options.statsHistory!.series(id, windowMs) });
  });
  app.get('/api/alerts', requirePermission('channels:read'), (_req, res) => res.json({ alerts: engine.listAlerts() }));
  app.post('/api/alerts/:id/ack', requirePermission('channels:control'), (req, res) => {
    const id = String(req.params.id);
    if (!engine.acknowledgeAlert(id)) throw new HttpError(404, `alert "${id}" not found`);
    audit(req, 'alert-ack', `alert:${id}`);
    res.json({ ok: true });
  });
  app.get('/api/events', requirePermission('channels:read'), (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const forward = (event: string) => (data: unknown) => send(event, data);
    const listeners: Array<[string, (d: unknown) => void]> = ['channel', 'connection', 'alert', 'alert-cleared'].map((e) => [e, forward(e)]);
    for (const [e, l] of listeners) engine.on(e, l);
    const tick = setInterval(() => {
      send('stats', { at: new Date().toISOString(), channels: Object.fromEntries(engine.channelIds().map((id) => [id, engine.describeChannel(id).stats])) });
    }, 2000);
    send('hello', { user: req.user!.username });
    req.on('close', () => {
      clearInterval(tick);
      for (const [e, l] of listeners) engine.off(e, l);
    });
  });

  // ------------------------------------------------------------ users, tokens, audit
  const newUser = z.object({ username: z.string(), password: z.string(), role: z.enum(roles), displayName: z.string().optional() });
  app.get('/api/users', requirePermission('users:manage'), (_req, res) => res.json({ users: security.listUsers() }));
  app.post('/api/users', requirePermission('users:manage'), (req, res) => {
    const body = parse(newUser, req.body);
    const user = security.addUser(body.username, body.password, body.role, body.displayName);
    audit(req, 'user-add', `user:${user.username}`, undefined, `role ${user.role}`);
    res.status(201).json(user);
  });
  app.put('/api/users/:username', requirePermission('users:manage'), (req, res) => {
    const body = parse(z.object({ role: z.enum(roles).optional(), password: z.string().optional(), disabled: z.boolean().optional() }), req.body);
    const username = String(req.params.username);
    if (!security.getUser(username)) throw new HttpError(404, `no user "${username}"`);
    if (body.role) security.setRole(username, body.role);
    if (body.password) security.setPassword(username, body.password);
    if (body.disabled !== undefined) security.setDisabled(username, body.disabled);
    audit(req, 'user-change', `user:${username}`, undefined, Object.keys(body).join(','));
    res.json(security.getUser(username));
  });
  app.get('/api/tokens', (req, res) => res.json({ tokens: security.listApiTokens(can(req.user!.role, 'users:manage') ? undefined : req.user!.username) }));
  app.post('/api/tokens', (req, res) => {
    const body = parse(z.object({ name: z.string().min(1).max(100), expiresInDays: z.number().int().min(1).max(3650).optional() }), req.body);
    const issued = security.issueToken(req.user!.username, 'api', body);
    audit(req, 'token-issue', `token:${issued.id}`, undefined, body.name);
    res.status(201).json(issued);
  });
  app.delete('/api/tokens/:id', (req, res) => {
    const id = parse(z.coerce.number().int().positive(), req.params.id);
    if (!security.deleteApiToken(id, can(req.user!.role, 'users:manage') ? undefined : req.user!.username)) throw new HttpError(404, `token ${id} not found`);
    audit(req, 'token-revoke', `token:${id}`);
    res.json({ ok: true });
  });
  app.get('/api/audit', requirePermission('audit:read'), (req, res) => {
    const q = parse(z.object({ username: z.string().optional(), patientId: z.string().optional(), action: z.string().optional(), before: z.coerce.number().int().optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }), req.query);
    res.json({ entries: security.auditLog({ ...q, beforeId: q.before }) });
  });

  for (const extension of options.extensions ?? []) app.use(`/api/${extension.path}`, requirePermission(extension.permission), extension.router);

  app.use('/api', (req, _res, next) => next(new HttpError(404, `no API route ${req.method} ${req.originalUrl}`)));

  if (options.consoleDir && fs.existsSync(options.consoleDir)) {
    // Bundles are named by content hash and cached; index.html is re-checked so an upgrade shows at once.
    app.use(express.static(options.consoleDir, { index: 'index.html', maxAge: '1h', setHeaders: (res, file) => {
      if (file.endsWith('.html')) res.setHeader('cache-control', 'no-cache');
    } }));
    app.get(/^\/(?!api\/).*/, (_req, res) => res.sendFile(path.join(options.consoleDir!, 'index.html')));
  }

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    let status = 500;
    let message = error instanceof Error ? error.message : String(error);
    let field: string | undefined;
    if (error instanceof HttpError) {
      status = error.status;
      field = error.field;
    } else if (error instanceof AuthError) status = 400;
    else if (error instanceof NotFoundError) status = 404;
    else if (error instanceof ChannelConfigError) status = 422;
    else if (error instanceof ZodError) {
      status = 400;
      field = error.issues[0]?.path.join('.');
      message = `${field}: ${error.issues[0]?.message}`;
    } else if ((error as any)?.type === 'entity.parse.failed') {
      status = 400;
      message = `request body is not valid JSON: ${message}`;
    } else if ((error as any)?.type === 'entity.too.large') status = 413;
    else engine.log.error(`API ${req.method} ${req.originalUrl}: ${error instanceof Error ? error.stack : message}`);
    res.status(status).json({ error: message, ...(field ? { field } : {}) });
  });
  return app;
}

function isText(contentType: string, data: Buffer): boolean {
  if (/^(text\/|application\/(json|xml|hl7|astm|x-hl7|fhir))/.test(contentType) || contentType.includes('hl7') || contentType.includes('astm')) return true;
  return !data.subarray(0, 512).includes(0);
}

export interface ApiServerOptions {
  host: string;
  port: number;
  tls?: { keyFile: string; certFile: string };
}

export async function startApiServer(app: express.Express, options: ApiServerOptions): Promise<http.Server> {
  const server = options.tls ? https.createServer({ key: fs.readFileSync(options.tls.keyFile), cert: fs.readFileSync(options.tls.certFile) }, app) : http.createServer(app);
  await listenOrExplain(server, options.port, options.host, 'api.port');
  return server;
}
