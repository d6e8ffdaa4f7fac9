// NOTIFICATION code/subcode names (RFC 4271 §4.5, RFC 4486, RFC 6608, RFC 7313) and helpers.
import type { BgpMessageError, NotificationMessage } from './types.ts';

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "UPDATE Message Error / Malformed AS_PATH" style name for a code/subcode. */
export function describeError(code: number, subcode: number): string {
  const c = CODE_NAMES[code] ?? `Unknown error code ${code}`;
  if (subcode === 0) return `${c} / Unspecific`;
  const s = SUBCODE_NAMES[code]?.[subcode] ?? `subcode ${subcode}`;
  return `${c} / ${s}`;
}

/** The NOTIFICATION to send for a BgpMessageError. */
export function notificationFromError(err: BgpMessageError): NotificationMessage {
  return { type: 'NOTIFICATION', code: err.code, subcode: err.subcode, data: err.data };
}
