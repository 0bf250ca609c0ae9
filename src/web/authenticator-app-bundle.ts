import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { distDir, projectRoot, runningFromSources } from '../paths.ts';

/**
 * The authenticator web app's files (src/authenticator/app). The build (`npm run build`, run by
 * `npm install`) bundles them with esbuild into dist/authenticator-app, and the built server only
 * reads them from there: no bundler runs in the server. Code running from the TypeScript sources
 * (tests, benchmarks) bundles them in memory instead, the first time they are asked for, so that
 * an edit of the app is never hidden by an older build. One build serves every portal in the
 * process.
 */

export const appSourceDir = join(projectRoot, 'src', 'authenticator', 'app');
const prebuiltDir = join(distDir, 'authenticator-app');
const prebuiltIndex = join(prebuiltDir, 'index.json');

interface PrebuiltEntry {
  file: string;
  contentType: string;
}

export interface AppFile {
  body: Buffer;
  contentType: string;
  etag: string;
}

export type AppFiles = Record<string, AppFile>;

let building: Promise<AppFiles> | undefined;

export function authenticatorAppFiles(): Promise<AppFiles> {
  building ??= (runningFromSources ? buildFiles() : readPrebuilt()).catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

function file(body: Buffer | string, contentType: string): AppFile {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return {
    body: bytes,
    contentType,
    etag: `"${createHash('sha256').update(bytes).digest('base64url').slice(0, 27)}"`,
  };
}

/** Writes the app's files where the built server reads them (called by scripts/build.ts). */
export async function writePrebuiltApp(): Promise<void> {
  await rm(prebuiltDir, { recursive: true, force: true });
  await mkdir(prebuiltDir, { recursive: true });
  const index: Record<string, PrebuiltEntry> = {};
  for (const [path, { body, contentType }] of Object.entries(await buildFiles())) {
    const name = path === '/authenticator/' ? 'index.html' : path.slice('/authenticator/'.length);
    await writeFile(join(prebuiltDir, name), body);
    index[path] = { file: name, contentType };
  }
  await writeFile(prebuiltIndex, JSON.stringify(index, null, 2));
}

async function readPrebuilt(): Promise<AppFiles> {
  let index: Record<string, PrebuiltEntry>;
  try {
    index = JSON.parse(await readFile(prebuiltIndex, 'utf8')) as Record<string, PrebuiltEntry>;
  } catch {
    throw new Error(`the authenticator app is not built (${prebuiltIndex} is missing): run npm run build`);
  }
  const files: AppFiles = {};
  for (const [path, entry] of Object.entries(index)) {
    files[path] = file(await readFile(join(prebuiltDir, entry.file)), entry.contentType);
  }
  return files;
}

async function bundle(entry: string, format: 'esm' | 'iife', define: Record<string, string> = {}) {
  // Imported here, so that a portal that never serves the app never starts esbuild.
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [join(appSourceDir, entry)],
    bundle: true,
    write: false,
    format,
    target: ['es2022', 'chrome100', 'safari16', 'firefox110'],
    minify: true,
    legalComments: 'none',
    define,
    logLevel: 'silent',
  });
  const output = result.outputFiles[0];
  if (!output) throw new Error(`esbuild produced nothing for ${entry}`);
  return Buffer.from(output.contents);
}

async function buildFiles(): Promise<AppFiles> {
  const [appJs, html, css] = await Promise.all([
    bundle('main.ts', 'esm'),
    readFile(join(appSourceDir, 'index.html')),
    readFile(join(appSourceDir, 'app.css')),
  ]);
  const files: AppFiles = {
    '/authenticator/': file(html, 'text/html; charset=utf-8'),
    '/authenticator/app.js': file(appJs, 'text/javascript; charset=utf-8'),
    '/authenticator/app.css': file(css, 'text/css; charset=utf-8'),
    '/authenticator/manifest.webmanifest': file(
      JSON.stringify(manifest(), null, 2),
      'application/manifest+json',
    ),
    '/authenticator/icon.svg': file(ICON_SVG, 'image/svg+xml'),
    '/authenticator/icon-192.png': file(iconPng(192), 'image/png'),
    '/authenticator/icon-512.png': file(iconPng(512), 'image/png'),
  };
  // The service worker names its cache after everything it keeps, so that a new version of any
  // of them makes a new worker (browsers compare the worker's bytes) that replaces the cache.
  const version = createHash('sha256')
    .update(
      Object.values(files)
        .map((f) => f.etag)
        .join(),
    )
    .digest('base64url')
    .slice(0, 16);
  files['/authenticator/sw.js'] = file(
    await bundle('sw.ts', 'iife', { __SHELL_VERSION__: JSON.stringify(version) }),
    'text/javascript; charset=utf-8',
  );
  return files;
}

function manifest() {
  return {
    name: 'Gatehouse Authenticator',
    short_name: 'Authenticator',
    description: 'Approve sign-ins and get verification codes for your Gatehouse accounts.',
    id: '/authenticator/',
    start_url: '/authenticator/',
    scope: '/authenticator/',
    display: 'standalone',
    orientation: 'portrait',
    background_color: '#ffffff',
    theme_color: '#005eb8',
    icons: [
      { src: '/authenticator/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
      { src: '/authenticator/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
      { src: '/authenticator/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
      { src: '/authenticator/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// The icon: a white tick in a white ring on the portal's blue, as SVG and as PNG (drawn here, so
// that no image file or image library is needed).

const BLUE = [0x00, 0x5e, 0xb8] as const;

export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100">
<rect width="100" height="100" fill="#005eb8"/>
<circle cx="50" cy="50" r="27" fill="none" stroke="#fff" stroke-width="6"/>
<path d="M38 51 L47 60 L63 41" fill="none" stroke="#fff" stroke-width="7" stroke-linecap="round" stroke-linejoin="round"/>
</svg>
`;

function distanceToSegment(px: number, py: number, ax: number, ay: number, bx: number, by: number) {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** How white the icon is at (x, y) in 0..100 units, 0 to 1 (the same shapes as the SVG). */
function whiteness(x: number, y: number, unit: number): number {
  const ring = Math.abs(Math.hypot(x - 50, y - 50) - 27) - 3;
  const tick =
    Math.min(distanceToSegment(x, y, 38, 51, 47, 60), distanceToSegment(x, y, 47, 60, 63, 41)) - 3.5;
  const edge = Math.min(ring, tick);
  return Math.max(0, Math.min(1, 0.5 - edge / unit));
}

/** The 256 CRC-32 remainders, 4 octets each (a Buffer, so a lookup is a typed, range-checked read). */
const CRC_TABLE = Buffer.alloc(256 * 4);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE.writeUInt32BE(c >>> 0, 4 * n);
}

function crc32(bytes: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = CRC_TABLE.readUInt32BE(4 * ((crc ^ byte) & 0xff)) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typed = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typed));
  return Buffer.concat([length, typed, crc]);
}

export function iconPng(size: number): Buffer {
  const unit = 100 / size;
  const rows: Buffer[] = [];
  for (let py = 0; py < size; py++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let px = 0; px < size; px++) {
      const w = whiteness((px + 0.5) * unit, (py + 0.5) * unit, unit);
      for (const [c, blue] of BLUE.entries()) row[1 + px * 3 + c] = Math.round(blue * (1 - w) + 255 * w);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
