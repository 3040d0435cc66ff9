// Binding a listener with an error an operator can act on: a port already taken names the port and
// the setting that chose it, instead of a bare EADDRINUSE stack trace.
import type { Server } from 'node:net';

export class PortInUseError extends Error {
  constructor(readonly port: number, readonly host: string, readonly setting: string) {
    super(`port ${port} on ${host} is already in use (setting: ${setting}); stop the other program or choose another port`);
    this.name = 'PortInUseError';
  }
}

export function listenOrExplain(server: Server, port: number, host: string, setting: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE') reject(new PortInUseError(port, host, setting));
      else if (error.code === 'EACCES') reject(new Error(`no permission to listen on ${host}:${port} (setting: ${setting}); ports below 1024 need privileges`));
      else reject(new Error(`cannot listen on ${host}:${port} (setting: ${setting}): ${error.message}`));
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}
