/** Time and randomness are passed in so tests control them without mocking modules. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

export interface Random {
  bytes(length: number): Buffer;
}

import { randomBytes } from 'node:crypto';

export const systemRandom: Random = { bytes: (length) => randomBytes(length) };
