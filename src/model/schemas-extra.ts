// Hand-written structural schemas for the kinds Calico defines only as Go types (no CRD):
// Node and WorkloadEndpoint (libcalico-go internalapi) and Profile (api v3). Same SchemaNode
// shape as the generated CRD tables; semantic checks live in validate-*.ts.
import type { SchemaNode } from './schema.ts';
import { globalNetworkPolicySchema } from './schemas/globalnetworkpolicies.ts';

const str: SchemaNode = { type: 'string' };
const strList: SchemaNode = { type: 'array', items: str };
const strMap: SchemaNode = { type: 'object', additionalProperties: str };
const int64: SchemaNode = { type: 'integer', format: 'int64' };
const asNumber: SchemaNode = { intOrString: true, format: 'asnumber' };
const rules = globalNetworkPolicySchema.properties!.spec!.properties!.ingress!;

export const nodeSchema: SchemaNode = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      properties: {
        bgp: {
          type: 'object',
          properties: {
            asNumber,
            ipv4Address: str,
            ipv6Address: str,
            ipv4IPIPTunnelAddr: str,
            routeReflectorClusterID: str,
          },
        },
        ipv4VXLANTunnelAddr: str,
        vxlanTunnelMACAddr: str,
        ipv6VXLANTunnelAddr: str,
        vxlanTunnelMACAddrV6: str,
        orchRefs: {
          type: 'array',
          items: { type: 'object', properties: { nodeName: str, orchestrator: str } },
        },
        wireguard: { type: 'object', properties: { interfaceIPv4Address: str, interfaceIPv6Address: str } },
        addresses: {
          type: 'array',
          items: { type: 'object', properties: { address: str, type: { type: 'string', enum: ['InternalIP', 'ExternalIP', 'CalicoNodeIP'] } }, required: ['address'] },
        },
        interfaces: { type: 'array', items: { type: 'object', properties: { name: str, addresses: strList } } },
      },
    },
    status: {
      type: 'object',
      properties: { wireguardPublicKey: str, wireguardPublicKeyV6: str, podCIDRs: strList },
    },
  },
};

export const workloadEndpointSchema: SchemaNode = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: {
      type: 'object',
      properties: {
        orchestrator: str,
        workload: str,
        node: str,
        containerID: str,
        pod: str,
        endpoint: str,
        serviceAccountName: str,
        ipNetworks: strList,
        ipNATs: { type: 'array', items: { type: 'object', properties: { internalIP: str, externalIP: str } } },
        ipv4Gateway: str,
        ipv6Gateway: str,
        profiles: strList,
        interfaceName: str,
        mac: str,
        ports: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: str,
              protocol: { intOrString: true },
              port: { type: 'integer', minimum: 0, maximum: 65535 },
              hostPort: { type: 'integer', minimum: 0, maximum: 65535 },
              hostIP: str,
            },
          },
        },
        allowSpoofedSourcePrefixes: strList,
        qosControls: {
          type: 'object',
          properties: {
            ingressBandwidth: int64, ingressBurst: int64, ingressPeakrate: int64, ingressMinburst: int64,
            egressBandwidth: int64, egressBurst: int64, egressPeakrate: int64, egressMinburst: int64,
            ingressPacketRate: int64, ingressPacketBurst: int64, egressPacketRate: int64, egressPacketBurst: int64,
            ingressMaxConnections: int64, egressMaxConnections: int64,
            dscp: { intOrString: true },
          },
        },
      },
    },
  },
};

export const profileSchema: SchemaNode = {
  type: 'object',
  properties: {
    metadata: { type: 'object' },
    spec: { type: 'object', properties: { ingress: rules, egress: rules, labelsToApply: strMap } },
  },
};

/** Places where Calico's Go types accept more than the CRD's structural type says. */
export const AS_NUMBER_PATHS: readonly (readonly string[])[] = [
  ['BGPConfiguration', 'spec', 'asNumber'],
  ['BGPPeer', 'spec', 'asNumber'],
  ['BGPPeer', 'spec', 'localASNumber'],
];
export const asNumberSchema = asNumber;
