// Builds the web console into console/dist (or another folder): one JavaScript bundle and one style
// sheet, named by their content hash so a browser never mixes an old script with a new page, and an
// index.html that refers to them. esbuild does the bundling (well under a second), so `npm start`
// can build every time and tests can build into a temporary folder of their own.
//
//   node --import tsx console/build.ts [--out DIR] [--dev]
import { build } from 'esbuild';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const consoleRoot = __dirname;
export const defaultOutDir = path.join(consoleRoot, 'dist');

export interface BuildResult {
  outDir: string;
  files: string[];
  bytes: number;
  ms: number;
}

function hashOf(data: Uint8Array | string): string {
  return crypto.createHash('sha256').update(data).digest('hex').slice(0, 10);
}

/** Writes a file through a temporary name and a rename, so a server never serves half a file. */
function writeAtomic(file: string, data: Uint8Array | string): void {
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  fs.writeFileSync(temp, data);
  fs.renameSync(temp, file);
}

export async function buildConsole(options: { outDir?: string; dev?: boolean } = {}): Promise<BuildResult> {
  const started = performance.now();
  const outDir = path.resolve(options.outDir ?? defaultOutDir);
  fs.mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: { app: path.join(consoleRoot, 'src', 'main.ts'), style: path.join(consoleRoot, 'src', 'styles.css') },
    bundle: true,
    write: false,
    outdir: outDir,
    format: 'iife',
    platform: 'browser',
    // Ward tablets run recent Chrome/Safari; nothing older needs supporting.
    target: ['chrome100', 'safari15', 'firefox100', 'edge100'],
    minify: !options.dev,
    sourcemap: options.dev ? 'inline' : false,
    legalComments: 'none',
    logLevel: 'silent',
    charset: 'utf8',
    define: { 'process.env.NODE_ENV': options.dev ? '"development"' : '"production"' },
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('app.js'));
  const css = result.outputFiles.find((f) => f.path.endsWith('style.css'));
  if (!js || !css) throw new Error(`console build produced ${result.outputFiles.map((f) => path.basename(f.path)).join(', ')}; expected app.js and style.css`);
  const jsName = `app-${hashOf(js.contents)}.js`;
  const cssName = `app-${hashOf(css.contents)}.css`;
  writeAtomic(path.join(outDir, jsName), js.contents);
  writeAtomic(path.join(outDir, cssName), css.contents);
  const template = fs.readFileSync(path.join(consoleRoot, 'src', 'index.html'), 'utf8');
  const html = template.replace('%STYLE%', `/${cssName}`).replace('%SCRIPT%', `/${jsName}`);
  fs.copyFileSync(path.join(consoleRoot, 'src', 'favicon.svg'), path.join(outDir, 'favicon.svg'));
  writeAtomic(path.join(outDir, 'index.html'), html);
  removeStaleAssets(outDir, new Set([jsName, cssName]));
  return { outDir, files: ['index.html', jsName, cssName, 'favicon.svg'], bytes: js.contents.length + css.contents.length + html.length, ms: Math.round(performance.now() - started) };
}

/**
 * Old hashed bundles are kept for a day (a page loaded before a restart may still ask for its own
 * script), then removed so the folder does not grow with every start.
 */
function removeStaleAssets(outDir: string, current: Set<string>): void {
  const dayAgo = Date.now() - 86_400_000;
  for (const name of fs.readdirSync(outDir)) {
    if (!/^app-[0-9a-f]{10}\.(js|css)$/.test(name) || current.has(name)) continue;
    const file = path.join(outDir, name);
    if (fs.statSync(file).mtimeMs < dayAgo) fs.rmSync(file, { force: true });
  }
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf('--out');
  buildConsole({ outDir: outIndex >= 0 ? args[outIndex + 1] : undefined, dev: args.includes('--dev') })
    .then((r) => process.stdout.write(`console built in ${r.ms} ms → ${path.relative(process.cwd(), r.outDir) || '.'} (${Math.round(r.bytes / 1024)} KiB)\n`))
    .catch((error) => {
      process.stderr.write(`console build failed: ${error.message}\n`);
      process.exit(1);
    });
}
