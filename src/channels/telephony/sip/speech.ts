import { spawn } from 'node:child_process';
import { TelephonyError } from '../provider.ts';
import { wavToPcmu } from './audio.ts';

export interface SpeechOptions {
  command: string;
  voice: string;
  wordsPerMinute: number;
}

/** More than this much speech is not a prompt: a guard against a runaway synthesiser. */
const MAX_WAV_BYTES = 8 * 1024 * 1024;
const TIMEOUT_MS = 20_000;

/**
 * Speaks `text` with espeak-ng into PCMU. The text goes in on stdin, never on the command line, so
 * an organisation name that starts with "-" cannot be read as an option.
 */
export function synthesize(text: string, options: SpeechOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const fail = (message: string, cause?: unknown) =>
      reject(new TelephonyError('sip_speech_failed', message, cause === undefined ? undefined : { cause }));
    const child = spawn(
      options.command,
      ['-v', options.voice, '-s', String(options.wordsPerMinute), '--stdout'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    let size = 0;
    let errors = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(`${options.command} took more than ${TIMEOUT_MS / 1000} s to speak the prompt`);
    }, TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_WAV_BYTES) child.kill('SIGKILL');
      else chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      if (errors.length < 1000) errors += chunk.toString('utf8');
    });
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (error.code === 'ENOENT') {
        reject(
          new TelephonyError(
            'sip_speech_unavailable',
            `the speech synthesiser "${options.command}" is not installed (Debian: apt-get install espeak-ng); SIP calls need it for the prompt`,
            { cause: error },
          ),
        );
      } else fail(`could not run ${options.command}: ${error.message}`, error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return fail(`${options.command} failed (exit ${code}): ${errors.trim().slice(0, 200)}`);
      try {
        const audio = wavToPcmu(Buffer.concat(chunks));
        if (audio.length === 0) return fail(`${options.command} produced no audio`);
        resolve(audio);
      } catch (error) {
        fail(`${options.command} produced unreadable audio: ${(error as Error).message}`, error);
      }
    });
    child.stdin.on('error', () => {});
    child.stdin.end(text);
  });
}

/**
 * Prompts cached per text: the message names the organisation and rarely changes, so each text is
 * spoken once per process. Failures are not cached (the next call tries again). A small bound
 * keeps a changing text from growing the cache without end.
 */
export function speechCache(options: SpeechOptions, maxEntries = 32) {
  const cache = new Map<string, Promise<Buffer>>();
  return (text: string): Promise<Buffer> => {
    const cached = cache.get(text);
    if (cached) return cached;
    const audio = synthesize(text, options);
    audio.catch(() => cache.delete(text));
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value as string);
    cache.set(text, audio);
    return audio;
  };
}
