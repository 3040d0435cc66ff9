// ASTM over RS-232 with serialport: baud rate, data bits, parity, stop bits and flow control come
// from the analyser profile (LIS1-A default 9600 8N1). A port that fails or disappears is reopened.
import { SerialPort } from 'serialport';
import type { SerialSettings } from '../../../devices/analyzers/profile';
import type { LineHandler, Transport } from './types';

export class SerialTransport implements Transport {
  private port?: SerialPort;
  private stopped = false;
  private retry?: NodeJS.Timeout;
  private opens = 0;

  constructor(
    private readonly path: string,
    private readonly settings: SerialSettings,
    private readonly reopenMs = 5_000,
    private readonly onError: (error: Error) => void = () => undefined,
  ) {}

  async start(onLine: LineHandler): Promise<void> {
    this.stopped = false;
    // The first open reports its error to the caller (wrong path, no permission); later ones retry.
    await this.open(onLine, true);
  }

  private open(onLine: LineHandler, first: boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const s = this.settings;
      const port = new SerialPort({
        path: this.path,
        baudRate: s.baudRate,
        dataBits: s.dataBits,
        parity: s.parity,
        stopBits: s.stopBits,
        rtscts: s.flowControl === 'rtscts',
        xon: s.flowControl === 'xonxoff',
        xoff: s.flowControl === 'xonxoff',
        autoOpen: false,
      });
      port.open((error) => {
        if (error) {
          const e = new Error(`cannot open serial port ${this.path}: ${error.message}`);
          if (first) reject(e);
          else {
            this.onError(e);
            this.scheduleReopen(onLine);
          }
          return;
        }
        this.port = port;
        port.on('error', (err) => this.onError(err));
        port.on('close', () => {
          if (this.port === port) this.port = undefined;
          this.scheduleReopen(onLine);
        });
        onLine(port, { id: `serial-${++this.opens}`, kind: 'serial', remote: this.path });
        resolve();
      });
    });
  }

  private scheduleReopen(onLine: LineHandler): void {
    if (this.stopped) return;
    this.retry = setTimeout(() => void this.open(onLine, false).catch((e) => this.onError(e)), this.reopenMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const port = this.port;
    this.port = undefined;
    if (port?.isOpen) await new Promise<void>((resolve) => port.close(() => resolve()));
  }

  describe(): string {
    const s = this.settings;
    return `serial ${this.path} ${s.baudRate} ${s.dataBits}${s.parity[0].toUpperCase()}${s.stopBits}${s.flowControl === 'none' ? '' : ' ' + s.flowControl}`;
  }
}
