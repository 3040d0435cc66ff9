// The PostgreSQL message store, for several engine nodes sharing one database.
// - Message ids encode their receipt time (10 ms ticks since 2025-01-01, times 65,536, plus a
//   sequence), so every node computes a message's partition from its id alone, and the tables are
//   natively partitioned by id range: retention detaches and drops whole partitions.
// - Deliveries are claimed with FOR UPDATE SKIP LOCKED under a lease: only the first READY delivery
//   of each order key can be claimed, so per-key order holds across nodes, and a dead node's leases
//   expire so a survivor takes its in-flight deliveries over.
// - Appends are group-committed: concurrent messages are written by one transaction with one
//   multi-row INSERT per table.
import { Pool, type PoolClient } from 'pg';
import { foldVietnamese } from '../text/vietnamese';
import type {
  DeadLetter,
  MessageDetail,
  MessageQuery,
  MessageStatus,
  MessageStore,
  NewDelivery,
  NewMessage,
  QueueDepth,
  QueuedDelivery,
  StageContent,
  StoreHealth,
  StoredMessage,
} from './types';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Name of this engine node: owner of its delivery leases. */
  nodeId: string;
  partitionMs?: number;
  retentionMs?: number;
  /** How long a claimed delivery stays leased before another node may take it. */
  leaseMs?: number;
  poolSize?: number;
}

const EPOCH_MS = Date.UTC(2025, 0, 1);
const TICK_MS = 10;
const PER_TICK = 65_536;

function tickOf(ms: number): number {
  return Math.floor((ms - EPOCH_MS) / TICK_MS);
}

function idFloorAt(ms: number): number {
  return tickOf(ms) * PER_TICK;
}

const MESSAGE_COLUMNS =
  'id, channel, received_at, status, content_type, size, origin, patient_id, accession, control_id, message_type, specimen_id, device_id, meta, error, generation';

interface PendingAppend {
  message: NewMessage;
  resolve: (id: number) => void;
  reject: (error: Error) => void;
}

export class PostgresMessageStore implements MessageStore {
  readonly kind = 'postgres';
  readonly pool: Pool;
  /**
   * Delivery outcomes and leases commit without waiting for the WAL flush: losing the last few on a
   * database crash only means a redelivery, which the idempotency key absorbs. Appends, which
   * sources acknowledge, always wait for the flush.
   */
  private readonly outcomePool: Pool;
  private readonly partitionMs: number;
  private readonly retentionMs: number;
  private readonly leaseMs: number;
  private readonly knownPartitions = new Set<number>();
  private pending: PendingAppend[] = [];
  private flushing = false;
  private lastError: string | undefined;
  private closed = false;
  private ready: Promise<void>;

  constructor(private readonly options: PostgresStoreOptions) {
    this.partitionMs = options.partitionMs ?? 86_400_000;
    if (this.partitionMs % TICK_MS !== 0) throw new Error('partitionMs must be a multiple of 10 ms');
    this.retentionMs = options.retentionMs ?? 30 * 86_400_000;
    this.leaseMs = options.leaseMs ?? 120_000;
    this.pool = new Pool({ connectionString: options.connectionString, max: options.poolSize ?? 8 });
    this.outcomePool = new Pool({ connectionString: options.connectionString, max: options.poolSize ?? 8, options: '-c synchronous_commit=off' });
    for (const pool of [this.pool, this.outcomePool]) {
      pool.on('error', (error) => {
        this.lastError = `PostgreSQL connection error: ${error.message}`;
      });
    }
    this.ready = this.migrate();
    this.ready.catch((error) => (this.lastError = `PostgreSQL schema setup failed: ${error.message}`));
  }

