// A transport hands the ASTM layers "lines": byte streams to one analyser (a TCP connection or an
// open serial port). The protocol code never knows which.
import type { Duplex } from 'node:stream';

export interface LineInfo {
  id: string;
  kind: 'tcp' | 'serial';
  /** Remote address:port or the serial device path. */
  remote: string;
}

export type LineHandler = (line: Duplex, info: LineInfo) => void;

export interface Transport {
  start(onLine: LineHandler): Promise<void>;
  stop(): Promise<void>;
  /** For logs and the dashboard: `tcp server 0.0.0.0:5000`, `serial /dev/ttyUSB0 9600 8N1`. */
  describe(): string;
}
