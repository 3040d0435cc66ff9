// A SourceContext for connector tests: hands each received message to a function the test controls
// (record it, store it in SQLite, hold it to check the acknowledgement waits…).
import winston from 'winston';
import type { ConnectionStatus, InboundMessage, ReceiptResult, SourceContext } from '../../engine/connectors/types';

export const quietLog = winston.createLogger({ level: 'error', transports: [new winston.transports.Console({ silent: true })] });

export interface TestContext extends SourceContext {
  received: InboundMessage[];
  connections: Map<string, ConnectionStatus>;
}

export function testContext(
  receive: (m: InboundMessage) => Promise<ReceiptResult> | ReceiptResult = () => ({ status: 'accepted', messageId: 0 }),
  options: { dataDir?: string; certsDir?: string; channelId?: string } = {},
): TestContext {
  const received: InboundMessage[] = [];
  const connections = new Map<string, ConnectionStatus>();
  let id = 0;
  return {
    channelId: options.channelId ?? 'test-iomt',
    log: quietLog,
    dataDir: options.dataDir ?? '/nonexistent',
    certsDir: options.certsDir ?? '/nonexistent',
    lookup: () => undefined,
    received,
    connections,
    async receive(m) {
      received.push(m);
      const r = await receive(m);
      return r.status === 'accepted' && r.messageId === 0 ? { status: 'accepted', messageId: ++id } : r;
    },
    reportConnection(status) {
      connections.set(status.id, { ...status, since: status.since ?? new Date().toISOString() });
    },
  };
}
