// The console's build and sources: the bundle and its index.html, the browser code typechecks with
// the DOM library, and every string the pages ask for exists in both dictionaries.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { buildConsole } from '../../console/build';
import { en } from '../../console/src/i18n/en';
import { vi } from '../../console/src/i18n/vi';
import { tempDir } from '../helpers/engine';

const root = path.resolve(__dirname, '..', '..');
const srcDir = path.join(root, 'console', 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

describe('console build and sources', function () {
  this.timeout(120_000);

  it('builds index.html, a hashed script and style sheet; the same sources give the same names', async () => {
    const out = tempDir('hisbridge-console-build-');
    try {
      const first = await buildConsole({ outDir: out });
      const html = fs.readFileSync(path.join(out, 'index.html'), 'utf8');
      const script = /<script src="\/(app-[0-9a-f]{10}\.js)" defer>/.exec(html)?.[1];
      const style = /<link rel="stylesheet" href="\/(app-[0-9a-f]{10}\.css)">/.exec(html)?.[1];
      assert.ok(script && style, html);
      assert.ok(fs.statSync(path.join(out, script)).size > 10_000);
      assert.ok(fs.existsSync(path.join(out, style)));
      assert.ok(fs.existsSync(path.join(out, 'favicon.svg')));
      assert.match(html, /<html lang="vi">/);
      assert.doesNotMatch(html, /%SCRIPT%|%STYLE%/);
      const second = await buildConsole({ outDir: out });
      assert.deepEqual(second.files, first.files);
      assert.equal(fs.readdirSync(out).filter((f) => f.endsWith('.js')).length, 1);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('loads nothing from another host: no CDN URL in the bundle or the page', async () => {
    const out = tempDir('hisbridge-console-build-');
    try {
      await buildConsole({ outDir: out });
      for (const file of fs.readdirSync(out)) {
        const text = fs.readFileSync(path.join(out, file), 'utf8');
        // The only absolute URL allowed is the SVG namespace identifier (never fetched).
        const urls = (text.match(/https?:\/\/[^\s"'`)]+/g) ?? []).filter((u) => u !== 'http://www.w3.org/2000/svg');
        assert.deepEqual(urls, [], `${file} refers to ${urls.join(', ')}`);
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('the browser code typechecks (strict, DOM library, unused code refused)', () => {
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', path.join(root, 'console', 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      assert.fail(`console typecheck failed:\n${(error as { stdout?: string }).stdout}`);
    }
  });

  it('both dictionaries have the same keys, none empty, and every key the pages use exists', () => {
    assert.deepEqual(Object.keys(en).sort(), Object.keys(vi).sort());
    for (const [key, text] of [...Object.entries(vi), ...Object.entries(en)]) assert.ok(text.trim().length > 0, `empty text for ${key}`);
    // Placeholders match between the languages.
    for (const key of Object.keys(vi) as Array<keyof typeof vi>) {
      const names = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort().join(',');
      assert.equal(names(en[key]), names(vi[key]), `placeholders of ${key}`);
    }
    const used = new Set<string>();
    // The console's own sources; pages other areas add (console/src/emr/…) bring their own strings,
    // which addStrings checks for both languages when the page is registered.
    const own = ['core', 'components', 'pages', 'i18n'].flatMap((d) => sources(path.join(srcDir, d))).concat(path.join(srcDir, 'main.ts'));
    for (const file of own) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of text.matchAll(/\bt\('([a-zA-Z0-9_.]+)'/g)) used.add(m[1]);
      for (const m of text.matchAll(/titleKey: '([a-zA-Z0-9_.]+)'/g)) used.add(m[1]);
      for (const m of text.matchAll(/\? '([a-z]+\.[a-zA-Z0-9_.]+)' : '([a-z]+\.[a-zA-Z0-9_.]+)'/g)) used.add(m[1]).add(m[2]);
    }
    // Keys built from values: every value they can take.
    const families: Record<string, string[]> = {
      state: ['started', 'paused', 'stopped', 'failed', 'undeployed', 'RECEIVED', 'FILTERED', 'QUEUED', 'SENT', 'ERROR', 'DEAD', 'DISCARDED', 'connected', 'listening', 'idle', 'error'],
      counter: ['received', 'filtered', 'queued', 'sent', 'errored', 'retried', 'dead'],
      role: ['admin', 'operator', 'viewer', 'clinician', 'admin.may', 'operator.may', 'viewer.may', 'clinician.may'],
      'nav.section': ['operate', 'devices', 'clinical', 'admin', 'account'],
      'channels.action': ['deploy', 'redeploy', 'undeploy', 'pause', 'resume'],
      'channels.done': ['deploy', 'undeploy', 'pause', 'resume'],
      storage: ['full', 'raw', 'metadata'],
      severity: ['warning', 'critical'],
      format: ['hl7v2', 'astm', 'dicom', 'json', 'xml', 'text', 'binary'],
      'devices.kind': ['analysers', 'modalities', 'hl7', 'mqtt', 'his', 'other'],
      language: ['vi', 'en', 'label'],
      'claims.status': ['invalid', 'ready', 'sending', 'accepted', 'rejected', 'failed', 'unconfirmed'],
      'claims.severity': ['error', 'warning'],
      'devices.status': ['registered', 'discovered', 'retired'],
      'devices.sim.kind': ['analyzer', 'modality', 'monitors'],
      'channel.window': ['15m', '1h', '24h'],
    };
    for (const [prefix, values] of Object.entries(families)) for (const v of values) used.add(`${prefix}.${v}`);
    const missing = [...used].filter((k) => !(k in vi));
    assert.deepEqual(missing, [], 'keys used by the pages but missing from the dictionaries');
    assert.ok(used.size > 250, `found ${used.size} keys in use`);
  });
});
