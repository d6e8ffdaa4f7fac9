// Operational errors of the RIB: bad configuration or a caller breaking the contract.
// Protocol errors (malformed UPDATEs) never reach the RIB: the codec turns them into
// BgpMessageError / treat-as-withdraw before the speaker calls us.

export const RIB_ERROR = {
  /** A prefix string that is not canonical CIDR text of a known family. */
  INVALID_PREFIX: 'rib-invalid-prefix',
  /** An address (next hop, router id, peer address) that does not parse. */
  INVALID_ADDRESS: 'rib-invalid-address',
  /** A peer id that was never added (or was removed). */
  UNKNOWN_PEER: 'rib-unknown-peer',
  /** Adding a peer id twice. */
  DUPLICATE_PEER: 'rib-duplicate-peer',
  /** Feeding routes for a peer whose session is not established. */
  PEER_NOT_ESTABLISHED: 'rib-peer-not-established',
  /** A BGPFilter (or other policy input) that does not validate. */
  INVALID_POLICY: 'rib-invalid-policy',
  /** Bad RIB or peer options. */
  INVALID_CONFIG: 'rib-invalid-config',
} as const;
export type RibErrorCode = (typeof RIB_ERROR)[keyof typeof RIB_ERROR];

export class RibError extends Error {
  readonly code: RibErrorCode;
  constructor(code: RibErrorCode, message: string) {
    super(message);
    this.name = 'RibError';
    this.code = code;
  }
}
