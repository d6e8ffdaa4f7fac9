import type { ByteReader, ByteWriter } from './bytes.ts';
import type { Capability, CapabilityKind, OpenMessage } from './types.ts';
const ni = (): never => { throw new Error('not implemented'); };
/** Decode the capabilities of one Capabilities optional parameter value. */
export function decodeCapabilities(reader: ByteReader): Capability[] { void reader; return ni(); }
/** Encode one capability (code, length, value). */
export function encodeCapability(writer: ByteWriter, cap: Capability): void { void writer; void cap; ni(); }
/** The peer's real AS: the FOUR_OCTET_AS capability's AS if present, else OPEN's myAs. */
export function openPeerAs(open: OpenMessage): number { void open; return ni(); }
/** First capability of a kind in an OPEN, typed. */
export function findCapability<K extends CapabilityKind>(open: OpenMessage, kind: K): Extract<Capability, { kind: K }> | undefined { void open; void kind; return ni(); }
