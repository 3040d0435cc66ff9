// Who may associate and what they may do: calling AE title + source address against the configured
// remotes, called AE title against ours, then presentation contexts against the enabled services.
import net from 'node:net';
import type { Association } from './dimse/library';
import type { NegotiationOutcome } from './dimse/acceptor';
import type { PeerAddress } from './dimse/connection';
import { ContextResult, Reject, SopClass, defaultServiceTransferSyntaxes, storageSopClasses } from './dimse/uids';
import type { DicomSourceConfig, RemoteAe, ServiceName } from './config';

export interface PolicyDecision {
  outcome: NegotiationOutcome;
  remote?: RemoteAe;
  /** Context results, for the log: abstract syntax → accepted transfer syntax or reason. */
  contexts: Array<{ id: number; abstractSyntax: string; result: number; transferSyntax?: string }>;
}

export class AePolicy {
  private readonly storageClasses: Set<string>;

  constructor(private readonly config: DicomSourceConfig) {
    this.storageClasses = new Set(config.storage.sopClasses === 'all' ? storageSopClasses : config.storage.sopClasses);
  }

  remoteFor(aeTitle: string): RemoteAe | undefined {
    return this.config.remotes.find((r) => r.aeTitle.trim() === aeTitle.trim());
  }

  decide(association: Association, peer: PeerAddress, openAssociations: number): PolicyDecision {
    const calling = association.getCallingAeTitle().trim();
    const called = association.getCalledAeTitle().trim();
    const reject = (result: number, source: number, reason: number, why: string): PolicyDecision => ({
      outcome: { accept: false, result, source, reason, why },
      contexts: [],
    });
    if (!this.config.acceptAnyCalledAe && called !== this.config.aeTitle.trim()) {
      return reject(Reject.ResultPermanent, Reject.SourceServiceUser, Reject.ReasonCalledAeNotRecognized, `called AE title "${called}" is not ours ("${this.config.aeTitle}")`);
    }
    const remote = this.remoteFor(calling);
    if (!remote && !this.config.allowUnknownAes) {
      return reject(Reject.ResultPermanent, Reject.SourceServiceUser, Reject.ReasonCallingAeNotRecognized, `calling AE title "${calling}" from ${peer.address} is not a configured remote AE`);
    }
    if (remote?.addresses && !remote.addresses.some((allowed) => addressMatches(peer.address, allowed))) {
      return reject(
        Reject.ResultPermanent,
        Reject.SourceServiceUser,
        Reject.ReasonCallingAeNotRecognized,
        `calling AE title "${calling}" is not allowed from ${peer.address} (allowed: ${remote.addresses.join(', ')})`,
      );
    }
    if (remote?.tlsSubjects && !(peer.tlsSubject && remote.tlsSubjects.includes(peer.tlsSubject))) {
      return reject(
        Reject.ResultPermanent,
        Reject.SourceServiceUser,
        Reject.ReasonCallingAeNotRecognized,
        `calling AE title "${calling}" ${peer.tlsSubject ? `came with certificate CN=${peer.tlsSubject}` : 'came without a client certificate'} (allowed: ${remote.tlsSubjects.join(', ')})`,
      );
    }
    if (openAssociations > this.config.maxAssociations) {
      return reject(Reject.ResultTransient, Reject.SourceServiceProviderPresentation, Reject.ReasonLocalLimitExceeded, `${openAssociations - 1} associations already open (limit ${this.config.maxAssociations})`);
    }
    const allowed = new Set<ServiceName>(remote?.services ?? ['echo', 'worklist', 'mpps', 'store', 'commitment']);
    const contexts: PolicyDecision['contexts'] = [];
    let accepted = 0;
    for (const { id, context } of association.getPresentationContexts()) {
      const abstractSyntax = context.getAbstractSyntaxUid();
      const service = this.serviceFor(abstractSyntax);
      const proposed = context.getTransferSyntaxUids();
      if (!service || !allowed.has(service)) {
        context.setResult(ContextResult.AbstractSyntaxNotSupported);
        contexts.push({ id, abstractSyntax, result: ContextResult.AbstractSyntaxNotSupported });
        continue;
      }
      const preference = service === 'store' ? this.config.storage.transferSyntaxes : defaultServiceTransferSyntaxes;
      const chosen = preference.find((ts) => proposed.includes(ts));
      if (!chosen) {
        context.setResult(ContextResult.TransferSyntaxesNotSupported);
        contexts.push({ id, abstractSyntax, result: ContextResult.TransferSyntaxesNotSupported });
        continue;
      }
      // A role-selection proposal (the requestor's own SCU/SCP roles) is echoed as proposed by the PDU writer.
      context.setResult(ContextResult.Accept, chosen);
      contexts.push({ id, abstractSyntax, result: ContextResult.Accept, transferSyntax: chosen });
      accepted++;
    }
    if (accepted === 0 && contexts.length > 0) {
      // PS3.8 allows accepting with every context rejected; peers then fail with a vague error. Say why instead.
      return {
        outcome: {
          accept: false,
          result: Reject.ResultPermanent,
          source: Reject.SourceServiceUser,
          reason: Reject.ReasonNoReasonGiven,
          why: `no proposed presentation context is supported (${contexts.map((c) => c.abstractSyntax).join(', ')})`,
        },
        remote,
        contexts,
      };
    }
    return { outcome: { accept: true }, remote, contexts };
  }

  serviceFor(abstractSyntax: string): ServiceName | undefined {
    const c = this.config;
    if (abstractSyntax === SopClass.Verification) return 'echo';
    if (abstractSyntax === SopClass.ModalityWorklistFind) return c.worklist.enabled ? 'worklist' : undefined;
    if (abstractSyntax === SopClass.ModalityPerformedProcedureStep) return c.mpps.enabled ? 'mpps' : undefined;
    if (abstractSyntax === SopClass.StorageCommitmentPushModel) return c.commitment.enabled && c.storage.enabled ? 'commitment' : undefined;
    if (c.storage.enabled && this.storageClasses.has(abstractSyntax)) return 'store';
    return undefined;
  }

  /** Whether a remote may use a service (used again per request: contexts can be shared). */
  allows(remote: RemoteAe | undefined, service: ServiceName): boolean {
    return !remote?.services || remote.services.includes(service);
  }
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.5`) compares as IPv4; `a.b.c.d/n` is an IPv4 CIDR block. */
export function addressMatches(address: string, allowed: string): boolean {
  const a = normaliseAddress(address);
  const spec = allowed.trim();
  if (spec === '*' || spec === '0.0.0.0/0') return true;
  const slash = spec.indexOf('/');
  if (slash > 0 && net.isIPv4(spec.slice(0, slash)) && net.isIPv4(a)) {
    const bits = Number(spec.slice(slash + 1));
    if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
    const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    return (ipv4ToInt(a) & mask) === (ipv4ToInt(spec.slice(0, slash)) & mask);
  }
  return normaliseAddress(spec) === a;
}

function normaliseAddress(address: string): string {
  const lower = address.trim().toLowerCase();
  return lower.startsWith('::ffff:') && net.isIPv4(lower.slice(7)) ? lower.slice(7) : lower;
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => ((acc << 8) | Number(part)) >>> 0, 0);
}