  /** Resolves once the schema exists (constructor work is asynchronous). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      // Several nodes may start at once: serialise schema creation.
      await client.query('SELECT pg_advisory_lock(727274001)');
      await client.query(`
        CREATE SEQUENCE IF NOT EXISTS hb_message_seq;
        CREATE TABLE IF NOT EXISTS hb_messages (
          id bigint NOT NULL, channel text NOT NULL, received_at timestamptz NOT NULL, status text NOT NULL,
          content_type text NOT NULL, size integer NOT NULL, origin jsonb NOT NULL, patient_id text, accession text,
          control_id text, message_type text, specimen_id text, device_id text, meta jsonb NOT NULL, error text,
          generation integer NOT NULL DEFAULT 0, search tsvector, PRIMARY KEY (id)) PARTITION BY RANGE (id);
        CREATE INDEX IF NOT EXISTS hb_messages_channel ON hb_messages (channel, id);
        CREATE INDEX IF NOT EXISTS hb_messages_status ON hb_messages (status, id);
        CREATE INDEX IF NOT EXISTS hb_messages_patient ON hb_messages (patient_id) WHERE patient_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS hb_messages_accession ON hb_messages (accession) WHERE accession IS NOT NULL;
        CREATE INDEX IF NOT EXISTS hb_messages_control ON hb_messages (control_id) WHERE control_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS hb_messages_specimen ON hb_messages (specimen_id) WHERE specimen_id IS NOT NULL;
        CREATE INDEX IF NOT EXISTS hb_messages_search ON hb_messages USING gin (search);
        CREATE TABLE IF NOT EXISTS hb_contents (message_id bigint NOT NULL, stage text NOT NULL, content_type text NOT NULL,
          data bytea NOT NULL, added_at timestamptz NOT NULL DEFAULT clock_timestamp()) PARTITION BY RANGE (message_id);
        CREATE INDEX IF NOT EXISTS hb_contents_message ON hb_contents (message_id);
        CREATE TABLE IF NOT EXISTS hb_destinations (message_id bigint NOT NULL, destination text NOT NULL, status text NOT NULL,
          attempts integer NOT NULL DEFAULT 0, last_error text, updated_at timestamptz NOT NULL,
          PRIMARY KEY (message_id, destination)) PARTITION BY RANGE (message_id);
        CREATE TABLE IF NOT EXISTS hb_attempts (message_id bigint NOT NULL, destination text NOT NULL, attempt integer NOT NULL,
          at timestamptz NOT NULL, ok boolean NOT NULL, response text, error text, duration_ms integer NOT NULL, node text)
          PARTITION BY RANGE (message_id);
        CREATE INDEX IF NOT EXISTS hb_attempts_message ON hb_attempts (message_id);
        CREATE TABLE IF NOT EXISTS hb_partitions (p bigint PRIMARY KEY, first_id bigint NOT NULL, end_id bigint NOT NULL);
        CREATE TABLE IF NOT EXISTS hb_queue (
          id bigserial PRIMARY KEY, message_id bigint NOT NULL, generation integer NOT NULL, channel text NOT NULL,
          destination text NOT NULL, order_key text, attempts integer NOT NULL DEFAULT 0, max_attempts integer NOT NULL,
          next_at bigint NOT NULL, state text NOT NULL, content bytea NOT NULL, content_type text NOT NULL,
          correlation jsonb NOT NULL, last_error text, died_at bigint, lease_owner text, lease_until bigint);
        CREATE INDEX IF NOT EXISTS hb_queue_ready ON hb_queue (channel, destination, state, id);
        CREATE INDEX IF NOT EXISTS hb_queue_key ON hb_queue (channel, destination, order_key, id) WHERE state = 'READY';
        CREATE INDEX IF NOT EXISTS hb_queue_message ON hb_queue (message_id);
      `);
      await client.query('SELECT pg_advisory_unlock(727274001)');
      const rows = await client.query('SELECT p FROM hb_partitions');
      for (const r of rows.rows) this.knownPartitions.add(Number(r.p));
    } finally {
      client.release();
    }
  }

  // ---------------------------------------------------------------- ids and partitions

  partitionOfId(id: number): number {
    return Math.floor((Math.floor(id / PER_TICK) * TICK_MS) / this.partitionMs);
  }

  private partitionBounds(p: number): { from: number; to: number } {
    return { from: idFloorAt(EPOCH_MS + p * this.partitionMs), to: idFloorAt(EPOCH_MS + (p + 1) * this.partitionMs) };
  }

  private async ensurePartition(client: PoolClient, p: number): Promise<void> {
    if (this.knownPartitions.has(p)) return;
    const { from, to } = this.partitionBounds(p);
    // Another node may create the same partition at the same moment: serialise on an advisory lock.
    await client.query('SELECT pg_advisory_xact_lock(727274002)');
    for (const table of ['hb_messages', 'hb_contents', 'hb_destinations', 'hb_attempts']) {
      await client.query(`CREATE TABLE IF NOT EXISTS ${table}_p${p} PARTITION OF ${table} FOR VALUES FROM (${from}) TO (${to})`);
    }
    await client.query('INSERT INTO hb_partitions (p, first_id, end_id) VALUES ($1, $2, $3) ON CONFLICT (p) DO NOTHING', [p, from, to]);
    this.knownPartitions.add(p);
  }

  // ---------------------------------------------------------------- appends (group commit)

  append(message: NewMessage): Promise<number> {
    if (this.closed) return Promise.reject(new Error('message store is closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ message, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      await this.ready;
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, 500);
        try {
          const ids = await this.writeBatch(batch.map((b) => b.message));
          this.lastError = undefined;
          batch.forEach((b, i) => b.resolve(ids[i]));
        } catch (error) {
          this.lastError = `store write failed: ${(error as Error).message}`;
          const failure = new Error(this.lastError);
          batch.forEach((b) => b.reject(failure));
        }
      }
    } catch (error) {
      const failure = new Error(`store unavailable: ${(error as Error).message}`);
      this.lastError = failure.message;
      for (const b of this.pending.splice(0)) b.reject(failure);
    } finally {
      this.flushing = false;
    }
  }

  private async writeBatch(messages: NewMessage[]): Promise<number[]> {
    const client = await this.pool.connect();
    let knownBefore: Set<number> | undefined;
    try {
      await client.query('BEGIN');
      const seqs = await client.query('SELECT nextval($1::regclass) AS s FROM generate_series(1, $2)', ['hb_message_seq', messages.length]);
      const now = Date.now();
      const ids = seqs.rows.map((r) => idFloorAt(now) + (Number(r.s) % PER_TICK));
      knownBefore = new Set(this.knownPartitions);
      await this.ensurePartition(client, this.partitionOfId(ids[0]));
      const col = <T>(f: (m: NewMessage, i: number) => T) => messages.map(f);
      await client.query(
        `INSERT INTO hb_messages (${MESSAGE_COLUMNS}, search)
         SELECT u.id, u.channel, u.received_at, u.status, u.content_type, u.size, u.origin::jsonb, u.patient_id, u.accession, u.control_id,
                u.message_type, u.specimen_id, u.device_id, u.meta::jsonb, u.error, 0, to_tsvector('simple', u.search)
         FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::int[], $7::text[], $8::text[], $9::text[], $10::text[],
                     $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
           AS u(id, channel, received_at, status, content_type, size, origin, patient_id, accession, control_id, message_type, specimen_id, device_id, meta, error, search)`,
        [
          ids,
          col((m) => m.channelId),
          col((m) => m.receivedAt.toISOString()),
          col((m) => m.status),
          col((m) => m.contentType),
          col((m) => m.size),
          col((m) => JSON.stringify(m.origin)),
          col((m) => m.correlation.patientId ?? null),
          col((m) => m.correlation.accession ?? null),
          col((m) => m.correlation.controlId ?? null),
          col((m) => m.correlation.messageType ?? null),
          col((m) => m.correlation.specimenId ?? null),
          col((m) => m.correlation.deviceId ?? null),
          col((m) => JSON.stringify(m.meta)),
          col((m) => m.error ?? null),
          col((m) => searchText(m)),
        ],
      );
      const contentRows = messages.flatMap((m, i) => m.contents.map((c) => ({ id: ids[i], c })));
      if (contentRows.length) {
        await client.query('INSERT INTO hb_contents (message_id, stage, content_type, data) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[])', [
          contentRows.map((r) => r.id),
          contentRows.map((r) => r.c.stage),
          contentRows.map((r) => r.c.contentType),
          contentRows.map((r) => r.c.data),
        ]);
      }
      const deliveryRows = messages.flatMap((m, i) => m.deliveries.map((d) => ({ id: ids[i], m, d })));
      await this.insertDeliveries(client, deliveryRows.map((r) => ({ messageId: r.id, generation: 0, channelId: r.m.channelId, correlation: r.m.correlation, delivery: r.d })));
      await client.query('COMMIT');
      return ids;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (knownBefore) {
        this.knownPartitions.clear();
        knownBefore.forEach((p) => this.knownPartitions.add(p));
      }
      throw error;
    } finally {
      client.release();
    }
  }

  private async insertDeliveries(
    client: PoolClient,
    rows: Array<{ messageId: number; generation: number; channelId: string; correlation: object; delivery: NewDelivery }>,
  ): Promise<void> {
    if (rows.length === 0) return;
    const now = Date.now();
    await client.query(
      `INSERT INTO hb_destinations (message_id, destination, status, attempts, last_error, updated_at)
       SELECT u.m, u.d, u.s, 0, u.e, now() FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) AS u(m, d, s, e)
       ON CONFLICT (message_id, destination) DO UPDATE SET status = excluded.status, attempts = 0, last_error = excluded.last_error, updated_at = excluded.updated_at`,
      [rows.map((r) => r.messageId), rows.map((r) => r.delivery.destination), rows.map((r) => r.delivery.status), rows.map((r) => r.delivery.reason ?? null)],
    );
    const queued = rows.filter((r) => r.delivery.status === 'QUEUED');
    if (queued.length === 0) return;
    await client.query(
      `INSERT INTO hb_queue (message_id, generation, channel, destination, order_key, attempts, max_attempts, next_at, state, content, content_type, correlation)
       SELECT u.m, u.g, u.c, u.d, u.k, 0, u.x, $9, 'READY', u.b, u.t, u.j::jsonb
       FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bytea[], $8::text[], $10::text[]) AS u(m, g, c, d, k, x, b, t, j)`,
      [
        queued.map((r) => r.messageId),
        queued.map((r) => r.generation),
        queued.map((r) => r.channelId),
        queued.map((r) => r.delivery.destination),
        queued.map((r) => r.delivery.orderKey),
        queued.map((r) => r.delivery.maxAttempts),
        queued.map((r) => r.delivery.content),
        queued.map((r) => r.delivery.contentType),
        now,
        queued.map((r) => JSON.stringify(r.correlation)),
      ],
    );
  }

  // ---------------------------------------------------------------- reading messages

  private rowToMessage(row: any): StoredMessage {
    const correlation: Record<string, string> = {};
    if (row.patient_id) correlation.patientId = row.patient_id;
    if (row.accession) correlation.accession = row.accession;
    if (row.control_id) correlation.controlId = row.control_id;
    if (row.message_type) correlation.messageType = row.message_type;
    if (row.specimen_id) correlation.specimenId = row.specimen_id;
    if (row.device_id) correlation.deviceId = row.device_id;
    return {
      id: Number(row.id),
      channelId: row.channel,
      receivedAt: new Date(row.received_at).toISOString(),
      status: row.status,
      contentType: row.content_type,
      size: row.size,
      origin: row.origin,
      correlation,
      meta: row.meta,
      error: row.error,
      generation: row.generation,
    };
  }

  async get(messageId: number): Promise<MessageDetail | undefined> {
    await this.ready;
    const message = await this.pool.query(`SELECT ${MESSAGE_COLUMNS} FROM hb_messages WHERE id = $1`, [messageId]);
    if (message.rowCount === 0) return undefined;
    const [contents, destinations, attempts] = await Promise.all([
      this.pool.query('SELECT stage, content_type, data FROM hb_contents WHERE message_id = $1 ORDER BY added_at', [messageId]),
      this.pool.query('SELECT destination, status, attempts, last_error, updated_at FROM hb_destinations WHERE message_id = $1 ORDER BY destination', [messageId]),
      this.pool.query('SELECT destination, attempt, at, ok, response, error, duration_ms FROM hb_attempts WHERE message_id = $1 ORDER BY at, attempt', [messageId]),
    ]);
    return {
      ...this.rowToMessage(message.rows[0]),
      contents: contents.rows.map((r) => ({ stage: r.stage, contentType: r.content_type, data: r.data })),
      destinations: destinations.rows.map((r) => ({ destination: r.destination, status: r.status, attempts: r.attempts, lastError: r.last_error, updatedAt: new Date(r.updated_at).toISOString() })),
      attempts: attempts.rows.map((r) => ({ destination: r.destination, attempt: r.attempt, at: new Date(r.at).toISOString(), ok: r.ok, response: r.response, error: r.error, durationMs: r.duration_ms })),
    };
  }

  async rawContent(messageId: number): Promise<StageContent | undefined> {
    const res = await this.pool.query(`SELECT stage, content_type, data FROM hb_contents WHERE message_id = $1 AND stage = 'raw' LIMIT 1`, [messageId]);
    const row = res.rows[0];
    return row ? { stage: row.stage, contentType: row.content_type, data: row.data } : undefined;
  }

  async search(query: MessageQuery): Promise<StoredMessage[]> {
    await this.ready;
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 1000);
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      args.push(value);
      where.push(sql.replace('?', `$${args.length}`));
    };
    if (query.channelId) add('channel = ?', query.channelId);
    if (query.status) add('status = ?', query.status);
    if (query.patientId) add('patient_id = ?', query.patientId);
    if (query.accession) add('accession = ?', query.accession);
    if (query.controlId) add('control_id = ?', query.controlId);
    if (query.specimenId) add('specimen_id = ?', query.specimenId);
    // Time bounds become id bounds, so PostgreSQL prunes partitions.
    if (query.from) add('id >= ?', idFloorAt(query.from.getTime()));
    if (query.to) add('id < ?', idFloorAt(query.to.getTime() + TICK_MS));
    if (query.beforeId !== undefined) add('id < ?', query.beforeId);
    const ts = query.text ? toTsQuery(query.text) : undefined;
    if (ts) add(`search @@ to_tsquery('simple', ?)`, ts);
    args.push(limit);
    const res = await this.pool.query(`SELECT ${MESSAGE_COLUMNS} FROM hb_messages ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT $${args.length}`, args);
    return res.rows.map((r) => this.rowToMessage(r));
  }

  async addContent(messageId: number, content: StageContent): Promise<void> {
    await this.pool.query('INSERT INTO hb_contents (message_id, stage, content_type, data) VALUES ($1, $2, $3, $4)', [messageId, content.stage, content.contentType, content.data]);
  }

  async replaceContents(messageId: number, contents: StageContent[]): Promise<void> {
    await this.transaction(async (client) => {
      await client.query(`DELETE FROM hb_contents WHERE message_id = $1 AND stage <> 'raw'`, [messageId]);
      for (const c of contents) if (c.stage !== 'raw') await client.query('INSERT INTO hb_contents (message_id, stage, content_type, data) VALUES ($1, $2, $3, $4)', [messageId, c.stage, c.contentType, c.data]);
    });
  }

  async requeue(messageId: number, deliveries: NewDelivery[], status: MessageStatus, error?: string): Promise<number> {
    return this.transaction(async (client) => {
      const res = await client.query(`SELECT ${MESSAGE_COLUMNS} FROM hb_messages WHERE id = $1 FOR UPDATE`, [messageId]);
      if (res.rowCount === 0) throw new Error(`message ${messageId} not found (or its partition was dropped by retention)`);
      const stored = this.rowToMessage(res.rows[0]);
      const generation = stored.generation + 1;
      await client.query('DELETE FROM hb_queue WHERE message_id = $1', [messageId]);
      await client.query('UPDATE hb_messages SET status = $1, error = $2, generation = $3 WHERE id = $4', [status, error ?? null, generation, messageId]);
      await this.insertDeliveries(client, deliveries.map((delivery) => ({ messageId, generation, channelId: stored.channelId, correlation: stored.correlation, delivery })));
      return generation;
    });
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    await this.ready;
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  // ---------------------------------------------------------------- queue

  private rowToDelivery(row: any): QueuedDelivery {
    return {
      queueId: Number(row.id),
      messageId: Number(row.message_id),
      channelId: row.channel,
      destination: row.destination,
      orderKey: row.order_key,
      idempotencyKey: `${row.message_id}.${row.generation}.${row.destination}`,
      attempts: row.attempts,
      maxAttempts: row.max_attempts,
      nextAttemptAt: Number(row.next_at),
      content: row.content,
      contentType: row.content_type,
      correlation: row.correlation,
    };
  }

  async readyDeliveries(channelId: string, destination: string, afterQueueId: number, limit: number): Promise<QueuedDelivery[]> {
    await this.ready;
    const res = await this.pool.query(`SELECT * FROM hb_queue WHERE channel = $1 AND destination = $2 AND state = 'READY' AND id > $3 ORDER BY id LIMIT $4`, [channelId, destination, afterQueueId, limit]);
    return res.rows.map((r) => this.rowToDelivery(r));
  }

  /**
   * Leases up to `limit` deliveries this node may send now: due, not leased by a live node, and the
   * first READY delivery of their order key (so a key is never sent out of order, by any node).
   */
  async claimDeliveries(channelId: string, destination: string, limit: number): Promise<QueuedDelivery[]> {
    await this.ready;
    const now = Date.now();
    const res = await this.outcomePool.query(
      `WITH candidates AS (
         SELECT q.id FROM hb_queue q
         WHERE q.channel = $1 AND q.destination = $2 AND q.state = 'READY' AND q.next_at <= $3
           AND (q.lease_until IS NULL OR q.lease_until < $3)
           AND (q.order_key IS NULL OR NOT EXISTS (
             SELECT 1 FROM hb_queue h WHERE h.channel = q.channel AND h.destination = q.destination
               AND h.order_key = q.order_key AND h.state = 'READY' AND h.id < q.id))
         ORDER BY q.id LIMIT $4 FOR UPDATE SKIP LOCKED)
       UPDATE hb_queue q SET lease_owner = $5, lease_until = $6 FROM candidates c WHERE q.id = c.id RETURNING q.*`,
      [channelId, destination, now, limit, this.options.nodeId, now + this.leaseMs],
    );
    return res.rows.map((r) => this.rowToDelivery(r)).sort((a, b) => a.queueId - b.queueId);
  }

