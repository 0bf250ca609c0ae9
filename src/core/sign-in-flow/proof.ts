import type { SecondFactor } from './transitions.ts';

/**
 * What finishing a challenge (or a registration) earns: bound to the session that ran it and to
 * the challenge it answered. A method issues one only after claiming its challenge in one
 * conditional store update (an approved push, a confirmed call, a TOTP step), so a challenge
 * gives at most one proof; the flow redeems a proof once, for its own session only.
 */
export interface Proof {
  readonly sessionHash: string;
  readonly factor: SecondFactor;
  /** Further session factors it proves (a passkey: `user` and the phishing-resistant flag). */
  readonly also?: readonly string[];
  readonly purpose: 'sign_in' | 'registration';
  /** The challenge answered, e.g. `push:<request id>`: audited with the promotion. */
  readonly challenge: string;
}

// Proofs are plain frozen objects, but only those issued here are accepted, each once: a route
// cannot make one up, nor replay one.
const unredeemed = new WeakSet<Proof>();

export function issueProof(proof: Proof): Proof {
  const issued = Object.freeze({ ...proof });
  unredeemed.add(issued);
  return issued;
}

/** True once for a proof this module issued; false for a copy, a forgery or a second use. */
export function redeemProof(proof: Proof): boolean {
  return unredeemed.delete(proof);
}
