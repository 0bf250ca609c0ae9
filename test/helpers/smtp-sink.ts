import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Postfix's smtp-sink, a real SMTP server (ESMTP, AUTH, pipelining) that writes each message it
 * accepts to a file of `dir`: started by the test as the current user on a port of its own.
 */
export interface SmtpSink {
  readonly port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * The messages received so far: each file's text (the envelope, then the message), its
   * quoted-printable soft line breaks and escapes decoded.
   */
  messages(): string[];
}

export function smtpSink(port: number, dir: string): SmtpSink {
  mkdirSync(dir, { recursive: true });
  let child: ChildProcess | undefined;
  return {
    port,
    async start() {
      if (child) return;
      // smtp-sink refuses to run as the super-user without -u: then it stays that user.
      const user = userInfo().uid === 0 ? ['-u', userInfo().username] : [];
      const started = spawn(
        '/usr/sbin/smtp-sink',
        [...user, '-d', `${dir}/%M.`, `127.0.0.1:${port}`, '100'],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      child = started;
      let errors = '';
      started.stderr?.on('data', (d) => (errors += d));
      for (let waited = 0; waited < 10_000; waited += 50) {
        if (await answers(port)) return;
        if (started.exitCode !== null) throw new Error(`smtp-sink exited: ${errors}`);
        await sleep(50);
      }
      throw new Error(`smtp-sink did not listen on ${port}: ${errors}`);
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      const gone = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await gone;
    },
    /**
     * The messages received so far. smtp-sink creates a message's file when the message begins and
     * writes it as it arrives, so a file still without the blank line after its headers (at first
     * empty) is one still being received: left for the next look.
     */
    messages() {
      return readdirSync(dir)
        .sort()
        .map((name) => readFileSync(join(dir, name), 'utf8'))
        .filter((text) => /\r?\n\r?\n/.test(text))
        .map(decodeQuotedPrintable);
    },
  };
}

function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('data', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function decodeQuotedPrintable(text: string): string {
  const bytes = text
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}
