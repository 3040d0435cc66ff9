// Demo channel: anything POSTed to http://127.0.0.1:8081/ is stored, wrapped with its receipt time,
// and written as a JSON file under data/outbox/. Try:
//   curl -X POST --data-binary @test/fixtures/hl7/... http://127.0.0.1:8081/
import path from 'node:path';
import { defineChannel } from '../engine/channel/definition';

export default (settings: { httpPort: number; dataDir: string; enabled: boolean }) =>
  settings.enabled
    ? defineChannel({
        id: 'demo-http-to-file',
        name: 'Demo: HTTP in → file out',
        description: 'Stores every POSTed body and writes it to data/outbox as JSON',
        source: { connector: 'http', config: { port: settings.httpPort, host: '127.0.0.1' } },
        transformer: (message) => ({ receivedAt: message.receivedAt.toISOString(), contentType: message.contentType, text: message.text }),
        destinations: [{ name: 'outbox', connector: 'file', config: { directory: path.join(settings.dataDir, 'outbox'), extension: '.json' } }],
      })
    : undefined;