  async nextDueAt(channelId: string, destination: string): Promise<number | null> {
    const res = await this.pool.query(`SELECT MIN(GREATEST(next_at, COALESCE(lease_until, 0))) AS next FROM hb_queue WHERE channel = $1 AND destination = $2 AND state = 'READY'`, [channelId, destination]);
    return res.rows[0]?.next === null || res.rows[0]?.next === undefined ? null : Number(res.rows[0].next);
  }

  // One statement per outcome (one round trip, autocommitted): data-modifying CTEs see the snapshot
  // from before the statement, hence "another queue row than this one" in the status computation.
  async recordSuccess(delivery: QueuedDelivery, outcome: { response?: string; durationMs: number; keepContent: boolean }): Promise<void> {
    await this.ready;
    const attempt = delivery.attempts + 1;
    await this.outcomePool.query(
      `WITH gone AS (DELETE FROM hb_queue WHERE id = $1 RETURNING message_id),
       dest AS (UPDATE hb_destinations SET status = 'SENT', attempts = $4, last_error = NULL, updated_at = now()
                WHERE message_id = $2 AND destination = $3 AND EXISTS (SELECT 1 FROM gone)),
       att AS (INSERT INTO hb_attempts (message_id, destination, attempt, at, ok, response, error, duration_ms, node)
               SELECT $2, $3, $4, now(), true, $5, NULL, $6, $7 FROM gone),
       kept AS (INSERT INTO hb_contents (message_id, stage, content_type, data)
                SELECT $2, 'sent:' || $3, $9, $10 FROM gone WHERE $8)
       UPDATE hb_messages SET status = CASE
           WHEN EXISTS (SELECT 1 FROM hb_queue WHERE message_id = $2 AND id <> $1 AND state = 'DEAD') THEN 'DEAD'
           WHEN EXISTS (SELECT 1 FROM hb_queue WHERE message_id = $2 AND id <> $1) THEN 'QUEUED' ELSE 'SENT' END
       WHERE id = $2 AND status NOT IN ('ERROR', 'FILTERED') AND EXISTS (SELECT 1 FROM gone)`,
      [delivery.queueId, delivery.messageId, delivery.destination, attempt, outcome.response ?? null, outcome.durationMs, this.options.nodeId, outcome.keepContent, delivery.contentType, delivery.content],
    );
  }

