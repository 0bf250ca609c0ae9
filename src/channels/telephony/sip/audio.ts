/**
 * The prompt's audio as telephones carry it: 8 kHz mono G.711 μ-law (PCMU, RTP payload type 0),
 * made from the synthesiser's WAV. Small pure functions, tested against the standard's values.
 */

/** G.711 μ-law bias and clip level (ITU-T G.711, as in the reference implementations). */
const BIAS = 0x84;
const CLIP = 32635;

/** One 16-bit linear sample to its μ-law byte: sign, 3-bit segment, 4-bit step, all inverted. */
export function linearToMulaw(sample: number): number {
  let value = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = value < 0 ? 0x80 : 0;
  if (sign) value = -value;
  value = Math.min(value, CLIP) + BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (value & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (value >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** The μ-law byte back to linear (for tests and for checking what a peer sent). */
export function mulawToLinear(byte: number): number {
  const inverted = ~byte & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const magnitude = ((((inverted & 0x0f) << 3) + BIAS) << exponent) - BIAS;
  return inverted & 0x80 ? -magnitude : magnitude;
}

export function encodeMulaw(samples: Int16Array | Float64Array): Buffer {
  const out = Buffer.alloc(samples.length);
  for (const [i, sample] of samples.entries()) out[i] = linearToMulaw(sample);
  return out;
}

/** μ-law silence: linear 0. */
export const MULAW_SILENCE = 0xff;

export interface Pcm {
  sampleRate: number;
  /** Mono, 16-bit range. */
  samples: Int16Array;
}

/**
 * A RIFF/WAVE file of 16-bit PCM, mixed down to mono. espeak-ng writing to a pipe cannot know the
 * length in advance and puts 0x7ffff000 in the data chunk's size, so a size past the end of the
 * buffer means "to the end".
 */
export function parseWav(wav: Buffer): Pcm {
  if (wav.length < 12 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('not a WAV file');
  }
  let offset = 12;
  let format: { channels: number; sampleRate: number; bits: number; tag: number } | undefined;
  while (offset + 8 <= wav.length) {
    const id = wav.toString('ascii', offset, offset + 4);
    const size = wav.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ' && body + 16 <= wav.length) {
      format = {
        tag: wav.readUInt16LE(body),
        channels: wav.readUInt16LE(body + 2),
        sampleRate: wav.readUInt32LE(body + 4),
        bits: wav.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      if (format?.tag !== 1 || format.bits !== 16 || format.channels < 1) {
        throw new Error('only 16-bit PCM WAV is supported');
      }
      const end = Math.min(wav.length, body + size);
      const frames = Math.floor((end - body) / (2 * format.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < format.channels; c++)
          sum += wav.readInt16LE(body + 2 * (i * format.channels + c));
        samples[i] = Math.round(sum / format.channels);
      }
      return { sampleRate: format.sampleRate, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('the WAV file has no data');
}

/**
 * Band-limited resampling (a Hann-windowed sinc): espeak-ng speaks at 22 050 Hz, the telephone at
 * 8 000 Hz, and simply dropping samples would fold everything above 4 kHz back as hiss.
 */
export function resample(input: Int16Array, fromRate: number, toRate: number): Float64Array {
  if (fromRate === toRate) return Float64Array.from(input);
  const ratio = toRate / fromRate;
  // The low-pass cutoff, in cycles per input sample: just under the lower Nyquist frequency.
  const cutoff = 0.5 * Math.min(1, ratio) * 0.92;
  const halfWidth = Math.ceil(8 / (2 * cutoff));
  const output = new Float64Array(Math.floor(input.length * ratio));
  for (let n = 0; n < output.length; n++) {
    const centre = n / ratio;
    const first = Math.max(0, Math.ceil(centre - halfWidth));
    const last = Math.min(input.length - 1, Math.floor(centre + halfWidth));
    let sum = 0;
    let weights = 0;
    for (const [j, sample] of input.subarray(first, last + 1).entries()) {
      const d = centre - (first + j);
      const x = 2 * cutoff * d;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const window = 0.5 + 0.5 * Math.cos((Math.PI * d) / halfWidth);
      const weight = sinc * window;
      sum += sample * weight;
      weights += weight;
    }
    output[n] = weights === 0 ? 0 : sum / weights;
  }
  return output;
}

/** The synthesiser's WAV as PCMU at 8 kHz, ready to cut into 160-byte (20 ms) RTP payloads. */
export function wavToPcmu(wav: Buffer): Buffer {
  const pcm = parseWav(wav);
  return encodeMulaw(resample(pcm.samples, pcm.sampleRate, 8000));
}
