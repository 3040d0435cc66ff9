// Logging: JSON lines to size-rotated files (for log shippers) and a readable console.
// Every log line about a message carries its correlation id (`messageId`) so one message's path
// through the engine can be followed across sources, queues and destinations.
import fs from 'node:fs';
import path from 'node:path';
import winston from 'winston';

export type { Logger } from 'winston';

export interface LogOptions {
  level?: string;
  /** Folder for rotating JSON log files; omit to log to the console only. */
  dir?: string;
  console?: boolean;
}

export function createLogger(options: LogOptions = {}): winston.Logger {
  const transports: winston.transport[] = [];
  if (options.console !== false) {
    transports.push(
      new winston.transports.Console({
        format: winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, ...rest }) => {
            const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
            return `${timestamp} ${level.padEnd(5)} ${message}${extra}`;
          }),
        ),
      }),
    );
  }
  if (options.dir) {
    fs.mkdirSync(options.dir, { recursive: true });
    transports.push(
      new winston.transports.File({
        filename: path.join(options.dir, 'hisbridge.log'),
        format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
        maxsize: 20 * 1024 * 1024,
        maxFiles: 10,
        tailable: true,
      }),
    );
  }
  if (transports.length === 0) transports.push(new winston.transports.Console({ silent: true }));
  return winston.createLogger({ level: options.level ?? process.env.LOG_LEVEL ?? 'info', transports });
}