  async recordFailure(delivery: QueuedDelivery, outcome: { error: string; durationMs: number; retryAt: number | null; response?: string }): Promise<void> {
    await this.ready;
    const attempt = delivery.attempts + 1;
    const dead = outcome.retryAt === null;
    await this.outcomePool.query(
      `WITH q AS (UPDATE hb_queue SET attempts = $4, last_error = $5, lease_owner = NULL, lease_until = NULL,
                    state = CASE WHEN $6 THEN 'DEAD' ELSE state END, died_at = CASE WHEN $6 THEN $7::bigint ELSE died_at END,
                    next_at = COALESCE($8::bigint, next_at)
                  WHERE id = $1 RETURNING id),
       dest AS (UPDATE hb_destinations SET status = CASE WHEN $6 THEN 'DEAD' ELSE 'QUEUED' END, attempts = $4, last_error = $5, updated_at = now()
                WHERE message_id = $2 AND destination = $3 AND EXISTS (SELECT 1 FROM q)),
       att AS (INSERT INTO hb_attempts (message_id, destination, attempt, at, ok, response, error, duration_ms, node)
               SELECT $2, $3, $4, now(), false, $9, $5, $10, $11 FROM q)
       UPDATE hb_messages SET status = 'DEAD' WHERE $6 AND id = $2 AND status NOT IN ('ERROR', 'FILTERED') AND EXISTS (SELECT 1 FROM q)`,
      [delivery.queueId, delivery.messageId, delivery.destination, attempt, outcome.error, dead, Date.now(), outcome.retryAt, outcome.response ?? null, outcome.durationMs, this.options.nodeId],
    );
  }

