// `hisbridge iomt …` verbs: decode a capture, score NEWS2, print the Mosquitto settings.
import assert from 'node:assert/strict';
import path from 'node:path';
import { iomtCli } from '../../iomt/cli';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = process.stdout.write.bind(process.stdout);
  const e = process.stderr.write.bind(process.stderr);
  (process.stdout as { write: unknown }).write = (s: string) => (out.push(String(s)), true);
  (process.stderr as { write: unknown }).write = (s: string) => (err.push(String(s)), true);
  try {
    return { code: await fn(), out: out.join(''), err: err.join('') };
  } finally {
    (process.stdout as { write: unknown }).write = o;
    (process.stderr as { write: unknown }).write = e;
  }
}

describe('iomt/cli', () => {
  it('decode prints canonical observations of an HL7 capture', async () => {
    const r = await capture(() => iomtCli.commands.decode.run([path.join(__dirname, '../fixtures/iomt/pcd01-philips.hl7')]));
    assert.equal(r.code, 0, r.err);
    const [m] = JSON.parse(r.out);
    assert.equal(m.deviceId, 'EUI64:0009FBFFFF9B42B3');
    assert.equal(m.observations[0].codings[0].code, '8867-4');
  });

  it('decode exits 1 with the reason for an unreadable file', async () => {
    const r = await capture(() => iomtCli.commands.decode.run([path.join(__dirname, '../fixtures/iomt/pcd01-philips.hl7'), '--content-type', 'application/json', '--topic', 'hospital/a/ward/b/bed/c/device/d/vitals']));
    assert.equal(r.code, 1);
    assert.match(r.err, /refused: invalid JSON/);
  });

  it('news2 scores a set of observations', async () => {
    const r = await capture(() => iomtCli.commands.news2.run(['--rr', '22', '--spo2', '93', '--sbp', '105', '--pulse', '115', '--temp', '38.4', '--oxygen']));
    assert.equal(r.code, 0);
    const res = JSON.parse(r.out);
    assert.deepEqual([res.total, res.risk], [10, 'high']);
    assert.equal((await capture(() => iomtCli.commands.news2.run(['--rr', 'x']))).code, 2);
  });

  it('mosquitto-conf prints the settings that keep QoS 1 messages', async () => {
    const r = await capture(() => iomtCli.commands['mosquitto-conf'].run(['--port', '1883', '--dir', '/var/lib/mosquitto']));
    assert.match(r.out, /max_queued_messages 0/);
    assert.match(r.out, /persistence true/);
    assert.match(r.out, /persistence_location \/var\/lib\/mosquitto\//);
  });
});