  private async refreshMessageStatus(client: PoolClient, messageId: number): Promise<void> {
    await client.query(
      `UPDATE hb_messages SET status = CASE
         WHEN EXISTS (SELECT 1 FROM hb_queue WHERE message_id = $1 AND state = 'DEAD') THEN 'DEAD'
         WHEN EXISTS (SELECT 1 FROM hb_queue WHERE message_id = $1) THEN 'QUEUED' ELSE 'SENT' END
       WHERE id = $1 AND status NOT IN ('ERROR', 'FILTERED')`,
      [messageId],
    );
  }

  async deadLetters(options: { channelId?: string; limit?: number; beforeQueueId?: number }): Promise<DeadLetter[]> {
    const res = await this.pool.query(
      `SELECT id, message_id, channel, destination, attempts, last_error, died_at, correlation FROM hb_queue
       WHERE state = 'DEAD' AND ($1::text IS NULL OR channel = $1) AND ($2::bigint IS NULL OR id < $2) ORDER BY id DESC LIMIT $3`,
      [options.channelId ?? null, options.beforeQueueId ?? null, Math.min(options.limit ?? 100, 1000)],
    );
    return res.rows.map((r) => ({
      queueId: Number(r.id),
      messageId: Number(r.message_id),
      channelId: r.channel,
      destination: r.destination,
      attempts: r.attempts,
      lastError: r.last_error,
      diedAt: new Date(Number(r.died_at)).toISOString(),
      correlation: r.correlation,
    }));
  }

  async replayDead(queueIds: number[]): Promise<number> {
    return this.transaction(async (client) => {
      const res = await client.query(`UPDATE hb_queue SET state = 'READY', attempts = 0, next_at = $2, died_at = NULL WHERE id = ANY($1::bigint[]) AND state = 'DEAD' RETURNING message_id, destination`, [queueIds, Date.now()]);
      for (const row of res.rows) {
        await client.query(`UPDATE hb_destinations SET status = 'QUEUED', attempts = 0, updated_at = now() WHERE message_id = $1 AND destination = $2`, [row.message_id, row.destination]);
        await this.refreshMessageStatus(client, Number(row.message_id));
      }
      return res.rowCount ?? 0;
    });
  }

  async discardDead(queueIds: number[]): Promise<number> {
    return this.transaction(async (client) => {
      const res = await client.query(`DELETE FROM hb_queue WHERE id = ANY($1::bigint[]) AND state = 'DEAD' RETURNING message_id, destination`, [queueIds]);
      for (const row of res.rows) {
        await client.query(`UPDATE hb_destinations SET status = 'DISCARDED', updated_at = now() WHERE message_id = $1 AND destination = $2`, [row.message_id, row.destination]);
        await this.refreshMessageStatus(client, Number(row.message_id));
      }
      return res.rowCount ?? 0;
    });
  }

  async queueDepths(): Promise<QueueDepth[]> {
    const res = await this.pool.query(
      `SELECT q.channel, q.destination, COUNT(*) FILTER (WHERE state = 'READY') AS queued, COUNT(*) FILTER (WHERE state = 'DEAD') AS dead,
              MIN(message_id) FILTER (WHERE state = 'READY') AS oldest FROM hb_queue q GROUP BY q.channel, q.destination`,
    );
    const out: QueueDepth[] = [];
    for (const r of res.rows) {
      let oldestQueuedAt: string | null = null;
      if (r.oldest !== null) {
        const m = await this.pool.query('SELECT received_at FROM hb_messages WHERE id = $1', [r.oldest]);
        oldestQueuedAt = m.rows[0] ? new Date(m.rows[0].received_at).toISOString() : null;
      }
      out.push({ channelId: r.channel, destination: r.destination, queued: Number(r.queued), dead: Number(r.dead), oldestQueuedAt });
    }
    return out;
  }

  // ---------------------------------------------------------------- retention, leases, health

  async applyRetention(now = new Date()): Promise<{ dropped: string[]; kept: string[] }> {
    await this.ready;
    const dropped: string[] = [];
    const kept: string[] = [];
    const cutoff = now.getTime() - this.retentionMs;
    const current = Math.floor((now.getTime() - EPOCH_MS) / this.partitionMs);
    const partitions = await this.pool.query('SELECT p, first_id, end_id FROM hb_partitions ORDER BY p');
    for (const row of partitions.rows) {
      const p = Number(row.p);
      if (p >= current || EPOCH_MS + (p + 1) * this.partitionMs > cutoff) continue;
      const label = new Date(EPOCH_MS + p * this.partitionMs).toISOString();
      const pending = await this.pool.query('SELECT 1 FROM hb_queue WHERE message_id >= $1 AND message_id < $2 LIMIT 1', [row.first_id, row.end_id]);
      if (pending.rowCount) {
        kept.push(label);
        continue;
      }
      await this.transaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(727274002)');
        for (const table of ['hb_messages', 'hb_contents', 'hb_destinations', 'hb_attempts']) await client.query(`DROP TABLE IF EXISTS ${table}_p${p}`);
        await client.query('DELETE FROM hb_partitions WHERE p = $1', [p]);
      });
      this.knownPartitions.delete(p);
      dropped.push(label);
    }
    return { dropped, kept };
  }

  /**
   * A named lease for a singleton listener (serial port, DICOM AE on a fixed address, poller): a
   * session-level advisory lock held on its own connection. It is released when this node stops or
   * dies (PostgreSQL ends the session), so a survivor's next attempt acquires it.
   */
  async tryAcquireLease(name: string): Promise<{ release(): Promise<void>; lost: Promise<string> } | undefined> {
    await this.ready;
    const client = await this.pool.connect();
    const res = await client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [`hisbridge:${name}`]);
    if (!res.rows[0].ok) {
      client.release();
      return undefined;
    }
    let released = false;
    const lost = new Promise<string>((resolve) => client.once('error', (e) => !released && resolve(e.message)));
    return {
      lost,
      release: async () => {
        if (released) return;
        released = true;
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`hisbridge:${name}`]).catch(() => undefined);
        client.release();
      },
    };
  }

  health(): StoreHealth {
    if (this.closed) return { ok: false, reason: 'store closed' };
    return this.lastError ? { ok: false, reason: this.lastError } : { ok: true };
  }

  async backup(): Promise<void> {
    throw new Error('back up the PostgreSQL store with pg_dump (see docs/operations.md: hisbridge backup)');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.pending.length > 0 || this.flushing) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    await Promise.all([this.pool.end(), this.outcomePool.end()]);
  }
}

function searchText(message: NewMessage): string {
  const parts = [message.channelId, ...Object.values(message.correlation), ...Object.values(message.meta)];
  if (message.error) parts.push(message.error);
  return foldVietnamese(parts.filter(Boolean).join(' '));
}

function toTsQuery(text: string): string | undefined {
  const words = foldVietnamese(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((w) => `${w.toLowerCase()}:*`);
  return words.length ? words.join(' & ') : undefined;
}
